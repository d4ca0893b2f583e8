"""Offline packs: devices and their keys, what a pack holds, the check-in that says what a device must
delete, and the changes made offline, applied once each (docs/offline.md).

The rules are recomputed from the state at each contact rather than pushed by the lower domains: a
device asks, and is told to delete whatever its owner may no longer read (removed from the meeting, a
document withdrawn or made confidential, the meeting closed to packs), or everything (its sign-in ended,
the account was deactivated or its password reset, an administrator wiped it, the pack expired).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from ecabinet.accounts.models import User, UserSession
from ecabinet.audit import service as audit
from ecabinet.audit.models import AuditEntry
from ecabinet.core.actor import Actor
from ecabinet.core.errors import DomainError
from ecabinet.core.policy import Denied, Hidden
from ecabinet.core.types import utcnow
from ecabinet.documents import policy as documents_policy
from ecabinet.documents import service as documents
from ecabinet.documents.models import Annotation, Document
from ecabinet.extensions import db
from ecabinet.meetings import policy as meetings_policy
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import Confidentiality, ItemPosition, Meeting, MeetingItem
from ecabinet.offline.models import OfflineChange, OfflineDevice, OfflinePack, OfflineRule

KEY_BYTES = 32  # AES-256-GCM


class OfflineError(DomainError):
    pass


# --- settings ------------------------------------------------------------------------------------

def max_hours() -> int:
    return int(current_app.config.get("OFFLINE_MAX_HOURS") or 72)


def margin_hours() -> int:
    return int(current_app.config.get("OFFLINE_MEETING_MARGIN_HOURS") or 24)


def rule_for(meeting: Meeting) -> OfflineRule:
    """The meeting's rule, or the default (allowed, confidential documents excluded) when none is set."""
    rule = db.session.get(OfflineRule, meeting.id)
    return rule if rule is not None else OfflineRule(meeting_id=meeting.id, allowed=True,
                                                     confidential_allowed=False)


def set_rule(actor: Actor, meeting: Meeting, *, allowed: bool, confidential_allowed: bool) -> OfflineRule:
    rule = db.session.get(OfflineRule, meeting.id)
    if rule is None:
        rule = OfflineRule(meeting_id=meeting.id)
        db.session.add(rule)
    rule.allowed, rule.confidential_allowed, rule.updated_at = allowed, confidential_allowed, utcnow()
    audit.record(actor, "offline.rule_set", object_type="meeting", object_id=meeting.id,
                 details={"allowed": allowed, "confidential": confidential_allowed})
    return rule


def is_confidential(document: Document, item: MeetingItem | None = None) -> bool:
    """Confidential for packs: the document itself, or the agenda item it is on (``item``, when the caller
    holds it: reached through each document it was a tenth of the meeting page's time at 500 documents)."""
    item = document.item if item is None else item
    return bool(document.confidential) or item.confidentiality is Confidentiality.CONFIDENTIAL


def expires_at(meeting: Meeting, now: datetime | None = None) -> datetime:
    """A pack stops working after OFFLINE_MAX_HOURS without contact, or at the meeting's end plus a margin."""
    now = now or utcnow()
    return min(now + timedelta(hours=max_hours()), meeting.ends_at + timedelta(hours=margin_hours()))


def packable(user: User, meeting: Meeting) -> list[Document]:
    """The documents this user may take offline from this meeting: those they may read, without the
    confidential ones unless the meeting allows them. Empty when the meeting does not allow packs."""
    rule = rule_for(meeting)
    if not rule.allowed or not user.is_active:
        return []
    return [document for item, docs in documents_policy.readable_documents(user, meeting) for document in docs
            if rule.confidential_allowed or not is_confidential(document, item)]


# --- devices ---------------------------------------------------------------------------------------

def fingerprint(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()


def register_device(actor: Actor, user_session: UserSession | None, label: str) -> tuple[OfflineDevice, bytes]:
    """A new device for this sign-in, with a fresh key returned once (only its fingerprint is kept)."""
    user = actor.user
    if user is None or user_session is None or user_session.user_id != user.id:
        raise Denied()
    key = secrets.token_bytes(KEY_BYTES)
    device = OfflineDevice(user_id=user.id, session_id=user_session.id, label=label.strip()[:200],
                           key_fingerprint=fingerprint(key), wipe_reason="", held_bytes=0)
    db.session.add(device)
    db.session.flush()
    audit.record(actor, "offline.device_registered", object_type="offline_device", object_id=device.id,
                 details={"label": device.label})
    return device, key


def own_device(user: User, device_id: int) -> OfflineDevice:
    """The user's own device; anyone else's is not found."""
    device = db.session.get(OfflineDevice, device_id)
    if device is None or device.user_id != user.id:
        raise Hidden()
    return device


def devices_of(user: User) -> list[OfflineDevice]:
    return list(db.session.scalars(select(OfflineDevice).where(OfflineDevice.user_id == user.id)
                                   .order_by(OfflineDevice.last_seen_at.desc(), OfflineDevice.id.desc())))


def device_state(device: OfflineDevice) -> str:
    if device.wiped_at is not None:
        return "wiped"
    if device.wipe_requested_at is not None:
        return "wipe_pending"
    row = db.session.get(UserSession, device.session_id) if device.session_id else None
    if row is None or row.revoked_at is not None:
        return "signed_out"  # wiped at its next contact
    return "active"


def short_label(user_agent: str) -> str:
    """'Chrome · Android' from a User-Agent: enough to tell one's tablets apart."""
    agent = user_agent or ""
    browser = next((name for key, name in (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("CriOS", "Chrome"),
                                           ("Chrome/", "Chrome"), ("Safari/", "Safari")) if key in agent), "")
    system = next((name for key, name in (("iPad", "iPad"), ("iPhone", "iPhone"), ("Android", "Android"),
                                          ("Windows", "Windows"), ("Mac OS", "macOS"), ("Linux", "Linux"),
                                          ("X11", "Linux")) if key in agent), "")
    return " · ".join(part for part in (browser, system) if part) or agent[:60]


def request_wipe(actor: Actor, device: OfflineDevice, reason: str) -> None:
    """Delete everything the device holds at its next contact."""
    if device.wiped_at is None and device.wipe_requested_at is None:
        device.wipe_requested_at = utcnow()
        device.wipe_reason = reason
        audit.record(actor, "offline.wipe_requested", object_type="offline_device", object_id=device.id,
                     details={"owner": device.user.name, "reason": reason})


# --- packs -------------------------------------------------------------------------------------------

def manifest(user: User, device: OfflineDevice, meeting: Meeting, urls: Any) -> dict[str, Any]:
    """What the device downloads for this meeting. ``urls(kind, **ids)`` makes the links (the view's)."""
    if device_state(device) != "active":
        raise OfflineError("This device was wiped: take the meeting offline again after signing in.")
    if not rule_for(meeting).allowed:
        raise OfflineError("The secretariat does not allow this meeting to be taken offline.")
    now = utcnow()
    ends = expires_at(meeting, now)
    if ends <= now:
        raise OfflineError("This meeting ended too long ago to be taken offline.")
    visible = [item for item, _docs in documents_policy.readable_documents(user, meeting)]
    mine = positions_of(user, visible)
    items = [{"id": item.id, "position": item.position, "title": item.title, "kind": item.kind.value,
              "url": urls("item", meeting_id=meeting.id, item_id=item.id), "mine": mine[item.id]}
             for item in visible]
    rule = rule_for(meeting)
    docs_out = []
    for document in packable(user, meeting):
        version = documents.version_of(document)
        docs_out.append({"id": document.id, "title": document.title, "item_id": document.item_id,
                         "version": document.current_version, "size": version.size, "pages": version.page_count,
                         "confidential": is_confidential(document),
                         "viewer": urls("document", document_id=document.id),
                         "file": urls("file", document_id=document.id),
                         "annotations": urls("annotations", document_id=document.id)})
    return {"meeting": {"id": meeting.id, "title": meeting.title, "url": urls("meeting", meeting_id=meeting.id),
                        "ends_at": iso(meeting.ends_at)},
            "items": items, "documents": docs_out, "expires_at": iso(ends),
            "confidential_allowed": rule.confidential_allowed}


def record_pack(actor: Actor, device: OfflineDevice, meeting: Meeting, document_ids: list[int],
                size: int) -> OfflinePack:
    """What the device says it now holds of this meeting (shown on the devices page)."""
    if device_state(device) != "active":
        raise OfflineError("This device was wiped: take the meeting offline again after signing in.")
    allowed = {d.id for d in packable(actor.user, meeting)}
    held = sorted({int(i) for i in document_ids if int(i) in allowed})
    pack = db.session.scalar(select(OfflinePack).where(OfflinePack.device_id == device.id,
                                                       OfflinePack.meeting_id == meeting.id))
    if pack is None:
        pack = OfflinePack(device_id=device.id, meeting_id=meeting.id)
        db.session.add(pack)
        audit.record(actor, "offline.pack_taken", object_type="meeting", object_id=meeting.id,
                     details={"device": device.id, "documents": len(held)})
    pack.document_ids, pack.size, pack.updated_at = json.dumps(held), max(int(size), 0), utcnow()
    device.last_seen_at = utcnow()
    db.session.flush()
    device.held_bytes = sum(p.size for p in device.packs)
    return pack


def pack_document_ids(pack: OfflinePack) -> list[int]:
    try:
        return [int(i) for i in json.loads(pack.document_ids or "[]")]
    except (ValueError, TypeError):
        return []


# --- check-in ---------------------------------------------------------------------------------------

@dataclass
class CheckIn:
    wipe: str | None = None  # None, or the reason everything goes: signed_out, other_user, wiped, unknown
    delete_meetings: list[int] | None = None
    delete_documents: list[int] | None = None
    expires: dict[int, str] | None = None
    refresh_documents: list[int] | None = None  # a newer version was uploaded: download it again
    positions: dict[int, dict[int, Any]] | None = None  # {meeting: {item: the member's position or None}}

    def as_dict(self) -> dict[str, Any]:
        return {"wipe": self.wipe, "delete_meetings": self.delete_meetings or [],
                "delete_documents": self.delete_documents or [], "refresh_documents": self.refresh_documents or [],
                "expires": {str(k): v for k, v in (self.expires or {}).items()},
                "positions": {str(k): {str(i): p for i, p in v.items()} for k, v in (self.positions or {}).items()}}


def _wiped(device: OfflineDevice, reason: str) -> CheckIn:
    device.wiped_at = utcnow()
    device.wipe_reason = device.wipe_reason or reason
    device.held_bytes = 0
    for pack in list(device.packs):
        db.session.delete(pack)
    return CheckIn(wipe=reason)


def check_in(user: User | None, user_session: UserSession | None, device_id: int,
             holdings: dict[int, list[int]], versions: dict[int, int] | None = None) -> CheckIn:
    """What the device may still hold, recomputed now: ``holdings`` is {meeting id: [document ids]},
    ``versions`` {document id: the version the device holds}."""
    device = db.session.get(OfflineDevice, device_id)
    if device is None:
        return CheckIn(wipe="unknown")
    if device.wiped_at is not None:
        return CheckIn(wipe=device.wipe_reason or "wiped")
    if device.wipe_requested_at is not None:
        return _wiped(device, device.wipe_reason or "wiped")
    if user is None or user_session is None:
        # Signed out here, or the sign-in ended elsewhere: the sign-in the device belonged to is over.
        row = db.session.get(UserSession, device.session_id) if device.session_id else None
        if row is None or row.revoked_at is not None or not device.user.is_active:
            return _wiped(device, "signed_out")
        return CheckIn(wipe="signed_out")
    if user.id != device.user_id:
        return CheckIn(wipe="other_user")  # nothing of the owner's device is said to another user
    if not user.is_active:
        return _wiped(device, "signed_out")
    if device.session_id != user_session.id:
        # A new sign-in on the same browser (the old one ended): the device continues under it.
        old = db.session.get(UserSession, device.session_id) if device.session_id else None
        if old is None or old.revoked_at is not None:
            return _wiped(device, "signed_out")
        device.session_id = user_session.id
    now = utcnow()
    device.last_seen_at = now
    result = CheckIn(delete_meetings=[], delete_documents=[], expires={}, refresh_documents=[], positions={})
    packs = {p.meeting_id: p for p in device.packs}
    for meeting_id, held in holdings.items():
        meeting = db.session.get(Meeting, meeting_id)
        if meeting is not None and _may_hold(user, meeting, now):
            allowed_docs = {d.id for d in packable(user, meeting)}
            result.expires[meeting_id] = iso(expires_at(meeting, now))
            result.positions[meeting_id] = positions_of(user, meetings_policy.visible_items(user, meeting))
        else:
            result.delete_meetings.append(meeting_id)
            if meeting_id in packs:
                db.session.delete(packs.pop(meeting_id))
            continue
        gone = [d for d in held if d not in allowed_docs]
        result.delete_documents.extend(gone)
        for document_id in held:
            document = documents.get_document(document_id) if document_id not in gone else None
            if document is not None and (versions or {}).get(document_id, document.current_version) \
                    != document.current_version:
                result.refresh_documents.append(document_id)
        if meeting_id in packs:
            packs[meeting_id].document_ids = json.dumps(sorted(set(held) - set(gone)))
    for meeting_id, pack in packs.items():
        if meeting_id not in holdings:  # the device no longer holds it (expired, or deleted on the tablet)
            db.session.delete(pack)
    db.session.flush()
    device.held_bytes = sum(p.size for p in device.packs if p.meeting_id in holdings)
    return result


def _may_hold(user: User, meeting: Meeting, now: datetime) -> bool:
    """The meeting itself: still visible to the user, still allowed offline, not past its end and margin."""
    try:
        meetings_policy.can_view_meeting(user, meeting_id=meeting.id)
    except Hidden:
        return False
    return rule_for(meeting).allowed and expires_at(meeting, now) > now


# --- changes made offline ----------------------------------------------------------------------------

@dataclass
class Applied:
    client_id: str
    outcome: str  # applied, superseded (a later change elsewhere won), gone (deleted elsewhere first), refused
    annotation_id: int | None = None
    annotation: dict[str, Any] | None = None  # the server's copy, for the device to keep
    message: str | None = None
    item_id: int | None = None
    position: dict[str, Any] | None = None  # a position change: the member's position the server now holds

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def parse_time(value: Any) -> datetime:
    """A change's time: milliseconds since the epoch (the browser's Date.now()), never after now."""
    try:
        moment = datetime.fromtimestamp(float(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise OfflineError("A change has no valid time.") from None
    return min(moment, utcnow())


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _known(user: User, client_id: str) -> OfflineChange | None:
    return db.session.scalar(select(OfflineChange).where(OfflineChange.user_id == user.id,
                                                         OfflineChange.client_id == client_id))


def _deleted_at(annotation_id: int) -> datetime | None:
    """When an annotation was deleted (its tombstone is the audit log's entry), or None if unknown."""
    return db.session.scalar(select(AuditEntry.created_at).where(
        AuditEntry.action == "document.annotation_deleted", AuditEntry.object_type == "document_annotation",
        AuditEntry.object_id == str(annotation_id)).order_by(AuditEntry.id.desc()).limit(1))


CREATE_FIELDS = ("kind", "color", "page", "body", "quote", "prefix", "suffix", "rects", "point", "strokes", "shared")
UPDATE_FIELDS = ("body", "color", "shared")


def apply_change(actor: Actor, device: OfflineDevice, change: dict[str, Any]) -> Applied:
    """Apply one change made offline, once: a client id seen before returns what it did then.

    Last change wins, by the time the change was made: an edit or deletion older than the annotation's
    last change elsewhere is not applied but sent back (``superseded``, with the server's copy), so the
    device keeps it visibly instead of losing it. An edit of an annotation deleted elsewhere after the edit
    was made brings it back as a new annotation; one deleted before is sent back as ``gone``.
    """
    user = actor.user
    client_id = str(change["client_id"])
    if change.get("op") == "position":
        return apply_position(actor, device, change)
    known = _known(user, client_id)
    if known is not None:
        annotation = db.session.get(Annotation, known.annotation_id) if known.annotation_id else None
        return Applied(client_id, known.outcome, known.annotation_id,
                       documents.annotation_dict(annotation, user) if annotation is not None else None)
    op = change["op"]
    changed_at = parse_time(change["changed_at"])
    document = documents.get_document(change["document_id"])
    if document is None or not documents_policy.may_view(user, document):
        raise Denied("You may no longer read this document.")
    data = change.get("data") or {}
    annotation_id = change.get("annotation_id")
    annotation = db.session.get(Annotation, annotation_id) if annotation_id else None
    if annotation is not None and (annotation.document_id != document.id or annotation.user_id != user.id):
        raise Denied("Only the author may change this note.")
    outcome, result = "applied", annotation
    if op == "create":
        result = documents.add_annotation(actor, document, {k: data.get(k) for k in CREATE_FIELDS})
        result.created_at = result.updated_at = changed_at
    elif op == "update":
        if annotation is None:
            deleted = _deleted_at(int(annotation_id)) if annotation_id else None
            if deleted is not None and deleted > changed_at:
                outcome = "gone"
            else:  # edited after the deletion elsewhere (or never synced): the later change brings it back
                result = documents.add_annotation(actor, document, {k: data.get(k) for k in CREATE_FIELDS})
                result.updated_at = changed_at
        elif annotation.updated_at > changed_at:
            outcome = "superseded"
        else:
            fields = {k: data[k] for k in UPDATE_FIELDS if k in data}
            result = documents.update_annotation(actor, document, annotation.id, fields)
            result.updated_at = changed_at
    elif op == "delete":
        if annotation is not None:
            if annotation.updated_at > changed_at:
                outcome = "superseded"
            else:
                documents.delete_annotation(actor, document, annotation.id)
                result = None
    else:
        raise OfflineError("Unknown kind of change.")
    db.session.flush()
    row = OfflineChange(user_id=user.id, client_id=client_id, device_id=device.id, op=op,
                        annotation_id=result.id if result is not None else annotation_id,
                        outcome=outcome, changed_at=changed_at)
    db.session.add(row)
    db.session.flush()
    return Applied(client_id, outcome, row.annotation_id,
                   documents.annotation_dict(result, user) if result is not None else None)


def position_dict(row: ItemPosition | None) -> dict[str, Any] | None:
    """A member's position as the tablet keeps it (in the pack, encrypted), or None when not marked."""
    if row is None:
        return None
    return {"item_id": row.item_id, "position": row.position.value, "comment": row.comment,
            "updated_at": iso(row.updated_at)}


def positions_of(user: User, items: list[MeetingItem]) -> dict[int, dict[str, Any] | None]:
    """{item id: the user's position on it, or None}, in one query."""
    ids = [item.id for item in items]
    rows = db.session.scalars(select(ItemPosition).where(ItemPosition.member_id == user.id,
                                                         ItemPosition.item_id.in_(ids))).all() if ids else []
    held = {row.item_id: row for row in rows}
    return {item_id: position_dict(held.get(item_id)) for item_id in ids}


def _markable_item(user: User, item_id: int) -> MeetingItem:
    """The item a position change names, when its author may still mark positions on it; else the reason."""
    item = db.session.get(MeetingItem, item_id)
    try:
        if item is None:
            raise Hidden()
        allowed = meetings_policy.can_mark_position(user, meeting_id=item.meeting_id, item_id=item.id)
    except Hidden:
        raise Denied("You may no longer see this agenda item.") from None
    if not allowed:
        raise Denied("Only the meeting's members mark positions.")
    return item


def apply_position(actor: Actor, device: OfflineDevice, change: dict[str, Any]) -> Applied:
    """A position set offline on an agenda item, applied once (its client id), through the meetings'
    own rule (``mark_position``: the agenda published and the meeting not started, a decision item, not
    recused), so that a refusal comes back with its reason.

    Last change wins, by the time the change was made: a position changed elsewhere after it was set
    on the tablet is kept, and the tablet's is sent back (``superseded``, with the server's position)."""
    user = actor.user
    client_id = str(change["client_id"])
    item = _markable_item(user, int(change["item_id"]))
    known = _known(user, client_id)
    if known is not None:  # sent again: what it did then, with the position now
        return Applied(client_id, known.outcome, item_id=item.id,
                       position=position_dict(meetings.position_of(item, user)))
    changed_at = parse_time(change["changed_at"])
    data = change.get("data") or {}
    current = meetings.position_of(item, user)
    outcome = "applied"
    if current is not None and current.updated_at > changed_at:
        outcome = "superseded"
    else:
        row = meetings.mark_position(actor, item, data.get("position"), data.get("comment") or "")
        row.updated_at = changed_at  # when it was set: a later change made elsewhere still wins over it
    db.session.add(OfflineChange(user_id=user.id, client_id=client_id, device_id=device.id, op="position",
                                 annotation_id=None, outcome=outcome, changed_at=changed_at))
    db.session.flush()
    return Applied(client_id, outcome, item_id=item.id, position=position_dict(meetings.position_of(item, user)))


def new_key_b64(key: bytes) -> str:
    return base64.b64encode(key).decode()
