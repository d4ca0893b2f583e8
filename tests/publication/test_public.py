"""The public page, its Atom feed and OParl show what the chair published, at once, to anyone; and
nothing a signed-out reader may not see."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from ecabinet.extensions import db
from ecabinet.publication import service
from tests.meetings.conftest import actor
from tests.publication.conftest import NAMED_ITEM, PUBLIC_CONCLUSION, SECRET_ITEM

ATOM = "{http://www.w3.org/2005/Atom}"
OPARL_ROOT = "/oparl/v1/system"
URL = re.compile(r"http://localhost(/oparl/v1/[A-Za-z]+(?:/\d+)?(?:\?page=\d+)?)")


def _publish_all(world, cabinet):
    chair = actor(cabinet["chair"])
    found = [service.publish_conclusion(chair, world.meeting),
             service.publish_decision(chair, world.meeting, world.item(NAMED_ITEM)),
             service.publish_decision(chair, world.meeting, world.item(SECRET_ITEM))]
    db.session.commit()
    return found


def crawl_oparl(client) -> dict[str, object]:
    """Every OParl answer reachable from the system object, by following the URLs in the answers."""
    seen: dict[str, object] = {}
    queue = [OPARL_ROOT]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert response.mimetype == "application/json"
        seen[path] = response.get_json()
        assert len(seen) < 300, "the crawl does not end"
        queue.extend(p for p in URL.findall(response.get_data(as_text=True)) if p not in seen)
    return seen


def public_answers(client, world, numbers) -> dict[str, str]:  # noqa: ANN001
    """The raw text of every public answer a signed-out reader can ask for."""
    answers = {}
    paths = ["/open/", "/open/?page=2", "/open/feed.atom", "/open/latest.json", *(f"/open/{n}" for n in numbers),
             *crawl_oparl(client), f"/oparl/v1/meeting/{world.confidential.id}", "/oparl/v1/agendaItem/1",
             "/oparl/v1/paper/99", f"/oparl/v1/person/{world.meeting.chair_id}"]
    for path in paths:
        response = client.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)  # a refusal would hide a leak
        answers[path] = response.get_data(as_text=True)
    return answers


def _assert_no_leak(answers: dict[str, str], forbidden: list[str]) -> None:
    for path, text in answers.items():
        # JSON escapes non-ASCII letters; read it back so that every answer is searched as text.
        if text.lstrip().startswith(("{", "[")):
            text = json.dumps(json.loads(text), ensure_ascii=False)
        for secret in forbidden:
            assert secret not in text, (path, secret)


def test_published_matter_appears_on_the_page_the_feed_and_oparl_at_once(client, world, cabinet):
    conclusion, named, secret = _publish_all(world, cabinet)
    page = client.get("/open/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for title in (world.meeting.title, NAMED_ITEM, SECRET_ITEM):
        assert title in html
    assert page.headers["Cache-Control"] == "no-store"
    detail = client.get(f"/open/{conclusion.id}").get_data(as_text=True)
    assert PUBLIC_CONCLUSION in detail and world.meeting.title in detail
    # The meeting's date in its own time zone, as the page shows it.
    from ecabinet.core.i18n import local_time

    with client.application.test_request_context():
        assert local_time(world.meeting.starts_at, "medium", world.meeting.timezone, locale="vi") in detail
    counts = client.get(f"/open/{named.id}").get_data(as_text=True)
    assert "Biểu quyết Nghị quyết B" in counts

    feed = client.get("/open/feed.atom")
    assert feed.status_code == 200 and feed.mimetype == "application/atom+xml"
    assert "max-age=5" in feed.headers["Cache-Control"]
    root = ET.fromstring(feed.data)  # noqa: S314 - the app's own answer
    assert root.find(f"{ATOM}author/{ATOM}name").text
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 3
    links = {e.find(f"{ATOM}link").get("href") for e in entries}
    assert f"http://localhost/open/{conclusion.id}" in links
    assert all(world.meeting.title in e.find(f"{ATOM}title").text for e in entries)
    assert all(e.find(f"{ATOM}updated").text for e in entries)

    answers = crawl_oparl(client)
    meetings = answers["/oparl/v1/meeting"]["data"]
    assert [m["name"] for m in meetings] == [world.meeting.title]
    assert {a["name"] for a in meetings[0]["agendaItem"]} == {NAMED_ITEM, SECRET_ITEM}
    assert PUBLIC_CONCLUSION in meetings[0]["resultsProtocol"]["text"]
    papers = answers["/oparl/v1/paper"]
    assert papers["pagination"]["totalElements"] == 3


def test_nothing_a_signed_out_reader_may_not_see_is_in_any_public_answer(client, world, cabinet):
    """The leak test: confidential meeting and item, draft minutes, the guest's item, an open ballot, the
    secret and named ballots' receipts and voters; every public answer is searched for them."""
    published = _publish_all(world, cabinet)
    numbers = [p.id for p in published] + [p.id + 100 for p in published]
    answers = public_answers(client, world, numbers)
    assert len(answers) > 25
    _assert_no_leak(answers, world.forbidden)
    # The secret ballot shows its counts and outcome only.
    secret = client.get(f"/open/{published[2].id}").get_data(as_text=True)
    assert "Bỏ phiếu kín Quyết định D" in secret
    for receipt in world.secret_receipts:
        assert receipt not in secret


def test_an_item_made_confidential_after_publishing_leaves_the_public_answers(client, world, cabinet):
    from ecabinet.meetings.models import Confidentiality

    published = _publish_all(world, cabinet)
    world.item(NAMED_ITEM).confidentiality = Confidentiality.RESTRICTED
    db.session.commit()
    answers = public_answers(client, world, [p.id for p in published])
    # The restricted item's decision, and the conclusions (its meeting now holds a restricted item), are gone.
    _assert_no_leak(answers, [NAMED_ITEM, PUBLIC_CONCLUSION, "Biểu quyết Nghị quyết B"])
    assert SECRET_ITEM in answers["/open/"]


def test_withdrawing_removes_it_everywhere(client, world, cabinet):
    from tests.conftest import PASSWORD
    from tests.helpers import login, post_form

    conclusion, named, _secret = _publish_all(world, cabinet)
    before = client.get("/open/latest.json").get_json()["stamp"]
    chair = client.application.test_client()
    login(chair, cabinet["chair"].email, PASSWORD)
    page = f"/meetings/{world.meeting.id}/publication"
    assert post_form(chair, f"{page}/withdraw", {"publication": str(named.id)}, page=page).status_code == 302
    assert client.get("/open/latest.json").get_json()["stamp"] != before
    assert client.get(f"/open/{named.id}").status_code == 404
    assert client.get(f"/oparl/v1/agendaItem/{named.id}").status_code == 404
    assert client.get(f"/oparl/v1/paper/{named.id}").status_code == 404
    answers = public_answers(client, world, [conclusion.id, named.id])
    _assert_no_leak(answers, [NAMED_ITEM, "Biểu quyết Nghị quyết B"])
    assert PUBLIC_CONCLUSION in answers[f"/open/{conclusion.id}"]


def test_the_public_pages_need_no_sign_in_and_speak_both_languages(client, world, cabinet):
    conclusion, *_ = _publish_all(world, cabinet)
    vi = client.get(f"/open/{conclusion.id}").get_data(as_text=True)
    assert "Kết luận" in vi and 'lang="vi"' in vi
    html = client.get("/open/").get_data(as_text=True)
    from tests.helpers import csrf_from

    client.post("/language/en", data={"csrf_token": csrf_from(html), "next": "/open/"})
    en = client.get("/open/").get_data(as_text=True)
    assert "Published conclusions and decisions" in en and 'lang="en"' in en
    assert 'src="/static/js/open-data.js"' in en and "data-poll=\"/open/latest.json\"" in en


def test_odd_public_input_is_a_400_or_404_never_a_500(client, world, cabinet):
    _publish_all(world, cabinet)
    for path, status in (("/open/0", 404), ("/open/99999999999999999999", 404), ("/open/abc", 404),
                         ("/open/?page=abc", 200), ("/open/?page=-1", 200), ("/open/?page=99999999999999", 200),
                         ("/oparl/v1/paper?page=0", 400), ("/oparl/v1/paper?page=abc", 400),
                         ("/oparl/v1/paper?page=99999999999999999999", 400), ("/oparl/v1/paper?page=%F0%9F", 400),
                         ("/oparl/v1/paper?page=500", 200), ("/oparl/v1/meeting/2147483647", 404),
                         ("/oparl/v1/meeting/2147483648", 404), ("/oparl/v1/file/0", 404),
                         ("/oparl/v1/person/1", 404), ("/oparl/v1/organization/5", 404),
                         ("/oparl/v1/agendaItem/-1", 404), ("/oparl/v1/nothing", 404)):
        response = client.get(path)
        assert response.status_code == status, (path, response.status_code)
    bad = client.get("/oparl/v1/paper?page=abc").get_json()
    assert bad["error"] == "invalid" and "page" in bad["fields"]
    assert client.get("/oparl/v1/paper?page=500").get_json()["data"] == []


def test_the_public_answers_are_rate_limited_per_address(client, app):
    from ecabinet.core.ratelimit import Rate

    app.config["PUBLIC_RATE"] = Rate(count=3, seconds=60, burst=3)
    assert [client.get("/oparl/v1/system").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/oparl/v1/system")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert client.get("/open/").status_code == 429


def test_every_public_and_chair_page_speaks_one_language(client, world, cabinet):
    """The pages with something published (the app-wide check sees them empty): no English left on a
    Vietnamese page, no Vietnamese on an English one, no raw outcome code."""
    from tests.conftest import PASSWORD
    from tests.core.test_every_word import PAIRS, RAW_CODES, _visible
    from tests.helpers import login

    published = _publish_all(world, cabinet)
    paths = ["/open/", *(f"/open/{p.id}" for p in published), f"/meetings/{world.meeting.id}/publication",
             f"/meetings/{world.confidential.id}/publication"]
    misses = []
    for language in ("vi", "en"):
        cabinet["chair"].locale = language
        db.session.commit()
        reader = client.application.test_client()
        login(reader, cabinet["chair"].email, PASSWORD)
        for path in paths:
            response = reader.get(path)
            assert response.status_code == 200, path
            text = _visible(response.get_data(as_text=True))
            misses += [f"{language} {path}: raw {code}" for code in RAW_CODES.findall(text)]
            misses += [f"{language} {path}: {pair}" for pair in PAIRS if pair[0 if language == "vi" else 1] in text]
    assert misses == []
