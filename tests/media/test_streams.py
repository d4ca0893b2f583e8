"""Which stream is audio is Janus's word, not the page's: ``POST …/published`` names the page's Janus session
and handle, and the app reads the handle's streams from Janus's admin API after checking that it publishes
as the participant's own feed in their room. Afterwards the pass-through lets through only offers that
carry the streams so recorded; before, at most one microphone and one camera. And the media routes' JSON
bodies are checked by their schemas (a 400 naming the field)."""

from __future__ import annotations

import pytest

from ecabinet.media.schemas import MAX_JANUS_ID
from ecabinet.media.service import MediaError
from ecabinet.media.signalling import Place, Publishing, offered_streams, published_streams, refused_offer
from tests.conftest import PASSWORD
from tests.helpers import login
from tests.media.conftest import JanusClient
from tests.media.test_access import _join, _publisher

pytestmark = pytest.mark.timeout(120)


def _sdp(*sections: tuple[str, str]) -> str:
    lines = ["v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0"]
    for kind, mid in sections:
        lines += [f"m={kind} 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", f"a=mid:{mid}", "a=sendonly"]
    return "\r\n".join(lines) + "\r\n"


PLACE = Place(meeting_id=1, room=77, feed_id=5, display="{}")
ANNOUNCED = Place(meeting_id=1, room=77, feed_id=5, display="{}", announced=True, audio_mid="0", video_mid="1")


def test_the_offer_is_read_section_by_section():
    assert offered_streams(_sdp(("audio", "0"), ("video", "1"), ("application", "2"))) == \
        [("audio", "0"), ("video", "1"), ("application", "2")]
    assert offered_streams("v=0\r\nm=audio 9 RTP 0\r\n") == [("audio", None)]


@pytest.mark.parametrize(("place", "sections", "refused"), [
    (PLACE, [("audio", "0"), ("video", "1")], False),
    (PLACE, [("audio", "0")], False),
    (PLACE, [("audio", "0"), ("audio", "1")], True),             # a second microphone
    (PLACE, [("audio", "0"), ("video", "1"), ("video", "2")], True),
    (ANNOUNCED, [("audio", "0"), ("video", "1")], False),         # an ICE restart: the same streams
    (ANNOUNCED, [("audio", "0"), ("video", "1"), ("application", "2")], False),
    (ANNOUNCED, [("audio", "3"), ("video", "1")], True),          # a new, unmuted microphone
    (ANNOUNCED, [("audio", "0"), ("video", "4")], True),          # a camera the chair could not end
    (Place(1, 77, 5, "{}", announced=True, audio_mid="0"), [("audio", "0"), ("video", "1")], True),
])
def test_offers_carry_only_what_may_be_published(place, sections, refused):
    assert (refused_offer({"type": "offer", "sdp": _sdp(*sections)}, place) is not None) is refused


def test_answers_and_odd_offers():
    assert refused_offer({"type": "answer", "sdp": _sdp(("audio", "9"), ("audio", "8"))}, ANNOUNCED) is None
    assert refused_offer(None, PLACE) is None
    assert refused_offer({"type": "offer"}, PLACE) == "An offer without its SDP."


def _info(**plugin):  # noqa: ANN003, ANN202
    return {"plugin_specific": {"type": "publisher", "room": 77, "id": 5, **plugin}}


def test_the_streams_are_read_from_janus_for_the_right_feed_only():
    place = Publishing(room=77, feed_id=5)
    streams = [{"type": "audio", "mindex": 0, "mid": "0"}, {"type": "video", "mindex": 1, "mid": "1"},
               {"type": "data", "mindex": 2, "mid": "2"}]
    assert published_streams(_info(streams=streams), place) == ("0", "1")
    assert published_streams(_info(streams=streams[:1]), place) == ("0", None)
    assert published_streams(_info(streams=[]), place) == (None, None)
    gone = [{"type": "audio", "mid": "0", "disabled": True}, {"type": "audio", "mid": "3"}]
    assert published_streams(_info(streams=gone), place) == ("3", None)
    for info in (_info(id=6, streams=streams), _info(room=78, streams=streams), _info(type="subscriber"),
                 {"plugin_specific": None}, None, []):
        with pytest.raises(MediaError, match="does not publish as you"):
            published_streams(info, place)
    for odd in ([*streams, {"type": "audio", "mid": "4"}], [{"type": "audio", "mid": "x" * 40}]):
        with pytest.raises(MediaError, match="one microphone"):
            published_streams(_info(streams=odd), place)


def test_published_reads_janus_and_refuses_another_handle(in_session, janus_server, media_server, media_app):
    base = f"{media_server.url}/media/meetings/{in_session.id}"
    http, answer = _join(media_server.url, "member@example.gov.vn", in_session.id)
    ticket = answer.json()
    page, joined = _publisher(janus_server, ticket)
    assert joined["plugindata"]["data"]["videoroom"] == "joined"
    http2, answer2 = _join(media_server.url, "member2@example.gov.vn", in_session.id)

    # Another member names the first one's handle, or a handle that does not exist: refused.
    for session, handle in ((page.session, page.handle), (page.session, 12345), (1, 1)):
        refused = http2.post(f"{base}/published", json={"session_id": session, "handle_id": handle}, timeout=10)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "Kết nối này không phát hình ảnh, âm thanh của bạn trong phòng họp này."
    # A subscriber's handle of one's own is not a publisher's.
    listener = JanusClient(janus_server.url, answer2.json()["token"])
    listener.create()
    listener.attach()
    refused = http2.post(f"{base}/published", json={"session_id": listener.session, "handle_id": listener.handle},
                         timeout=10)
    assert refused.status_code == 400

    # The member's own handle: the streams are Janus's (none published by this client), whatever the body says.
    ok = http.post(f"{base}/published", json={"session_id": page.session, "handle_id": page.handle,
                                               "audio_mid": "7", "video_mid": "8", "mode": "video"}, timeout=10)
    assert ok.status_code == 200, ok.text
    assert ok.json()["audio_mid"] is None and ok.json()["video_mid"] is None


def _member_page_in_the_room(base_url: str, meeting_id: int) -> tuple:
    """A member's page joined to the meeting's room as its publisher, through the app's pass-through."""
    http, answer = _join(base_url, "member@example.gov.vn", meeting_id)
    ticket = answer.json()
    page = JanusClient(f"{base_url}/janus", ticket["token"], http)
    assert page.create()["janus"] == "success" and page.attach()["janus"] == "success"
    joined = page.message({"request": "join", "ptype": "publisher", "room": ticket["room"], "id": ticket["feed_id"],
                           "token": ticket["token"]})
    assert joined["plugindata"]["data"]["videoroom"] == "joined", joined
    return http, page


def test_the_pass_through_refuses_offers_beyond_what_was_announced(in_session, janus_server, media_server,
                                                                    media_app):
    base = f"{media_server.url}/media/meetings/{in_session.id}"
    http, page = _member_page_in_the_room(media_server.url, in_session.id)

    def offer(*sections: tuple[str, str]) -> dict:
        return page._post(f"/{page.session}/{page.handle}", {
            "janus": "message", "body": {"request": "configure"}, "jsep": {"type": "offer", "sdp": _sdp(*sections)}})

    refused = offer(("audio", "0"), ("audio", "1"))
    assert refused["janus"] == "error" and refused["error"]["code"] == 403, refused
    assert "one microphone" in refused["error"]["reason"]

    # Announced with nothing published: no microphone can be added afterwards without joining again.
    assert http.post(f"{base}/published", json={"session_id": page.session, "handle_id": page.handle},
                     timeout=10).ok
    refused = offer(("audio", "0"))
    assert refused["janus"] == "error" and refused["error"]["code"] == 403, refused
    assert "announced" in refused["error"]["reason"]


def test_media_bodies_are_checked_by_their_schemas(client, in_session, app):
    app.config["WTF_CSRF_ENABLED"] = False
    base = f"/media/meetings/{in_session.id}"
    login(client, "chair@example.gov.vn", PASSWORD)
    cases = [
        ("/moderate", {"user_id": 3, "action": "eject"}, "action"),
        ("/moderate", {"user_id": "3", "action": "mute"}, "user_id"),
        ("/moderate", {"action": "mute"}, "user_id"),
        ("/join", {"mode": "television"}, "mode"),
        ("/published", {"session_id": 1}, "handle_id"),
        ("/published", {"session_id": MAX_JANUS_ID + 1, "handle_id": 1}, "session_id"),
        ("/published", {"session_id": 1, "handle_id": 1, "mode": "radio"}, "mode"),
    ]
    for path, body, field in cases:
        response = client.post(base + path, json=body)
        assert response.status_code == 400, (path, body, response.get_data(as_text=True))
        assert list(response.get_json()["fields"]) == [field], (path, body, response.get_json())


# A complete enough offer for Janus to set up the streams (no ICE ever happens: none is needed to announce).
def _full_sdp(*sections: tuple[str, str]) -> str:
    lines = ["v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
             "a=group:BUNDLE " + " ".join(mid for _, mid in sections), "a=msid-semantic: WMS *"]
    for kind, mid in sections:
        codec = ["a=rtpmap:111 opus/48000/2"] if kind == "audio" else ["a=rtpmap:96 VP8/90000"]
        lines += [f"m={kind} 9 UDP/TLS/RTP/SAVPF {111 if kind == 'audio' else 96}", "c=IN IP4 0.0.0.0",
                  "a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuvwx",
                  "a=fingerprint:sha-256 " + ":".join(["AB"] * 32), "a=setup:actpass", f"a=mid:{mid}",
                  "a=sendonly", "a=rtcp-mux", *codec, f"a=ssrc:{1000 + int(mid)} cname:test"]
    return "\r\n".join(lines) + "\r\n"


def test_a_microphone_the_server_could_not_mute_is_refused(in_session, janus_server, media_server, media_app):
    """The page keeps its microphone off the connection until ``…/published`` answers: that answer must not
    come while the microphone is unmuted at Janus. When the mute fails (here Janus refuses the room's
    secret), the page is told the audio and video server is unavailable, and its place is taken back."""
    from sqlalchemy import select, update

    from ecabinet.extensions import db
    from ecabinet.media.models import MediaParticipant, MediaRoom

    base = f"{media_server.url}/media/meetings/{in_session.id}"
    http, page = _member_page_in_the_room(media_server.url, in_session.id)
    offer = {"type": "offer", "sdp": _full_sdp(("audio", "0"))}
    sent = page._post(f"/{page.session}/{page.handle}", {"janus": "message", "body": {"request": "publish"},
                                                         "jsep": offer})
    assert sent["janus"] == "ack", sent
    page.next_event()  # Janus's answer: the stream is set up

    with media_app.app_context():
        db.session.execute(update(MediaRoom).where(MediaRoom.meeting_id == in_session.id)
                           .values(secret="not-the-secret"))
        db.session.commit()
    refused = http.post(f"{base}/published", json={"session_id": page.session, "handle_id": page.handle}, timeout=10)
    assert refused.status_code == 503, refused.text
    assert "không sẵn sàng" in refused.json()["error"]  # "unavailable"
    with media_app.app_context():
        row = db.session.scalar(select(MediaParticipant).where(MediaParticipant.meeting_id == in_session.id))
        assert row.connected is False and row.token is None
