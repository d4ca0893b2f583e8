"""A tally whose read fails (the database restarting) stays pending and is sent once the read works,
without waiting for another vote or the close."""

from __future__ import annotations

import contextvars
import time
import uuid

import pytest
import sqlalchemy as sa
from flask.globals import _cv_app

from ecabinet.core.errors import database_unavailable
from ecabinet.extensions import db
from ecabinet.voting import tally
from tests.conftest import PASSWORD, IsolatedClient, free_port
from tests.helpers import login
from tests.voting.conftest import live_open, quorate  # noqa: F401 - fixtures reused here


def isolated(fn):
    """Run ``fn`` in an app context of its own, as the server runs every event."""
    db.session.rollback()

    def run():
        _cv_app.set(None)
        return fn()

    return contextvars.copy_context().run(run)


def tablet(app, email: str, meeting_id: int):
    app.test_client_class = IsolatedClient
    browser = app.test_client()
    assert login(browser, email, PASSWORD).status_code == 302
    sio = isolated(lambda: app.extensions["socketio"].test_client(app, flask_test_client=browser,
                                                                  headers={"Origin": "http://localhost"}))
    assert sio.is_connected()
    ack = isolated(lambda: sio.emit("join", {"meeting_id": meeting_id, "last_seq": None}, callback=True))
    assert ack["ok"], ack
    sio.get_received()
    return sio


def tallies_within(sio, seconds: float) -> list[dict]:
    deadline, got = time.monotonic() + seconds, []
    while time.monotonic() < deadline and not got:
        got = [m["args"][0] for m in sio.get_received() if m["name"] == "ballot.tally"]
        time.sleep(0.05)
    return got


@pytest.fixture
def a_read_that_fails_once(monkeypatch):
    """The sender's first read goes to a database that is not there (a closed port): a real driver
    error, as while PostgreSQL restarts. Later reads go to the app's database."""
    closed = sa.create_engine(f"postgresql+psycopg://ecabinet@127.0.0.1:{free_port()}/ecabinet",
                              poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 2})
    send, reads, errors = tally.send, [], []

    def read_then_send(ballot_id: int, meeting_id: int) -> float:
        reads.append(ballot_id)
        if len(reads) == 1:
            try:
                db.session.scalar(sa.select(sa.literal(1)), bind_arguments={"bind": closed})
            except Exception as exc:
                errors.append(exc)
                raise
        return send(ballot_id, meeting_id)

    monkeypatch.setattr(tally, "send", read_then_send)
    yield reads, errors
    closed.dispose()


def test_a_failed_read_keeps_the_tally_pending_until_it_is_sent(app, quorate, live_open,  # noqa: F811
                                                                a_read_that_fails_once):
    reads, errors = a_read_that_fails_once
    meeting_id, ballot_id = quorate.id, live_open.id
    observer = tablet(app, "secretary@example.gov.vn", meeting_id)
    voter = tablet(app, "member@example.gov.vn", meeting_id)

    ack = isolated(lambda: voter.emit("vote.cast", {"meeting_id": meeting_id, "ballot_id": ballot_id,
                                                    "choice": "approve", "client_vote_id": uuid.uuid4().hex},
                                      callback=True))
    assert ack["ok"], ack

    # No other vote follows: the one tally must still arrive, after the failed read and a short backoff.
    got = tallies_within(observer, 5)
    assert len(errors) == 1 and database_unavailable(errors[0])  # the first read did fail, as a database does
    assert reads[:2] == [ballot_id, ballot_id]
    assert got and (got[-1]["ballot_id"], got[-1]["voted"], got[-1]["version"]) == (ballot_id, 1, 1)
