"""PostgreSQL stops (immediate shutdown, as in a crash) and comes back during a meeting.

The app server runs against a private PostgreSQL of this test (never the shared one). Proves: while
the database is down, pages answer 503 with a page saying the database is unavailable, JSON clients
get that message as JSON, /healthz says so, socket events are acknowledged at once with
``{"ok": false, "error": "unavailable", "message": ...}`` and a new socket is refused with the same
reason, all within a few seconds (nothing waits for a timeout of minutes); within five seconds of the
database's return pages, sockets and votes work again without restarting the app; a vote acknowledged
before the outage is in the result.
"""

from __future__ import annotations

import contextlib
import time
import uuid

import pytest
import requests
import socketio

from ecabinet.extensions import db
from ecabinet.voting import service as voting
from tests.conftest import LiveServer, make_test_config
from tests.faults.conftest import truncate_all
from tests.helpers import cookie_header
from tests.live.conftest import RoomClient

pytestmark = pytest.mark.timeout(150)

# The longest a request or an event may take to fail while the database is down.
FAIL_FAST = 6.0
RECOVERY = 5.0


@pytest.fixture
def app(private_postgres):
    """This module's app runs on the private PostgreSQL server, emptied for each test."""
    from ecabinet import create_app

    truncate_all(private_postgres.url)
    app = create_app(make_test_config(private_postgres.url))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _timed(fn):
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start


def _wait_until(check, timeout: float) -> float:
    """Poll ``check`` until it is true; return how long it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        with contextlib.suppress(Exception):  # not yet
            if check():
                return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"not back within {timeout}s")


def test_postgresql_restart_during_a_meeting(app, private_postgres, tmp_path, voting_meeting):
    meeting, ballot, _people = voting_meeting
    meeting_id, ballot_id = meeting.id, ballot.id
    server = LiveServer(private_postgres.url, tmp_path).start()
    clients: list[RoomClient] = []
    try:
        def tablet(email: str) -> RoomClient:
            client = RoomClient(server.url, email, meeting_id).connect()
            client.join()
            clients.append(client)
            return client

        first, second = tablet("member00@example.gov.vn"), tablet("member01@example.gov.vn")
        before = first.call("vote.cast", ballot_id=ballot_id, choice="approve", client_vote_id=uuid.uuid4().hex)
        assert before["ok"], before

        _, stop_took = _timed(lambda: private_postgres.stop("immediate"))
        assert stop_took < 20

        page, took = _timed(lambda: first.http.get(server.url + "/", timeout=30))
        assert page.status_code == 503 and took < FAIL_FAST
        assert page.headers["Retry-After"] == "5"
        assert "Cơ sở dữ liệu tạm thời không truy cập được" in page.text  # Vietnamese by default
        as_json = first.http.get(server.url + "/meetings", headers={"Accept": "application/json"}, timeout=30)
        assert as_json.status_code == 503
        assert as_json.json()["error"].startswith("Cơ sở dữ liệu")
        health = requests.get(server.url + "/healthz", timeout=30)
        assert health.status_code == 503 and health.json()["database"] == "unavailable"

        key = uuid.uuid4().hex
        ack, took = _timed(lambda: second.call("vote.cast", ballot_id=ballot_id, choice="reject",
                                               client_vote_id=key))
        assert ack["ok"] is False and ack["error"] == "unavailable" and ack["message"], ack
        assert took < FAIL_FAST
        assert first.call("vote.list")["error"] == "unavailable"

        # A tablet (re)connecting meanwhile is refused with the reason, not left waiting.
        newcomer = socketio.Client(reconnection=False, websocket_extra_options={"origin": server.url})
        refusals: list = []
        newcomer.on("connect_error", refusals.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            newcomer.connect(server.url, headers={"Cookie": cookie_header(first.http)}, transports=["websocket"],
                             wait_timeout=FAIL_FAST)
        assert refusals[-1]["message"] == "unavailable" and refusals[-1]["data"]["message"], refusals

        private_postgres.start()
        took = _wait_until(lambda: requests.get(server.url + "/healthz", timeout=5).ok, RECOVERY)
        assert took < RECOVERY
        assert first.http.get(server.url + "/", timeout=10).status_code == 200
        retried = second.call("vote.cast", ballot_id=ballot_id, choice="reject", client_vote_id=key)
        assert retried["ok"] and not retried["repeated"], retried  # the refused attempt stored nothing
        newcomer.connect(server.url, headers={"Cookie": cookie_header(first.http)}, transports=["websocket"],
                         wait_timeout=10)
        newcomer.disconnect()

        chair = tablet("chair@example.gov.vn")
        closed = chair.call("chair.close_vote", ballot_id=ballot_id)
        assert closed["ok"], closed
        assert closed["ballot"]["result"]["questions"][0]["counts"] == {"approve": 1, "reject": 1, "abstain": 0}
        with contextlib.suppress(Exception):  # this process's own connection died with the server
            db.session.rollback()
        db.engine.dispose()
        assert voting.verify_ballot(ballot_id).ok
    finally:
        for client in clients:
            client.close()
        server.stop()
        if not private_postgres.running():
            private_postgres.start()
