"""A WSGI guard in front of Socket.IO: a foreign Origin is refused with 403 before the handshake, and audited.

Engine.IO's own same-origin check stays on behind it, as a second layer.
"""

from __future__ import annotations

import json

from flask import Flask
from werkzeug.wrappers import Request

from ecabinet.core.security import origin_allowed


class OriginGuard:
    def __init__(self, app: Flask, wsgi_app) -> None:  # noqa: ANN001
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):  # noqa: ANN001
        if environ.get("PATH_INFO", "").startswith("/socket.io"):
            request = Request(environ)
            origin = request.headers.get("Origin")
            if not origin_allowed(origin, request.host_url, self.app.config["SOCKETIO_ALLOWED_ORIGINS"]):
                self._audit(environ, origin)
                body = json.dumps({"error": "origin_not_allowed",
                                   "message": "Connections are accepted only from this site."}).encode()
                start_response("403 Forbidden", [("Content-Type", "application/json"),
                                                 ("Content-Length", str(len(body)))])
                return [body]
        return self.wsgi_app(environ, start_response)

    def _audit(self, environ, origin: str | None) -> None:  # noqa: ANN001
        from ecabinet.audit import service as audit
        from ecabinet.core import uow
        from ecabinet.core.actor import Actor

        with self.app.app_context():
            try:
                audit.record(Actor(None, environ.get("REMOTE_ADDR"), label="anonymous"),
                             "security.socket_refused", details={"reason": "origin_not_allowed", "origin": origin})
                uow.commit()  # the refusal happens outside any view: it is its own boundary
            except Exception:  # noqa: BLE001 - refusing must not depend on the database
                uow.rollback()
