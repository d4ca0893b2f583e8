"""Socket.IO connections over a real socket to the app under gunicorn's gevent worker.

Only signed-in users from an allowed Origin get in; logout and deactivation close their sockets,
on this instance and, through Redis, on another one.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
import socketio
from sqlalchemy import select

from ecabinet.audit.models import AuditEntry
from ecabinet.extensions import db
from tests.conftest import PASSWORD, LiveServer
from tests.helpers import cookie_header, csrf_from, http_login


def connect(base_url: str, cookie: str | None, origin: str | None = "same",
            transport: str = "websocket") -> socketio.Client:
    the_origin = base_url if origin == "same" else origin
    # websocket-client sends its own Origin header unless told which one to send.
    client = socketio.Client(reconnection=False, websocket_extra_options={"origin": the_origin}
                             if transport == "websocket" and the_origin else {})
    closed = threading.Event()
    client.on("disconnect", lambda *args: closed.set())
    client.closed = closed  # type: ignore[attr-defined]
    headers = {}
    if cookie:
        headers["Cookie"] = cookie
    if the_origin and transport == "polling":
        headers["Origin"] = the_origin
    client.connect(base_url, headers=headers, transports=[transport], wait_timeout=10)
    return client


def last_audit(action_prefix: str) -> AuditEntry | None:
    db.session.rollback()
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action.startswith(action_prefix))
                              .order_by(AuditEntry.id.desc())).first()


def test_signed_in_user_connects(live_server, users):
    s = http_login(live_server.url, "member@example.gov.vn", PASSWORD)
    client = connect(live_server.url, cookie_header(s))
    assert client.connected
    client.disconnect()


def test_connection_without_login_is_refused_and_audited(live_server, users):
    client = socketio.Client(reconnection=False, websocket_extra_options={"origin": live_server.url})
    reasons: list[object] = []
    client.on("connect_error", reasons.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live_server.url, transports=["websocket"], wait_timeout=10)
    # The client is told why (live.js then says to sign in again rather than retry).
    assert reasons == [{"message": "not_signed_in"}]
    entry = last_audit("security.socket_refused")
    assert entry is not None and "not_signed_in" in entry.details


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_foreign_origin_is_refused_and_audited(live_server, users, transport):
    s = http_login(live_server.url, "member@example.gov.vn", PASSWORD)
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect(live_server.url, cookie_header(s), origin="https://evil.example", transport=transport)
    entry = last_audit("security.socket_refused")
    assert entry is not None and "evil.example" in entry.details and "origin_not_allowed" in entry.details


def test_foreign_origin_gets_a_clear_403(live_server):
    r = requests.get(live_server.url + "/socket.io/?EIO=4&transport=polling",
                     headers={"Origin": "https://evil.example"}, timeout=5)
    assert r.status_code == 403 and r.json()["error"] == "origin_not_allowed"


def _wait_closed(client: socketio.Client, seconds: float = 10) -> bool:
    return client.closed.wait(seconds)  # type: ignore[attr-defined]


def test_logout_closes_the_users_sockets(live_server, users):
    s = http_login(live_server.url, "member@example.gov.vn", PASSWORD)
    client = connect(live_server.url, cookie_header(s))
    home = s.get(live_server.url + "/", timeout=5).text
    s.post(live_server.url + "/logout", data={"csrf_token": csrf_from(home)}, timeout=5)
    assert _wait_closed(client)


def test_deactivation_closes_the_users_sockets(live_server, users):
    member = http_login(live_server.url, "member@example.gov.vn", PASSWORD)
    client = connect(live_server.url, cookie_header(member))
    admin = http_login(live_server.url, "admin@example.gov.vn", PASSWORD)
    page = admin.get(live_server.url + "/admin/users", timeout=5).text
    admin.post(f"{live_server.url}/admin/users/{users['member'].id}/active",
               data={"csrf_token": csrf_from(page), "active": "0", "confirm": "1"}, timeout=5)
    assert _wait_closed(client)
    # And the old cookie no longer opens a socket.
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect(live_server.url, cookie_header(member))


def test_deactivation_on_one_instance_closes_sockets_on_another(app, db_url, tmp_path, users, redis_url):
    """Two app processes on one Redis: the admin acts on A, the member's socket lives on B."""
    a = LiveServer(db_url, tmp_path, REDIS_URL=redis_url).start()
    b = LiveServer(db_url, tmp_path, REDIS_URL=redis_url).start()
    try:
        member = http_login(b.url, "member@example.gov.vn", PASSWORD)
        client = connect(b.url, cookie_header(member))
        admin = http_login(a.url, "admin@example.gov.vn", PASSWORD)
        page = admin.get(a.url + "/admin/users", timeout=5).text
        time.sleep(0.2)
        admin.post(f"{a.url}/admin/users/{users['member'].id}/active",
                   data={"csrf_token": csrf_from(page), "active": "0", "confirm": "1"}, timeout=5)
        assert _wait_closed(client)
    finally:
        a.stop()
        b.stop()
