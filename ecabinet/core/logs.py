"""Logs an operator can search: one JSON object per line (``LOG_FORMAT=json``), each carrying the request
id, and in a Socket.IO handler the socket id and event, so that one tablet's trouble can be followed
across the proxy, the instances and the job worker.

The request id comes from the proxy's ``X-Request-ID`` (deploy/haproxy.cfg sets one per request), or is
made here; it is sent back in the answer's ``X-Request-ID`` so that a user's report can quote it. A
socket's events carry the id of the request that opened the socket.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

ACCESS = logging.getLogger("ecabinet.access")
# What a proxy's id may look like: anything else (too long, odd bytes, a forged log line) is replaced.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{8,128}")  # a UUID, a hex id, base64
_HANDLER_MARK = "_ecabinet_json_handler"


def request_id() -> str | None:
    """This request's id (or the id of the request that opened this socket), outside a request None."""
    if not has_request_context():
        return None
    found = g.get("request_id")
    if found is None:
        offered = request.headers.get("X-Request-ID", "")
        found = offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        g.request_id = found
    return found


class RequestContext(logging.Filter):
    """Adds the request's (and socket's) identity to every record logged while one is being handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = request_id()
            sid = getattr(request, "sid", None)
            if sid is not None:  # a Socket.IO handler: Flask-SocketIO puts the socket id on the request
                record.socket_id = sid
                event = getattr(request, "event", None)
                if isinstance(event, dict) and isinstance(event.get("message"), str):
                    record.event = event["message"][:64]
            else:
                record.method = request.method
                record.path = request.path[:300]
        return True


def json_formatter() -> JsonFormatter:
    return JsonFormatter("{asctime}{levelname}{name}{message}", style="{", timestamp=False,
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                         json_ensure_ascii=False)


def _install_json_handler(level: str) -> None:
    """One handler on the root logger per process (an app made twice, as tests do, adds no second)."""
    root = logging.getLogger()
    if any(getattr(h, _HANDLER_MARK, False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestContext())
    setattr(handler, _HANDLER_MARK, True)
    # Replaces the plain handlers (gunicorn's and logging.basicConfig's would print each line twice).
    for other in list(root.handlers):
        root.removeHandler(other)
    root.addHandler(handler)
    root.setLevel(level)


def init_logging(app: Flask) -> None:
    if app.config.get("LOG_FORMAT") == "json":
        _install_json_handler(app.config.get("LOG_LEVEL", "INFO"))

    @app.before_request
    def _started() -> None:
        g.request_started = time.perf_counter()
        request_id()

    @app.after_request
    def _answered(response: Any) -> Any:
        response.headers["X-Request-ID"] = request_id() or ""
        if app.config.get("LOG_ACCESS"):
            started = g.get("request_started")
            ACCESS.info("%s %s %s", request.method, request.path[:300], response.status_code, extra={
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
                "user_id": _user_id()})
        return response


def _user_id() -> int | None:
    from flask_login import current_user

    try:
        return int(current_user.id) if current_user and current_user.is_authenticated else None
    except (AttributeError, TypeError, ValueError):
        return None
