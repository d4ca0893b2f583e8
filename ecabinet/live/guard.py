"""A WSGI guard in front of Socket.IO: a foreign Origin is refused with 403 before the handshake, and audited.

Engine.IO's own same-origin check stays on behind it, as a second layer.

Refused handshakes (here, and in the connect handler: not signed in) are audited in aggregate, per source
address: anyone can send them, and one audit entry per refusal let 2,000 anonymous handshakes write 2,000
entries in 3 s. See ``RefusedHandshakes``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from flask import Flask
from werkzeug.wrappers import Request

from ecabinet.core.security import origin_allowed

# At most one audit entry of refused handshakes per source address per this many seconds.
REFUSAL_AUDIT_SECONDS = 60.0


@dataclass
class _Interval:
    """One address's open interval: when its last entry was written, and the refusals counted since."""

    started: float
    reasons: Counter[str] = field(default_factory=Counter)
    origin: str | None = None

    @property
    def pending(self) -> int:
        return sum(self.reasons.values())


class RefusedHandshakes:
    """The audit of refused handshakes, at most one entry per source address per interval.

    - A refusal from an address with no open interval is written at once (count 1, or more when it
      carries refusals counted in an interval that had ended unflushed) and opens an interval.
    - Later refusals inside the interval are only counted, in memory.
    - When the interval ends with refusals counted, one entry is written with their count (by the
      flusher, or by the next refusal if that comes first) and a new interval opens with it; an
      interval that ends with nothing counted is closed, so the next refusal is written at once again.

    So every refusal is in exactly one entry (``details.count``, ``details.reasons``), and a source that
    never stops gets one entry per interval. Counts still in memory are lost if the process dies:
    at most one interval's worth per address, from the entry that opened it one can tell it was there.
    """

    def __init__(self, app: Flask, interval: float = REFUSAL_AUDIT_SECONDS) -> None:
        self.app = app
        self.interval = interval
        self._open: dict[str | None, _Interval] = {}
        self._lock = threading.Lock()
        self._flushing = False

    def refused(self, address: str | None, reason: str, origin: str | None, now: float | None = None) -> bool:
        """Count a refusal; True when it was written at once (it opened an interval)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            current = self._open.get(address)
            if current is not None and now - current.started < self.interval:
                current.reasons[reason] += 1
                current.origin = origin
                return False
            # A new interval; the refusals counted in an ended one that the flusher has not written yet
            # go into this entry.
            reasons = (current.reasons if current is not None else Counter()) + Counter({reason: 1})
            self._open[address] = _Interval(started=now)
            start_flusher = not self._flushing
            self._flushing = True
        self._write(address, reasons, origin)
        if start_flusher:
            self._start_flusher()
        return True

    def flush(self, now: float | None = None) -> int:
        """Write the intervals that have ended with refusals counted; answer how many remain open."""
        now = time.monotonic() if now is None else now
        due: list[tuple[str | None, Counter[str], str | None]] = []
        with self._lock:
            for address, current in list(self._open.items()):
                if now - current.started < self.interval:
                    continue
                if current.pending:
                    due.append((address, current.reasons, current.origin))
                    self._open[address] = _Interval(started=now)  # the entry written now opens the next one
                else:
                    del self._open[address]
            remaining = len(self._open)
            if not remaining:
                self._flushing = False
        for address, reasons, origin in due:
            self._write(address, reasons, origin)
        return remaining

    def _start_flusher(self) -> None:
        from ecabinet.extensions import socketio

        socketio.start_background_task(self._flush_while_open)

    def _flush_while_open(self) -> None:
        from ecabinet.extensions import socketio

        # Runs only while some interval is open, so an idle instance (or a test's app) keeps no task.
        while True:
            socketio.sleep(max(0.05, self.interval / 4))
            try:
                if not self.flush():
                    return
            except Exception:  # noqa: BLE001 - the flusher must outlive a database restart
                self.app.logger.warning("could not audit refused handshakes", exc_info=True)

    def _write(self, address: str | None, reasons: Counter[str], origin: str | None) -> None:
        from ecabinet.audit import service as audit
        from ecabinet.core import uow
        from ecabinet.core.actor import Actor

        details = {"reason": reasons.most_common(1)[0][0], "origin": origin, "count": sum(reasons.values()),
                   "reasons": dict(reasons), "interval_seconds": self.interval}
        # An app context of its own: the refusal happens outside any view (or ends the connect handler),
        # so the entry is its own unit of work.
        with self.app.app_context():
            try:
                audit.record(Actor(None, address, label="anonymous"), "security.socket_refused", details=details)
                uow.commit()
            except Exception:  # noqa: BLE001 - refusing must not depend on the database
                uow.rollback()
                self.app.logger.warning("could not audit a refused handshake from %s", address, exc_info=True)


def refused_handshakes(app: Flask) -> RefusedHandshakes:
    """The app's aggregate of refused handshakes (``SOCKET_REFUSAL_AUDIT_SECONDS`` sets the interval)."""
    found = app.extensions.get("refused_handshakes")
    if found is None:
        found = app.extensions["refused_handshakes"] = RefusedHandshakes(
            app, float(app.config.get("SOCKET_REFUSAL_AUDIT_SECONDS", REFUSAL_AUDIT_SECONDS)))
    return found


class OriginGuard:
    def __init__(self, app: Flask, wsgi_app) -> None:  # noqa: ANN001
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):  # noqa: ANN001
        if environ.get("PATH_INFO", "").startswith("/socket.io"):
            request = Request(environ)
            origin = request.headers.get("Origin")
            if not origin_allowed(origin, request.host_url, self.app.config["SOCKETIO_ALLOWED_ORIGINS"]):
                refused_handshakes(self.app).refused(environ.get("REMOTE_ADDR"), "origin_not_allowed", origin)
                body = json.dumps({"error": "origin_not_allowed",
                                   "message": "Connections are accepted only from this site."}).encode()
                start_response("403 Forbidden", [("Content-Type", "application/json"),
                                                 ("Content-Length", str(len(body)))])
                return [body]
        return self.wsgi_app(environ, start_response)


class NoWebSocketCompression:
    """Decline permessage-deflate on the Socket.IO WebSocket (docs/realtime.md, "Compression").

    simple-websocket accepts every offer, and wsproto then keeps a zlib compressor for each socket's
    life: measured with real clients, 130-165 KB of worker memory per tablet (705 MiB at 2,000) and a
    quarter to a third more CPU per broadcast, to save about 230 bytes per event. simple-websocket builds
    its handshake from the environ's ``HTTP_*`` keys, so without the offer nothing is negotiated."""

    def __init__(self, wsgi_app, path: str = "/socket.io/") -> None:  # noqa: ANN001 - a WSGI app
        self.wsgi_app = wsgi_app
        self.path = path

    def __call__(self, environ, start_response):  # noqa: ANN001, ANN204 - the WSGI signature
        if environ.get("PATH_INFO", "").startswith(self.path):
            environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return self.wsgi_app(environ, start_response)
