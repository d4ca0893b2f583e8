"""The screen's socket: namespace ``/display``. It carries no meeting content, only "changed" with the
room's event number; the screen then asks ``/display/state``, which applies the screen's rules.

A screen is let in by its token cookie (``policy.display_of``), never by a user session; it sends no
events, so there is nothing to guard but the connection.
"""

from __future__ import annotations

from flask import current_app, request
from flask_socketio import ConnectionRefusedError as SocketRefused
from flask_socketio import join_room

from ecabinet.core import uow
from ecabinet.core.security import origin_allowed
from ecabinet.display import policy
from ecabinet.extensions import socketio
from ecabinet.live import hooks as live_hooks

NAMESPACE = "/display"


def meeting_room(meeting_id: int) -> str:
    return f"display:{meeting_id}"


def screen_room(display_id: int) -> str:
    return f"display-screen:{display_id}"


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth=None):  # noqa: ANN001
    if not origin_allowed(request.headers.get("Origin"), request.host_url,
                          current_app.config["SOCKETIO_ALLOWED_ORIGINS"]):
        raise SocketRefused("origin_not_allowed")
    display = policy.display_of(request.cookies.get(policy.COOKIE))
    if display is None:
        raise SocketRefused("not_connected")
    join_room(meeting_room(display.meeting_id))
    join_room(screen_room(display.id))
    uow.commit()
    return True


@live_hooks.events_published.register("display")
def changed(meeting_id: int, seq: int) -> None:
    """After a numbered event of the meeting was sent to the room: tell its screens to look again."""
    socketio.emit("changed", {"seq": seq}, to=meeting_room(meeting_id), namespace=NAMESPACE)


def tell_screen(display_id: int) -> None:
    """After a screen's token was revoked, once committed: it asks again and is refused."""
    uow.after_commit(lambda: socketio.emit("changed", {"seq": None}, to=screen_room(display_id),
                                           namespace=NAMESPACE))
