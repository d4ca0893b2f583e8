"""The admin's view of the audit log, with the chain's verification status."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import select

from ecabinet.audit import policy, service
from ecabinet.audit.models import AuditEntry
from ecabinet.core.actor import current_actor
from ecabinet.core.policy import guard
from ecabinet.core.schemas import arg_int
from ecabinet.core.views import refused_requests
from ecabinet.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

PAGE = 100


@refused_requests.register("audit")
def record_refused_request(action: str, details: dict[str, Any]) -> None:
    """A CSRF failure or a rate limit is a security event: it is audited like a failed sign-in."""
    service.record(current_actor(), action, details=details)


@bp.route("/")
@guard(policy.can_view_audit)
def log():
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    action = (request.args.get("action") or "").strip()[:64]
    actor = (request.args.get("actor") or "").strip()[:254]
    meeting = arg_int("meeting")
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    if actor:
        query = query.where(AuditEntry.actor_label.contains(actor))
    if meeting:
        query = query.where(AuditEntry.meeting_id == meeting)
    before = arg_int("before")
    if before:
        query = query.where(AuditEntry.id < before)
    entries = db.session.scalars(query.limit(PAGE)).all()
    return render_template("audit/log.html", entries=entries, report=service.verify_chain(),
                           filters={"action": action, "actor": actor, "meeting": meeting or ""},
                           more=len(entries) == PAGE)
