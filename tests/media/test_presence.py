"""Who is connected by audio or video is part of the live room's attendance: a tablet joining the room
reads it in its catch-up (the "media" section), and every tablet in the room is told when it changes (the
"media.presence" event, sent after the commit), on publishing, on the chair ending a video, on leaving and
on the token being taken back."""

from __future__ import annotations

import time

import pytest

from ecabinet.extensions import db
from tests.helpers import csrf_from
from tests.live.conftest import RoomClient
from tests.media.test_access import _join, _publisher

pytestmark = pytest.mark.timeout(120)


def _wait_presence(received: list, predicate, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if received and predicate(received[-1]["connected"]):
            return received[-1]["connected"]
        time.sleep(0.05)
    raise AssertionError(f"no matching media.presence within {timeout}s: {received[-3:]}")


def _announce(http, janus_server, base: str, ticket: dict, mode: str):  # noqa: ANN001, ANN202
    """Join the room as the app's feed (no media: Janus sees no stream) and say so: the app reads the
    streams from Janus, by the page's session and handle."""
    client, joined = _publisher(janus_server, ticket)
    assert joined["plugindata"]["data"]["videoroom"] == "joined", joined
    return http.post(f"{base}/published", json={"session_id": client.session, "handle_id": client.handle,
                                                 "mode": mode}, timeout=10)


def _modes(connected: list[dict]) -> dict[int, str]:
    return {p["user_id"]: p["mode"] for p in connected}


@pytest.fixture
def media_room_client(media_server):
    clients: list[RoomClient] = []

    def make(email: str, meeting_id: int) -> RoomClient:
        db.session.commit()
        client = RoomClient(media_server.url, email, meeting_id).connect()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_the_room_learns_who_is_connected_by_audio_or_video(in_session, cabinet, janus_server, media_server,
                                                            media_room_client):
    member, member2 = cabinet["member"].id, cabinet["member2"].id
    listener = media_room_client("member3@example.gov.vn", in_session.id)
    received: list[dict] = []
    listener.sio.on("media.presence", received.append)
    assert listener.join()["media"] == []  # nobody yet

    http, answer = _join(media_server.url, "member@example.gov.vn", in_session.id)
    assert answer.status_code == 200, answer.text
    base = f"{media_server.url}/media/meetings/{in_session.id}"
    # Holding a token is not being connected: publishing is.
    assert _announce(http, janus_server, base, answer.json(), "video").ok
    connected = _wait_presence(received, lambda c: _modes(c) == {member: "video"})
    assert connected[0]["name"] == cabinet["member"].name and set(connected[0]) == {"user_id", "name", "mode"}

    http2, answer2 = _join(media_server.url, "member2@example.gov.vn", in_session.id, mode="audio")
    assert _announce(http2, janus_server, base, answer2.json(), "audio").ok
    _wait_presence(received, lambda c: _modes(c) == {member: "video", member2: "audio"})

    # The chair ends the member's video: the room sees them by audio.
    chair, _ = _join(media_server.url, "chair@example.gov.vn", in_session.id)
    assert chair.post(f"{base}/moderate", json={"user_id": member, "action": "stop_video"}, timeout=10).ok
    _wait_presence(received, lambda c: _modes(c) == {member: "audio", member2: "audio"})

    # A tablet joining now reads the list in its catch-up.
    late = media_room_client("secretary@example.gov.vn", in_session.id)
    assert _modes(late.join()["media"]) == {member: "audio", member2: "audio"}

    # Leaving, and signing out (the token taken back): gone from the room's list.
    assert http.post(f"{base}/leave", timeout=10).ok
    _wait_presence(received, lambda c: _modes(c) == {member2: "audio"})
    page = http2.get(f"{media_server.url}/", timeout=10)
    assert http2.post(f"{media_server.url}/logout", data={"csrf_token": csrf_from(page.text)}, timeout=10).ok
    _wait_presence(received, lambda c: c == [])
