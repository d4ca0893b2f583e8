"""The language switch, the health check, the input guards and the error pages."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, current_app, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ecabinet.core import uow
from ecabinet.core.errors import DATABASE_UNAVAILABLE, database_unavailable, disk_full, forget_signed_in_user
from ecabinet.core.hooks import Hook
from ecabinet.core.i18n import LANGUAGES
from ecabinet.core.policy import public
from ecabinet.extensions import db, socketio

bp = Blueprint("core", __name__)

# Requests refused before any view ran that leave a security record (a CSRF failure, a rate limit):
# ``fn(action, details)``. The audit domain, above this one, fills it.
refused_requests: Hook[Callable[[str, dict[str, Any]], None]] = Hook("core.refused_requests")


@bp.route("/language/<code>", methods=["POST"])
@public
def set_language(code: str):
    if code in LANGUAGES:
        session["locale"] = code
    target = request.form.get("next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    return redirect(target)


@bp.route("/healthz")
@public
def healthz():
    try:
        db.session.execute(db.text("SELECT 1"))
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        _discard_session()
        return {"status": "unavailable", "database": "unavailable"}, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    body = {"status": "ok", "database": "ok"}
    if current_app.config["REDIS_URL"]:
        # Without Redis this instance still serves its own clients; only other instances miss its events.
        healthy = getattr(getattr(socketio.server, "manager", None), "healthy", True)
        body["message_queue"] = "ok" if healthy else "unavailable"
    return body


ERROR_TEXT = {
    400: "The request could not be understood.",
    401: "Please sign in first.",
    403: "You are not allowed to do this.",
    404: "This page does not exist, or you may not see it.",
    405: "This action is not allowed here.",
    413: "The file is too large.",
    429: "Too many attempts. Please wait a minute and try again.",
    500: "Something went wrong on our side. The error has been logged.",
    503: "The service is temporarily unavailable. Please try again shortly.",
    507: "The server has no disk space left, so nothing was saved. Please tell the administrator.",
}

# How long a client should wait before retrying while the database is unavailable.
RETRY_AFTER_SECONDS = 5


def _audit_failure(action: str, details: dict[str, Any]) -> None:
    """Record a refused request; the error page is its boundary (no view ran to commit)."""
    try:
        for record in refused_requests:
            record(action, {"path": request.path, **details})
        uow.commit()
    except Exception:  # noqa: BLE001 - an error page must render even if the database is down
        uow.rollback()


def _render_error(code: int, message: str | None = None):
    text = message or _(ERROR_TEXT.get(code, ERROR_TEXT[500]))
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
        return {"error": text, "status": code}, code
    return render_template("core/error.html", code=code, message=text), code


NUL_REFUSED = "Text cannot contain the NUL character (a zero byte). Remove it and try again."


def _holds_nul() -> bool:
    """Whether a query or form value holds a NUL. No field of the app takes one, and PostgreSQL cannot
    store or even compare it: refused once, here, for every route (JSON bodies: core/schemas.py)."""
    if request.path.startswith("/api/"):
        return False  # the API answers odd input itself, as problem+json (api/http.py)
    pairs = list(request.args.items(multi=True))
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        pairs += request.form.items(multi=True)
    return any("\x00" in name or "\x00" in value for name, value in pairs)


def register_input_guards(app: Flask) -> None:
    """Input no route accepts, refused before any view runs."""

    @app.before_request
    def refuse_nul():  # noqa: ANN202
        if _holds_nul():
            return _render_error(400, _(NUL_REFUSED))
        return None


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        _audit_failure("security.csrf_failed", {"reason": exc.description})
        return _render_error(400, _("Your form has expired or was not sent from this site. "
                                    "Please reload the page and try again."))

    @app.errorhandler(429)
    def too_many(exc):  # noqa: ANN001
        _audit_failure("security.rate_limited", {"limit": str(exc.description)})
        return _render_error(429)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _render_error(exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if database_unavailable(exc):
            return _unavailable(exc)
        if disk_full(exc):
            app.logger.error("no disk space left on %s: %s", request.path, exc)
            return _render_error(507)
        if _redis_down(exc):  # queuing a job (final minutes, a board book) needs Redis when it is configured
            app.logger.error("Redis unavailable on %s: %s", request.path, exc)
            return _render_error(503)
        app.logger.exception("unhandled error on %s", request.path)
        db.session.rollback()
        return _render_error(500)

    def _unavailable(exc: Exception):
        # Expected while PostgreSQL restarts: one line in the log, not a traceback per request.
        app.logger.warning("database unavailable on %s: %s", request.path, str(exc).splitlines()[0])
        _discard_session()
        forget_signed_in_user()
        response = app.make_response(_render_error(503, _(DATABASE_UNAVAILABLE)))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


def _redis_down(exc: Exception) -> bool:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return isinstance(exc, RedisConnectionError | RedisTimeoutError)


def _discard_session() -> None:
    """Give the connection back: one found lost was thrown away with its pool (ecabinet/core/pool.py)."""
    with contextlib.suppress(Exception):  # the connection may already be gone
        db.session.remove()
