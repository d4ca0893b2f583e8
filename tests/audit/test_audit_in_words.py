"""The audit log in words: each entry a sentence in the reader's language, filterable by meeting, person and
action, a page at a time, with the raw entry one tap away; only the readers the audit policy names."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from ecabinet.audit import policy, service
from ecabinet.audit.models import AuditEntry
from ecabinet.core.actor import Actor
from ecabinet.core.roles import Role
from ecabinet.extensions import db
from tests.conftest import PASSWORD, ROOT
from tests.helpers import csrf_from, login
from tests.live.conftest import in_session  # noqa: F401 - fixtures reused here
from tests.meetings.conftest import actor
from tests.voting.conftest import cvid, live_open, quorate  # noqa: F401 - fixtures reused here

SENTENCE = re.compile(r'<p class="audit-sentence">(.*?)</p>', re.S)
ACTION = re.compile(r'data-testid="audit-entry" data-action="([^"]+)"')
ARTIFACTS = ROOT / "tests" / "artifacts"


def _sentences(page: str) -> list[str]:
    return [html.unescape(s) for s in SENTENCE.findall(page)]


@pytest.fixture
def meeting_with_a_vote(live_open, cabinet):  # noqa: F811
    """A meeting in session whose live vote three members cast and the chair closed: the demo's kinds of
    entries (accounts, meeting, agenda, attendance, vote) recorded by the services themselves."""
    from ecabinet.voting import service as voting

    for who in ("chair", "member", "member2"):
        voting.cast_vote(actor(cabinet[who]), live_open.id, "approve", cvid())
    voting.close_ballot(actor(cabinet["chair"]), voting.get_ballot(live_open.id))
    db.session.commit()
    return live_open


@pytest.fixture
def reader(client, users):
    """Whoever the audit policy lets read the log today."""
    admin = users[Role.ADMIN.value]
    assert policy.can_view_audit(admin)
    login(client, admin.email, PASSWORD)
    return client


def test_each_entry_reads_as_a_sentence_without_raw_codes(reader, meeting_with_a_vote, cabinet):
    page = reader.get("/admin/audit/").get_data(as_text=True)
    sentences = _sentences(page)
    actions = ACTION.findall(page)
    assert len(sentences) == len(actions) > 10
    for action, sentence in zip(actions, sentences, strict=True):
        assert action not in sentence, sentence  # no "vote.cast", "ballot.open"… in the words
        assert "thực hiện «" not in sentence, f"{action} has no sentence of its own: {sentence}"
        assert "{" not in sentence and "%(" not in sentence, sentence
    said = "\n".join(sentences)
    # Who did it, by name, and what, in Vietnamese.
    assert f"{cabinet['chair'].name} mở biểu quyết" in said
    assert f"{cabinet['member'].name} bỏ phiếu ở biểu quyết" in said
    assert f"{cabinet['chair'].name} đóng biểu quyết" in said
    assert f"{cabinet['secretary'].name} tạo phiên họp «Phiên họp Chính phủ thường kỳ»" in said
    assert f"{cabinet['secretary'].name} thêm mục «Decision A» vào chương trình" in said
    assert "đăng nhập" in said
    # The raw entry is one tap away, with its hash.
    head = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert '<details class="audit-raw">' in page and head.hash in page
    # The chain's verification status is still shown.
    assert 'data-testid="chain-status"' in page and "Chuỗi kiểm toán hợp lệ" in page


def test_the_words_follow_the_readers_language(reader, meeting_with_a_vote, cabinet):
    reader.post("/language/en", data={"csrf_token": csrf_from(reader.get("/").get_data(as_text=True))})
    said = "\n".join(_sentences(reader.get("/admin/audit/").get_data(as_text=True)))
    assert f"{cabinet['chair'].name} opened the vote" in said
    assert f"{cabinet['member'].name} voted in the vote" in said


def test_a_vote_entry_never_tells_the_choice(reader, meeting_with_a_vote):
    page = reader.get("/admin/audit/?action=vote.cast").get_data(as_text=True)
    assert set(ACTION.findall(page)) == {"vote.cast"}
    entries = page[page.index('class="audit-list"'):]
    assert "approve" not in entries and "tán thành" not in entries.lower()


def test_an_unknown_action_still_reads_as_words(reader, users):
    service.record(Actor(users["secretary"], "127.0.0.1"), "widget.polish", object_type="ballot", object_id=12)
    db.session.commit()
    said = _sentences(reader.get("/admin/audit/?action=widget").get_data(as_text=True))
    assert said == [f"{users['secretary'].name} thực hiện «widget.polish» trên biểu quyết số 12"]


def test_filters_by_meeting_person_and_action(reader, meeting_with_a_vote, cabinet, users):
    meeting_id = meeting_with_a_vote.meeting_id
    service.record(Actor.system("test"), "user.update", object_type="user", object_id=users["guest"].id,
                   details={"title": ["a", "b"]})  # outside every meeting
    db.session.commit()

    page = reader.get(f"/admin/audit/?meeting={meeting_id}").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r"Bản ghi (\d+)", page)]
    assert ids and all(db.session.get(AuditEntry, i).meeting_id == meeting_id for i in ids)
    assert "user.update" not in ACTION.findall(page)

    chair = cabinet["chair"]
    said = _sentences(reader.get(f"/admin/audit/?person={chair.id}").get_data(as_text=True))
    assert said and all(s.startswith(chair.name) for s in said)

    actions = ACTION.findall(reader.get("/admin/audit/?action=ballot").get_data(as_text=True))
    assert set(actions) >= {"ballot.create", "ballot.open", "ballot.close"}
    assert all(a.startswith("ballot.") for a in actions)

    both = reader.get(f"/admin/audit/?action=vote&person={cabinet['member'].id}").get_data(as_text=True)
    assert ACTION.findall(both) == ["vote.cast"]


# (A NUL is refused before any view: tests/security/test_nul_bytes.py.)
@pytest.mark.parametrize("query", ["meeting=abc", "meeting=-1", "meeting=99999999999999", "person=x%27",
                                   "action=%3Cscript%3E", "action=vote.cast.again", "action=" + "a" * 80,
                                   "before=1e3", "meeting=1&person=%01"])
def test_a_bad_filter_is_named_never_a_server_error(reader, users, query):
    r = reader.get("/admin/audit/?" + query)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    problems = re.findall(r'data-testid="filter-problem">([^<]+)<', page)
    assert problems and all("trong danh sách" in p or "không hợp lệ" in p for p in problems), problems
    assert "<script>" not in page.split("</form>", 1)[1]


def test_an_unknown_meeting_or_person_shows_no_entries(reader, users):
    page = reader.get("/admin/audit/?meeting=424242").get_data(as_text=True)
    assert 'data-testid="audit-empty"' in page


def test_the_log_is_read_a_page_at_a_time(reader, users):
    from ecabinet.audit.views import PAGE

    for n in range(PAGE + 5):
        service.record(Actor(users["secretary"], "127.0.0.1"), "document.downloaded", object_type="document",
                       object_id=n + 1, details={"version": 1})
    db.session.commit()
    total = db.session.scalar(select(func.count()).select_from(AuditEntry))
    first = reader.get("/admin/audit/").get_data(as_text=True)
    assert len(ACTION.findall(first)) == PAGE
    older = re.search(r'href="(/admin/audit/\?before=\d+)"', first)
    assert older
    second = reader.get(html.unescape(older.group(1))).get_data(as_text=True)
    shown = len(ACTION.findall(first)) + len(ACTION.findall(second))
    assert shown >= min(total, PAGE + 5) and "Bản ghi mới nhất" in second
    # The filters are kept from page to page.
    filtered = reader.get("/admin/audit/?action=document").get_data(as_text=True)
    link = html.unescape(re.search(r'href="(/admin/audit/\?[^"]*before=\d+[^"]*)"', filtered).group(1))
    assert "action=document" in link
    assert set(ACTION.findall(reader.get(link).get_data(as_text=True))) <= {"document.downloaded"}


@pytest.mark.parametrize("role", list(Role))
def test_only_the_audit_policy_decides_who_reads_the_log(client, users, role):
    login(client, f"{role.value}@example.gov.vn", PASSWORD)
    expected = 200 if policy.can_view_audit(users[role.value]) else 403
    assert client.get("/admin/audit/").status_code == expected
    assert client.get("/admin/audit/?meeting=abc").status_code == (400 if expected == 200 else 403)


def test_a_member_cannot_read_the_log(client, users):
    login(client, "member@example.gov.vn", PASSWORD)
    assert client.get("/admin/audit/").status_code == 403
    assert client.get("/admin/audit/?action=vote").status_code == 403


# --- in the browser ----------------------------------------------------------------------------------

@pytest.mark.parametrize("width,height", [(1366, 1024), (390, 844)])
def test_audit_page_has_no_serious_accessibility_violation(meeting_with_a_vote, users, live_server, browser,
                                                           width, height):
    from tests.e2e.test_accessibility import _sign_in, _violations

    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=True)
    page = context.new_page()
    try:
        _sign_in(page, live_server.url, "admin@example.gov.vn")
        page.goto(live_server.url + "/admin/audit/")
        page.locator("details.audit-raw summary").first.click()  # one raw entry open, as a reader would
        assert _violations(page) == []
        # Nothing scrolls sideways inside the page: the list wraps to the viewport.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"audit-log-{width}x{height}.png"), full_page=False)
    finally:
        context.close()
