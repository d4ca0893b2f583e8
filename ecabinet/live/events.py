"""Socket.IO connection handling: only signed-in users, only from allowed Origins."""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user

from ecabinet.accounts.auth import current_session
from ecabinet.audit import service as audit
from ecabinet.core.actor import current_actor
from ecabinet.core.security import origin_allowed
from ecabinet.extensions import db, socketio
from ecabinet.live import service


def _refuse(reason: str) -> None:
    audit.record(current_actor(), "security.socket_refused", details={"reason": reason,
                                                                      "origin": request.headers.get("Origin")})
    db.session.commit()
    raise ConnectionRefusedError(reason)


@socketio.on("connect")
def on_connect(auth=None):  # noqa: ANN001
    if not origin_allowed(request.headers.get("Origin"), request.host_url,
                          current_app.config["SOCKETIO_ALLOWED_ORIGINS"]):
        _refuse("origin_not_allowed")
    row = current_session()
    if not current_user.is_authenticated or row is None:
        _refuse("not_signed_in")
    service.register_connection(request.sid, current_user.id, row.id)
    return True


@socketio.on("disconnect")
def on_disconnect(reason=None):  # noqa: ANN001
    service.unregister_connection(request.sid)
