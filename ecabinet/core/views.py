"""The home page, the language switch and the error pages."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ecabinet.accounts import policy as account_policy
from ecabinet.audit import service as audit
from ecabinet.core.actor import current_actor
from ecabinet.core.i18n import LANGUAGES
from ecabinet.core.policy import guard, public
from ecabinet.extensions import db

bp = Blueprint("core", __name__)


@bp.route("/")
@guard(account_policy.signed_in)
def home():
    from ecabinet.meetings import service as meetings

    return render_template("core/home.html", user=current_user, home=meetings.member_home(current_user),
                           notification_text=meetings.notification_text)


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
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}


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
}


def _audit_failure(action: str, details: dict) -> None:
    try:
        audit.record(current_actor(), action, details={"path": request.path, **details})
        db.session.commit()
    except Exception:  # noqa: BLE001 - an error page must render even if the database is down
        db.session.rollback()


def _render_error(code: int, message: str | None = None):
    text = message or _(ERROR_TEXT.get(code, ERROR_TEXT[500]))
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
        return {"error": text, "status": code}, code
    return render_template("core/error.html", code=code, message=text), code


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
        app.logger.exception("unhandled error on %s", request.path)
        db.session.rollback()
        return _render_error(500)
