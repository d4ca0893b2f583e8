"""A socket's sign-in session is checked in full at connect; every event after that reads the session row
and its user, so an ended session, a disabled account or an idle timeout is refused at the very next
event, even when no disconnect reached the socket."""

from __future__ import annotations

import contextvars
from datetime import timedelta

import pytest
from flask.globals import _cv_app

from ecabinet.accounts.models import UserSession
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import login

UNKNOWN_MEETING = {"meeting_id": 987654, "last_seq": None}


def join(sio) -> dict:  # noqa: ANN001
    """Send an event in an app context of its own, as the server does for every event (no ``g`` kept
    from the test or from an earlier event)."""
    db.session.rollback()

    def isolated():
        _cv_app.set(None)
        return sio.emit("join", dict(UNKNOWN_MEETING), callback=True)

    return contextvars.copy_context().run(isolated)


@pytest.fixture
def member_socket(app, client, users):
    login(client, "member@example.gov.vn", PASSWORD)
    sio = app.extensions["socketio"].test_client(app, flask_test_client=client, headers={"Origin": "http://localhost"})
    assert sio.is_connected()
    yield sio
    if sio.is_connected():
        sio.disconnect()


def test_a_signed_in_socket_is_answered_by_the_policy(member_socket):
    assert join(member_socket) == {"ok": False, "error": "not_found"}


def test_a_disabled_account_is_refused_at_its_next_event(member_socket, users):
    users["member"].active = False  # straight in the database: no disconnect is sent
    db.session.commit()
    assert join(member_socket) == {"ok": False,
                                                                               "error": "not_signed_in"}
    assert not member_socket.is_connected()


def test_an_ended_session_is_refused_at_its_next_event(member_socket, users):
    for row in db.session.query(UserSession).filter_by(user_id=users["member"].id):
        row.revoked_at = utcnow()  # straight in the database: as if the instance missed the disconnect
    db.session.commit()
    assert join(member_socket) == {"ok": False, "error": "not_signed_in"}
    assert not member_socket.is_connected()


def test_an_idle_session_ends_at_its_next_event(app, member_socket, users):
    idle = timedelta(hours=app.config["SESSION_LIFETIME_HOURS"], minutes=1)
    for row in db.session.query(UserSession).filter_by(user_id=users["member"].id):
        row.last_seen_at = utcnow() - idle
    db.session.commit()
    assert join(member_socket) == {"ok": False, "error": "not_signed_in"}
    db.session.rollback()
    rows = db.session.query(UserSession).filter_by(user_id=users["member"].id).all()
    assert rows and all(row.revoked_at is not None for row in rows)  # ended, not only refused


def test_a_socket_in_use_keeps_its_session_alive(app, member_socket, users):
    stale = utcnow() - timedelta(minutes=30)
    for row in db.session.query(UserSession).filter_by(user_id=users["member"].id):
        row.last_seen_at = stale
    db.session.commit()
    assert join(member_socket) == {"ok": False, "error": "not_found"}
    db.session.rollback()
    rows = db.session.query(UserSession).filter_by(user_id=users["member"].id).all()
    assert all(row.revoked_at is None and row.last_seen_at > stale for row in rows)
