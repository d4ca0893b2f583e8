"""The room display: issued and revoked by the secretariat, opened by its token alone, and showing only
what everyone in the room may see; tried as the screen, a member, and someone holding a bad link."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from ecabinet.audit.models import AuditEntry
from ecabinet.display import service
from ecabinet.display.models import RoomDisplay
from ecabinet.extensions import db
from ecabinet.meetings.models import CheckInMode, Confidentiality
from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from tests.meetings.conftest import actor


def _issue(client, meeting, label="Phòng họp số 1 – màn hình chính", withheld="title"):
    login(client, "secretary@example.gov.vn", PASSWORD)
    answer = post_form(client, f"/meetings/{meeting.id}/displays", {"label": label, "withheld": withheld},
                       page=f"/meetings/{meeting.id}/displays")
    return answer


def _token(answer) -> str:
    html = answer.get_data(as_text=True)
    found = re.search(r'value="[^"]*/display/open/([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def _screen(app, token: str):
    screen = app.test_client()
    opened = screen.get(f"/display/open/{token}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/display")
    cookie = opened.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    return screen


def _move_to(meeting, item, cabinet):
    from ecabinet.live import service as live

    live.set_item(actor(cabinet["chair"]), meeting, item.id)
    db.session.commit()


def test_the_secretariat_issues_a_link_that_opens_the_screen_without_an_account(app, client, in_session, cabinet):
    answer = _issue(client, in_session)
    assert answer.status_code == 200
    token = _token(answer)
    # Only the token's hash is kept.
    db.session.rollback()
    row = db.session.scalar(select(RoomDisplay))
    assert row.token_hash == service.token_hash(token) and token not in str(
        db.session.execute(text("SELECT * FROM room_display")).all())
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "display.issued")) is not None
    # The manage page does not show it again.
    assert token not in client.get(f"/meetings/{in_session.id}/displays").get_data(as_text=True)

    screen = _screen(app, token)
    assert screen.get("/display/state").get_json()["item"] is None  # no item yet
    _move_to(in_session, in_session.items[0], cabinet)
    page = screen.get("/display")
    assert page.status_code == 200 and in_session.title in page.get_data(as_text=True)
    state = screen.get("/display/state").get_json()
    assert state["meeting"]["title"] == in_session.title and state["meeting"]["status"] == "in_session"
    assert state["item"]["title"] == in_session.items[0].title and state["item"]["withheld"] is False
    assert state["quorum"]["eligible"] >= 1
    # A screen is nobody: it opens no page of the app.
    assert screen.get(f"/meetings/{in_session.id}").status_code == 302
    assert screen.get("/").status_code in (200, 302)
    assert in_session.title not in screen.get("/").get_data(as_text=True)


@pytest.mark.parametrize("who", ["member", "chair", "guest"])
def test_only_the_secretariat_issues_and_revokes_screens(app, in_session, cabinet, who):
    client = app.test_client()
    login(client, f"{who}@example.gov.vn", PASSWORD)
    assert client.get(f"/meetings/{in_session.id}/displays").status_code in (403, 404)
    display, _token = service.issue_display(actor(cabinet["secretary"]), in_session, "Màn hình", "title")
    db.session.commit()
    refused = client.post(f"/meetings/{in_session.id}/displays/{display.id}/revoke")
    assert refused.status_code in (400, 403, 404)  # no CSRF token, and no right to it either
    db.session.refresh(display)
    assert display.active


@pytest.mark.parametrize(("label", "withheld", "says"), [
    ("", "title", "Hãy đặt tên màn hình"),
    ("x" * 121, "title", "120"),
    ("Màn hình", "everything", "Not a valid choice"),
])
def test_a_bad_request_says_what_is_wrong(client, in_session, cabinet, label, withheld, says):
    answer = _issue(client, in_session, label=label, withheld=withheld)
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert says in html or "Lựa chọn không hợp lệ" in html, html[-3000:]
    db.session.rollback()
    assert db.session.scalar(select(RoomDisplay)) is None


def test_an_item_not_everyone_present_may_see_is_withheld(app, in_session, cabinet):
    from ecabinet.meetings import service as meetings

    titled, token = service.issue_display(actor(cabinet["secretary"]), in_session, "Chính", "title")
    _blank, blank_token = service.issue_display(actor(cabinet["secretary"]), in_session, "Phụ", "nothing")
    db.session.commit()
    screen, blank = _screen(app, token), _screen(app, blank_token)
    second = in_session.items[1]  # the guest is invited to the first item only
    _move_to(in_session, second, cabinet)
    assert screen.get("/display/state").get_json()["item"]["withheld"] is False  # the guest is not in the room

    guest = meetings.participant_of(in_session, cabinet["guest"])
    meetings.check_in(actor(cabinet["secretary"]), in_session, guest, CheckInMode.ROOM)
    db.session.commit()
    shown = screen.get("/display/state").get_json()["item"]
    assert shown == {"number": 2, "title": second.title, "withheld": True}
    hidden = blank.get("/display/state").get_json()
    assert hidden["item"] == {"number": 2, "title": None, "withheld": True}
    assert second.title not in str(hidden)

    # A confidential item is withheld whoever is present.
    third = in_session.items[2]
    third.confidentiality = Confidentiality.CONFIDENTIAL
    db.session.commit()
    _move_to(in_session, third, cabinet)
    raw = blank.get("/display/state").get_data(as_text=True)
    assert third.title not in raw and '"withheld":true' in raw.replace(" ", "")


def test_a_vote_shows_participation_then_the_result(app, live_open, quorate, cabinet):
    from ecabinet.voting import service as voting
    from tests.voting.conftest import cvid

    meeting = quorate
    _move_to(meeting, meeting.items[0], cabinet)
    _display, token = service.issue_display(actor(cabinet["secretary"]), meeting, "Chính", "title")
    db.session.commit()
    screen = _screen(app, token)
    vote = screen.get("/display/state").get_json()["item"]["vote"]
    assert vote["status"] == "open" and vote["voted"] == 0 and vote["eligible"] == live_open.eligible_count
    assert vote["result"] is None
    for who, choice in (("member", "approve"), ("member2", "approve"), ("member3", "reject")):
        voting.cast_vote(actor(cabinet[who]), live_open.id, choice, cvid())
        db.session.commit()
    assert screen.get("/display/state").get_json()["item"]["vote"]["voted"] == 3
    voting.close_ballot(actor(cabinet["chair"]), live_open)
    db.session.commit()
    vote = screen.get("/display/state").get_json()["item"]["vote"]
    assert vote["status"] == "closed"
    counts = {c["key"]: c["count"] for c in vote["result"]["questions"][0]["counts"]}
    assert counts["approve"] == 2 and counts["reject"] == 1
    assert vote["result"]["outcome"]


def test_a_revoked_screen_sees_nothing_more(app, client, in_session, cabinet):
    token = _token(_issue(client, in_session))
    screen = _screen(app, token)
    display = db.session.scalar(select(RoomDisplay))
    assert post_form(client, f"/meetings/{in_session.id}/displays/{display.id}/revoke", {},
                     page=f"/meetings/{in_session.id}/displays").status_code == 302
    assert screen.get("/display/state").status_code == 403
    assert in_session.title not in screen.get("/display/state").get_data(as_text=True)
    assert screen.get("/display").status_code == 403
    assert app.test_client().get(f"/display/open/{token}").status_code == 404
    after = screen.get("/display/after")
    assert after.status_code == 403 and "room_display=;" in after.headers["Set-Cookie"]


@pytest.mark.parametrize("token", ["", "x", "%00", "%FF%FE", "a" * 5000, "..%2F..%2Fetc%2Fpasswd", "%E2%80%AE"])
def test_odd_links_and_cookies_get_a_clear_refusal(app, in_session, cabinet, token):
    screen = app.test_client()
    answer = screen.get(f"/display/open/{token}")
    assert answer.status_code == 404
    screen.set_cookie("room_display", token.replace("%", "") or "x")
    assert screen.get("/display/state").status_code == 403
    assert screen.get("/display").status_code == 403


def test_the_screen_socket_lets_in_a_screen_and_nobody_else(app, in_session, cabinet):
    from ecabinet.extensions import socketio

    _display, token = service.issue_display(actor(cabinet["secretary"]), in_session, "Chính", "title")
    db.session.commit()

    def connect(http_client) -> bool:
        sio = socketio.test_client(app, namespace="/display", flask_test_client=http_client,
                                   headers={"Origin": "http://localhost"})
        return sio.is_connected(namespace="/display")

    assert not connect(app.test_client())  # no token
    member = app.test_client()
    login(member, "member@example.gov.vn", PASSWORD)
    assert not connect(member)  # a person's session is not a screen
    forged = app.test_client()
    forged.set_cookie("room_display", token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert not connect(forged)
    assert connect(_screen(app, token))


def test_the_demo_prints_one_screen_link_that_opens_its_meeting(app):
    from click.testing import CliRunner

    from ecabinet.meetings.demo import DEMO_TITLE

    outputs = [CliRunner().invoke(app.cli, ["ecabinet", "demo"]) for _ in range(2)]
    assert all(o.exit_code == 0 for o in outputs), outputs[0].output
    links = [re.search(r"/display/open/(\S+)", o.output) for o in outputs]
    assert links[0] and links[1] and links[0].group(1) == links[1].group(1)  # loaded twice: one screen
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(RoomDisplay)) == 1
    assert _screen(app, links[0].group(1)).get("/display/state").get_json()["meeting"]["title"] == DEMO_TITLE
