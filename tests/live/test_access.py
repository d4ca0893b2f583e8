"""Every live-room page for every role: the policy decides, nothing answers 500."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.helpers import login

EXPECTED = {
    # role: (room, console)
    "anonymous": (302, 302),
    "admin": (404, 404),
    "guest": (200, 403),
    "member": (200, 403),
    "chair": (200, 200),
    "secretary": (200, 403),
    "outsider": (404, 404),
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_live_pages_by_role(in_session, cabinet, client, role):
    if role == "outsider":
        from tests.meetings.conftest import make_outsider

        make_outsider()
        login(client, "outsider@example.gov.vn", PASSWORD)
    elif role != "anonymous":
        login(client, f"{role}@example.gov.vn", PASSWORD)
    room = client.get(f"/meetings/{in_session.id}/room").status_code
    console = client.get(f"/meetings/{in_session.id}/console").status_code
    assert (room, console) == EXPECTED[role]


def test_every_live_route_is_covered(app):
    live_routes = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("live.")}
    assert live_routes == {"live.room", "live.console"}, "add the new route to EXPECTED above"


def test_every_socket_event_has_a_rule(app):
    from ecabinet.core.policy import EVENT_RULES

    registered = set(app.extensions["socketio"].server.handlers["/"])
    assert registered - {"connect", "disconnect"} <= set(EVENT_RULES), "a Socket.IO handler without a policy rule"
