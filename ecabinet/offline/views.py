"""Offline packs' routes: a device and its key, a meeting's manifest, the check-in, the changes made
offline, the devices pages and the secretariat's rule. Thin: the policy decides, the service acts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ecabinet.accounts.auth import current_session
from ecabinet.accounts.models import User
from ecabinet.core import uow
from ecabinet.core.actor import current_actor
from ecabinet.core.errors import DomainError
from ecabinet.core.policy import Denied, Hidden, guard, public, user_or_none
from ecabinet.core.schemas import json_body
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting
from ecabinet.meetings.queries import meeting_or_404
from ecabinet.offline import policy, service
from ecabinet.offline.schemas import Changes, CheckInBody, NewDevice, PackHeld

bp = Blueprint("offline", __name__)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"offline_panel": offline_panel, "offline_strings": offline_strings}


def offline_strings() -> dict[str, str]:
    """The words static/js/offline.js shows on every page."""
    return {"banner": _("Offline since %(since)s: reading what this tablet keeps. Notes are sent when the "
                        "network returns.", since="%(since)s"),
            "needsNetwork": _("Needs the network: votes and the meeting room wait for the connection."),
            "conflicts": _("%(n)s changes made offline were not applied: a later change was made elsewhere, the "
                           "note was deleted, or the change was refused. What you wrote is kept here:", n="%(n)s"),
            "conflictsDone": _("I have read it"),
            "positionOffline": _("Offline: your position is kept on this tablet and sent when the network returns."),
            "positionPending": _("Not sent yet: %(position)s.", position="%(position)s"),
            "positionConflict": _("Your position on %(item)s: %(position)s", item="%(item)s",
                                  position="%(position)s")}


ASSET_GLOBS = ("js/*.js", "css/*.css", "vendor/*.js", "vendor/*.css", "vendor/icons.svg", "icons/icon-192.png")


def _assets() -> list[str]:
    """The app's files a pack's pages need offline (kept in the shared assets cache, nothing personal)."""
    root = Path(current_app.static_folder or "static")
    files = sorted({p.relative_to(root).as_posix() for pattern in ASSET_GLOBS for p in root.glob(pattern)})
    return [url_for("static", filename=f) for f in files if not f.endswith("service-worker.js")]


def offline_panel(meeting: Meeting) -> dict[str, Any] | None:
    """What the meeting page's "Take offline" panel needs, or None when the user may not take it."""
    user = current_user
    if not user.is_authenticated or not policy.may_take_offline(user):
        return None
    rule = service.rule_for(meeting)
    documents = service.packable(user, meeting)
    return {"allowed": rule.allowed, "confidential_allowed": rule.confidential_allowed,
            "count": len(documents), "can_set_rule": policy.can_set_rule(user, meeting_id=meeting.id),
            "manifest": url_for("offline.manifest", meeting_id=meeting.id),
            "ended": service.expires_at(meeting) <= utcnow()}


def _error(exc: Exception, status: int | None = None):
    if isinstance(exc, Denied):
        return jsonify(error=_(exc.message)), 403
    assert isinstance(exc, DomainError)
    return jsonify(error=exc.translated()), status or exc.status


def _own_device(device_id: int):
    try:
        return service.own_device(current_user, device_id)
    except Hidden:
        abort(404)


def _urls(kind: str, **ids: int) -> str:
    endpoint = {"meeting": "meetings.show", "item": "meetings.item", "document": "documents.show",
                "file": "documents.stream", "annotations": "documents.annotations"}[kind]
    return url_for(endpoint, **ids)


# --- devices and packs ------------------------------------------------------------------------------

@bp.route("/offline/devices", methods=["POST"])
@guard(policy.can_use_devices)
def new_device():
    data = json_body(NewDevice).given()
    label = service.short_label(data.get("label") or request.headers.get("User-Agent") or "")
    try:
        device, key = service.register_device(current_actor(), current_session(), label)
    except Denied as exc:
        return _error(exc)
    return jsonify(device=device.id, key=service.new_key_b64(key), max_hours=service.max_hours()), 201


@bp.route("/offline/meetings/<int:meeting_id>/manifest")
@guard(policy.can_take_meeting)
def manifest(meeting_id: int):
    device_id = request.args.get("device", type=int)
    if device_id is None:
        return jsonify(error=_("Which device?")), 400
    device = _own_device(device_id)
    meeting = meeting_or_404(meeting_id)
    try:
        return jsonify(service.manifest(current_user, device, meeting, _urls) | {"assets": _assets()})
    except DomainError as exc:
        return _error(exc, 409)


@bp.route("/offline/devices/<int:device_id>/meetings/<int:meeting_id>", methods=["POST"])
@guard(policy.can_take_meeting)
def pack_held(device_id: int, meeting_id: int):
    device = _own_device(device_id)
    data = json_body(PackHeld).given()
    try:
        pack = service.record_pack(current_actor(), device, meeting_or_404(meeting_id), data["documents"], data["size"])
    except DomainError as exc:
        return _error(exc, 409)
    return jsonify(ok=True, documents=service.pack_document_ids(pack))


@bp.route("/offline/token")
@public
def token():
    """A fresh CSRF token for the check-in: a page opened from a pack carries one that may have expired,
    or belong to a sign-in that has ended (which is what the check-in must then learn)."""
    response = jsonify(csrf=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/offline/check-in", methods=["POST"])
@public
def check_in():
    """What the device must delete. Open to a signed-out browser: that is how it learns to wipe."""
    body = json_body(CheckInBody)
    user = user_or_none()
    result = service.check_in(user, current_session() if user else None, body.device,
                              {h.meeting: list(h.documents) for h in body.holdings},
                              {v.document: v.version for h in body.holdings for v in h.versions})
    answer = result.as_dict()
    if user is not None and result.wipe is None:
        answer["csrf"] = generate_csrf()
        answer["max_hours"] = service.max_hours()
    return jsonify(answer)


@bp.route("/offline/devices/<int:device_id>/changes", methods=["POST"])
@guard(policy.can_list_own_devices)
def changes(device_id: int):
    """The changes made offline, each its own unit of work: one refused does not undo the others."""
    _own_device(device_id)
    results = []
    for change in json_body(Changes).changes:
        data = change.model_dump(exclude_unset=True)
        if change.data is not None:
            data["data"] = change.data.given()
        try:
            applied = service.apply_change(current_actor(), db.session.get(service.OfflineDevice, device_id), data)
        except (DomainError, Denied) as exc:
            uow.rollback()
            message = _(exc.message) if isinstance(exc, Denied) else exc.translated()
            results.append(service.Applied(change.client_id, "refused", message=message,
                                           item_id=getattr(change, "item_id", None)).as_dict())
            continue
        results.append(applied.as_dict())
        uow.commit()
    return jsonify(results=results)


# --- pages ------------------------------------------------------------------------------------------

@bp.route("/account/devices")
@guard(policy.can_list_own_devices)
def devices():
    return render_template("offline/devices.html", devices=_rows(service.devices_of(current_user)),
                           owner=current_user, admin=False)


@bp.route("/offline/devices/<int:device_id>/wipe", methods=["POST"])
@guard(policy.can_list_own_devices)
def wipe_own(device_id: int):
    service.request_wipe(current_actor(), _own_device(device_id), "owner")
    flash(_("The tablet will delete its offline meetings the next time it connects."), "info")
    return redirect(url_for("offline.devices"))


@bp.route("/admin/users/<int:user_id>/devices")
@guard(policy.can_wipe_any_device)
def user_devices(user_id: int):
    owner = db.session.get(User, user_id) or abort(404)
    return render_template("offline/devices.html", devices=_rows(service.devices_of(owner)), owner=owner, admin=True)


@bp.route("/admin/devices/<int:device_id>/wipe", methods=["POST"])
@guard(policy.can_wipe_any_device)
def wipe_device(device_id: int):
    device = db.session.get(service.OfflineDevice, device_id) or abort(404)
    service.request_wipe(current_actor(), device, "admin")
    flash(_("The tablet will delete its offline meetings the next time it connects."), "info")
    return redirect(url_for("offline.user_devices", user_id=device.user_id))


def _rows(devices: list) -> list[dict[str, Any]]:
    rows = []
    for device in devices:
        packs = [{"meeting": db.session.get(Meeting, p.meeting_id), "documents": len(service.pack_document_ids(p)),
                  "size": p.size, "updated_at": p.updated_at} for p in device.packs]
        rows.append({"device": device, "state": service.device_state(device), "packs": packs})
    return rows


@bp.route("/meetings/<int:meeting_id>/offline-rule", methods=["POST"])
@guard(policy.can_set_rule)
def set_rule(meeting_id: int):
    meeting = meeting_or_404(meeting_id)
    service.set_rule(current_actor(), meeting, allowed=request.form.get("allowed") == "1",
                     confidential_allowed=request.form.get("confidential_allowed") == "1")
    flash(_("Saved."), "info")
    return redirect(url_for("meetings.show", meeting_id=meeting.id) + "#offline")
