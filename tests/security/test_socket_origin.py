"""Cross-site WebSocket hijacking: a signed-in user's cookie is not enough, the handshake must come from the
app's own origin. Lookalike origins and a missing Origin are refused too. (Over real sockets, on both
transports and through the WSGI guard: tests/live/test_socket_auth.py.)"""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.helpers import login


@pytest.mark.parametrize("origin", [None, "https://evil.example", "http://localhost.evil.example",
                                    "http://localhost:8080", "null"])
def test_a_foreign_origin_cannot_use_the_session(app, client, users, origin):
    login(client, "member@example.gov.vn", PASSWORD)
    headers = {"Origin": origin} if origin else {}
    sio = app.extensions["socketio"].test_client(app, flask_test_client=client, headers=headers)
    assert not sio.is_connected()


def test_the_own_origin_can(app, client, users):
    login(client, "member@example.gov.vn", PASSWORD)
    sio = app.extensions["socketio"].test_client(app, flask_test_client=client, headers={"Origin": "http://localhost"})
    assert sio.is_connected()
    sio.disconnect()
