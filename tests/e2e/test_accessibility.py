"""axe-core (from npm) on the main screens, in Debian's Chromium on a tablet viewport: no serious or
critical violations, and touch targets of at least 44 px."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect

from ecabinet.extensions import db
from tests.browser import violations as _violations
from tests.conftest import PASSWORD
from tests.documents.app_fixtures import briefing  # noqa: F401 - fixture reused here

# What a finger taps: buttons, choices, fields. Links inside running text are exempt, so links are checked
# only on screens whose links all stand alone (``links=True``).
TARGETS = ("main .btn, main button, .topbar .btn, main label:has(input[type=radio]), "
           "main label:has(input[type=checkbox]), main select, main input:not([type=hidden]):not(label input)")


def _small_targets(page, links: bool = False) -> list[str]:
    return page.evaluate("""selector => Array.from(document.querySelectorAll(selector))
        .filter(e => e.offsetParent !== null)
        .map(e => [e, e.getBoundingClientRect()])
        .filter(([e, r]) => r.height < 44 || r.width < 44)
        .map(([e, r]) => (e.textContent || e.outerHTML).trim().slice(0, 40) + ' ' + Math.round(r.width) + 'x'
                         + Math.round(r.height))""", TARGETS + (", main a" if links else ""))


def _check(page, path: str, links: bool = False) -> None:
    assert _violations(page) == [], path
    assert _small_targets(page, links) == [], path


def _sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/")


@pytest.fixture
def tablet(browser):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    yield context.new_page()
    context.close()


def test_login_screen(live_server, tablet):
    tablet.goto(live_server.url + "/login")
    _check(tablet, "/login")


def test_member_screens(in_session_meeting, live_server, tablet):
    _sign_in(tablet, live_server.url, "member@example.gov.vn")
    mid = in_session_meeting.id
    for path in ("/", f"/meetings/{mid}", f"/meetings/{mid}/room", f"/meetings/{mid}/minutes"):
        tablet.goto(live_server.url + path)
        tablet.wait_for_load_state("networkidle")
        _check(tablet, path, links=path == "/")  # the home screen's links all stand alone


@pytest.fixture
def in_session_meeting(cabinet_meeting):
    return cabinet_meeting


@pytest.fixture
def portrait_tablet(browser):
    context = browser.new_context(viewport={"width": 820, "height": 1180}, has_touch=True)
    yield context.new_page()
    context.close()


def test_document_viewer(cabinet_meeting, cabinet, briefing, app, live_server, tmp_path,  # noqa: F811
                         tablet, portrait_tablet):
    """The pdf.js viewer with a rendered page and its text layer, in both tablet orientations."""
    from ecabinet.documents import service
    from tests.meetings.conftest import actor

    app.config["STORAGE_DIR"] = str(tmp_path / "instance" / "storage")  # the live server's storage
    document = service.upload(actor(cabinet["secretary"]), cabinet_meeting.items[0], io.BytesIO(briefing), "a.pdf")
    db.session.commit()
    path = f"/documents/{document.id}"
    for page in (tablet, portrait_tablet):
        _sign_in(page, live_server.url, "member@example.gov.vn")
        page.goto(live_server.url + path)
        expect(page.locator("#viewer.ready")).to_be_visible(timeout=20_000)
        expect(page.locator(".textLayer span").first).to_be_attached(timeout=20_000)
        _check(page, path, links=True)
        page.get_by_role("button", name="Các trang", exact=True).click()  # the page thumbnails
        expect(page.locator(".thumbs .thumb").first).to_be_visible()
        _check(page, path + " (thumbnails)", links=True)


def test_ballot_page_with_its_vote_form(cabinet_meeting, cabinet, live_server, tablet):
    """An open live ballot on its own page: the member's vote form, then the result after closing."""
    from ecabinet.meetings import service
    from ecabinet.meetings.models import CheckInMode
    from ecabinet.voting import service as voting
    from tests.meetings.conftest import actor

    for name in ("chair", "member", "member2", "member3"):
        service.check_in(actor(cabinet["secretary"]), cabinet_meeting,
                         service.participant_of(cabinet_meeting, cabinet[name]), CheckInMode.ROOM)
    ballot = voting.create_ballot(actor(cabinet["secretary"]), voting.BallotData(
        title="Thông qua Nghị quyết", kind="live", meeting_id=cabinet_meeting.id,
        item_id=cabinet_meeting.items[0].id))
    voting.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    path = f"/ballots/{ballot.id}"
    _sign_in(tablet, live_server.url, "member@example.gov.vn")
    tablet.goto(live_server.url + path)
    expect(tablet.locator(".ballot-vote form")).to_be_visible()
    _check(tablet, path, links=True)
    tablet.get_by_role("button", name="Tán thành", exact=True).click()  # one tap on the option is the vote
    expect(tablet.get_by_test_id("my-receipt")).to_be_visible()
    _check(tablet, path + " (voted)", links=True)
    voting.close_ballot(actor(cabinet["chair"]), voting.get_ballot(ballot.id))
    db.session.commit()
    tablet.goto(live_server.url + path)
    expect(tablet.get_by_test_id("result")).to_be_visible()
    _check(tablet, path + " (result)", links=True)
