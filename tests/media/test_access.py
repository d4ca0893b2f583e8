"""Who may be in a meeting's media room, checked where it matters: at Janus, with the tokens people hold.

A member gets a token and joins; someone who is not a participant gets none and gets nowhere with a made-up
one; signing out, deactivation or removal from the meeting takes the token back (Janus refuses it) and kicks
the feed; a guest gets a token only while an item they are invited to is current."""

from __future__ import annotations

import pytest

from ecabinet.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import csrf_from, http_login
from tests.media.conftest import JanusClient
from tests.meetings.conftest import actor, make_outsider

pytestmark = pytest.mark.timeout(120)


def _join(base_url: str, email: str, meeting_id: int, mode: str = "video"):
    http = http_login(base_url, email, PASSWORD)
    http.headers["X-CSRFToken"] = csrf_from(http.get(f"{base_url}/", timeout=10).text)
    answer = http.post(f"{base_url}/media/meetings/{meeting_id}/join", json={"mode": mode}, timeout=10)
    return http, answer


def _publisher(janus_server, ticket) -> tuple[JanusClient, dict]:
    client = JanusClient(janus_server.url, ticket["token"])
    assert client.create()["janus"] == "success"
    assert client.attach()["janus"] == "success"
    return client, client.join(ticket["room"], ticket["feed_id"], ticket["token"])


def _feeds(media_app, room: int) -> set[int]:
    from ecabinet.media import service

    return {p["id"] for p in service.janus(media_app).participants(room)}


def test_member_joins_and_signing_out_takes_the_token_back(in_session, janus_server, media_server, media_app):
    http, answer = _join(media_server.url, "member@example.gov.vn", in_session.id)
    assert answer.status_code == 200, answer.text
    ticket = answer.json()
    assert ticket["muted"] is True and ticket["token"] and ticket["room"]

    client, joined = _publisher(janus_server, ticket)
    assert joined["plugindata"]["data"]["videoroom"] == "joined", joined
    assert ticket["feed_id"] in _feeds(media_app, ticket["room"])

    # Signing out revokes the sign-in session: its media token goes, and the feed is kicked.
    page = http.get(f"{media_server.url}/", timeout=10)
    assert http.post(f"{media_server.url}/logout", data={"csrf_token": csrf_from(page.text)}, timeout=10).ok
    assert ticket["feed_id"] not in _feeds(media_app, ticket["room"])
    again = JanusClient(janus_server.url, ticket["token"])
    refused = again.create()
    assert refused["janus"] == "error" and refused["error"]["code"] == 403  # unauthorized: the token is gone


def test_non_participant_gets_no_token_and_nothing_without_one(in_session, janus_server, media_server, media_app):
    make_outsider()
    member_http, member_answer = _join(media_server.url, "member@example.gov.vn", in_session.id)
    ticket = member_answer.json()

    _, answer = _join(media_server.url, "outsider@example.gov.vn", in_session.id)
    assert answer.status_code == 404  # the meeting is not theirs to know of
    for token in (None, "", "m-guessed-token", ticket["token"][:-2] + "xx"):
        refused = JanusClient(janus_server.url, token).create()
        assert refused["janus"] == "error" and refused["error"]["code"] == 403
    # A valid Janus token is still not a place in another room: the room allows only its own tokens.
    other = JanusClient(janus_server.url, ticket["token"])
    other.create()
    other.attach()
    refused = other.join(ticket["room"], 4242, "m-guessed-token")
    assert refused["plugindata"]["data"].get("error_code") == 433  # unauthorized: not in the room's allowed list


def test_removed_or_deactivated_participant_is_kicked_and_refused(in_session, cabinet, janus_server, media_server,
                                                                 media_app):
    from ecabinet.accounts import service as accounts
    from ecabinet.meetings import service as meetings
    from ecabinet.meetings.queries import participant_of

    _, answer2 = _join(media_server.url, "member2@example.gov.vn", in_session.id)
    _, answer3 = _join(media_server.url, "member3@example.gov.vn", in_session.id)
    t2, t3 = answer2.json(), answer3.json()
    _publisher(janus_server, t2)
    _publisher(janus_server, t3)
    assert {t2["feed_id"], t3["feed_id"]} <= _feeds(media_app, t2["room"])

    db.session.rollback()
    meeting = db.session.merge(in_session)
    meetings.remove_participant(actor(cabinet["secretary"]), participant_of(meeting, cabinet["member2"]))
    accounts.set_active(actor(cabinet["admin"]), db.session.merge(cabinet["member3"]), False)
    db.session.commit()  # the boundary: media reacts after the commit (inline in this app)

    assert not {t2["feed_id"], t3["feed_id"]} & _feeds(media_app, t2["room"])
    for ticket in (t2, t3):
        refused = JanusClient(janus_server.url, ticket["token"]).create()
        assert refused["janus"] == "error" and refused["error"]["code"] == 403


def test_guest_gets_a_token_only_while_their_item_is_current(in_session, cabinet, app):
    from ecabinet.live import service as live
    from ecabinet.media import service
    from ecabinet.media.service import MediaError

    app.config["JANUS_URL"] = None  # the rule alone: no Janus needed
    guest = actor(cabinet["guest"])
    first, second = in_session.items[0], in_session.items[1]

    with pytest.raises(MediaError):  # no item is current yet
        service.issue_token(guest, in_session, None)
    db.session.rollback()

    live.set_item(actor(cabinet["chair"]), in_session, second.id)
    db.session.commit()
    with pytest.raises(MediaError):  # not their item
        service.issue_token(guest, in_session, None)
    db.session.rollback()

    live.set_item(actor(cabinet["chair"]), in_session, first.id)
    db.session.commit()
    ticket = service.issue_token(guest, in_session, None, "audio")
    db.session.commit()
    assert ticket.token and ticket.mode == "audio"
    assert service.revoke_unentitled(in_session.id) == []  # still their item

    live.set_item(actor(cabinet["chair"]), in_session, second.id)
    db.session.commit()
    taken = service.revoke_unentitled(in_session.id)
    assert [r.token for r in taken] == [ticket.token]
    db.session.commit()
    assert service.participant_row(in_session.id, cabinet["guest"].id).token is None


def test_a_feed_the_app_did_not_place_is_kicked(in_session, janus_server, media_server, media_app):
    from ecabinet.media import service

    _, answer = _join(media_server.url, "member@example.gov.vn", in_session.id)
    ticket = answer.json()
    client = JanusClient(janus_server.url, ticket["token"])
    client.create()
    client.attach()
    stray = ticket["feed_id"] + 1  # a valid token, but another feed id than the one the app gave
    assert client.join(ticket["room"], stray, ticket["token"])["plugindata"]["data"]["videoroom"] == "joined"

    db.session.rollback()
    checks = service.room_checks()
    assert service.apply_room_check(service.janus(media_app), checks[0]) == [stray]
    assert stray not in _feeds(media_app, ticket["room"])


def test_joining_again_takes_the_place_a_closed_page_still_holds(in_session, janus_server, media_server, media_app):
    http, answer = _join(media_server.url, "member@example.gov.vn", in_session.id)
    first = answer.json()
    _, joined = _publisher(janus_server, first)  # the page closes without leaving: its session stays a while
    assert joined["plugindata"]["data"]["videoroom"] == "joined"

    again = http.post(f"{media_server.url}/media/meetings/{in_session.id}/join", json={"mode": "audio"}, timeout=10)
    second = again.json()
    assert second["feed_id"] == first["feed_id"] and second["token"] != first["token"]
    _, rejoined = _publisher(janus_server, second)
    assert rejoined["plugindata"]["data"]["videoroom"] == "joined", rejoined  # not "the id exists"
    assert JanusClient(janus_server.url, first["token"]).create()["error"]["code"] == 403
