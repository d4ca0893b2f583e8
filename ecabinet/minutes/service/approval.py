"""Circulation, approval and signing: the draft circulated for comments, the chair's approval, the
final signed PDF (made by the job worker after the approval commits), and signing again."""

from __future__ import annotations

import io
from datetime import datetime

from flask import current_app

from ecabinet.accounts.models import Role
from ecabinet.audit import service as audit
from ecabinet.core import domain_events, uow
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings import service as meetings
from ecabinet.minutes import policy
from ecabinet.minutes.models import Minutes, MinutesComment, MinutesStatus
from ecabinet.minutes.queries import get_minutes
from ecabinet.minutes.record import build_record
from ecabinet.minutes.service.shared import (
    MinutesError,
    current_body,
    require_chair,
    require_secretary,
)


def circulate(actor: Actor, minutes: Minutes, deadline: datetime) -> None:
    require_secretary(actor)
    if minutes.status is not MinutesStatus.DRAFT:
        raise MinutesError("Only a draft can be circulated.")
    if deadline <= utcnow():
        raise MinutesError("The deadline for comments must be in the future.")
    minutes.status = MinutesStatus.CIRCULATED
    minutes.circulation_deadline = deadline
    meeting = meetings.get_meeting(minutes.meeting_id)
    meetings.notify_participants(meeting, "Minutes of “%(title)s” are circulated for your comments.",
                                 only=lambda user: policy.may_read_record(user, meeting.id), title=meeting.title)
    audit.record(actor, "minutes.circulate", object_type="minutes", object_id=minutes.id,
                 meeting_id=minutes.meeting_id, details={"deadline": deadline.isoformat()})
    domain_events.publish(minutes.meeting_id, "minutes.circulate")


def add_comment(actor: Actor, minutes: Minutes, body: str) -> MinutesComment:
    if minutes.status is not MinutesStatus.CIRCULATED:
        raise MinutesError("Comments are taken only while the minutes are circulated.")
    if minutes.circulation_deadline and utcnow() > minutes.circulation_deadline:
        raise MinutesError("The deadline for comments has passed.")
    body = (body or "").strip()
    if not body or len(body) > 5000:
        raise MinutesError("A comment needs between 1 and 5000 characters.")
    comment = MinutesComment(minutes_id=minutes.id, author_id=actor.user_id, body=body)
    db.session.add(comment)
    db.session.flush()
    audit.record(actor, "minutes.comment", object_type="minutes", object_id=minutes.id,
                 meeting_id=minutes.meeting_id, details={"comment": comment.id})
    domain_events.publish(minutes.meeting_id, "minutes.comment")
    return comment


def approve(actor: Actor, minutes: Minutes) -> None:
    """The chair approves the circulated minutes: the text is locked and the final PDF is produced."""
    meeting = meetings.get_meeting(minutes.meeting_id)
    require_chair(actor, meeting)
    if actor.user is not None and actor.user.role is not Role.CHAIR:
        raise MinutesError("Only the chair of this meeting may do this.")
    if minutes.status is not MinutesStatus.CIRCULATED:
        raise MinutesError("Minutes are approved after they have been circulated.")
    minutes.status = MinutesStatus.APPROVED
    minutes.approved_at = utcnow()
    minutes.approved_by_id = actor.user_id
    audit.record(actor, "minutes.approve", object_type="minutes", object_id=minutes.id,
                 meeting_id=minutes.meeting_id, details={"revision": minutes.revision})
    domain_events.publish(minutes.meeting_id, "minutes.approve")
    from ecabinet.minutes.tasks import produce_final_pdf

    # The PDF is made from the approved text: only once the approval has committed.
    uow.after_commit(produce_final_pdf, minutes.id)


def finalise(minutes_id: int) -> Minutes:
    """Render the final PDF, sign it, store it, lock the minutes (runs in the job worker: CPU work).

    A missing or broken signing key leaves the minutes final but unsigned, with the reason recorded;
    ``sign_again`` retries once the key is fixed.
    """
    from ecabinet.minutes import pdf

    minutes = get_minutes(minutes_id)
    if minutes is None or minutes.status not in (MinutesStatus.APPROVED, MinutesStatus.FINAL):
        raise MinutesError("Only approved minutes can be finalised.")
    meeting = meetings.get_meeting(minutes.meeting_id)
    # The chain's committed head: the record the minutes anchor (this job renders and signs for seconds,
    # so it does not hold the chain's lock, which would hold up every audited write meanwhile).
    head = audit.head_hash()
    document = pdf.render_minutes(meeting, minutes, build_record(meeting), current_body(minutes), head)
    minutes.audit_head = head
    _store_signed(minutes, document)
    minutes.status = MinutesStatus.FINAL
    minutes.finalized_at = utcnow()
    audit.record(Actor.system("minutes"), "minutes.final", object_type="minutes", object_id=minutes.id,
                 meeting_id=minutes.meeting_id, details={"sha256": minutes.pdf_sha256, "signed": minutes.signed,
                                                         "error": minutes.signature_error, "audit_head": head})
    domain_events.publish(minutes.meeting_id, "minutes.final")
    return minutes


def _store_signed(minutes: Minutes, document: bytes) -> None:
    from ecabinet.minutes import signing

    config = current_app.config
    try:
        document = signing.sign_pdf(document, config.get("SIGNING_KEY"), config.get("SIGNING_CERT"),
                                    config.get("SIGNING_KEY_PASSWORD"))
        minutes.signed, minutes.signature_error = True, None
    except signing.SigningError as exc:
        minutes.signed, minutes.signature_error = False, str(exc)[:500]
    minutes.pdf_sha256 = _blobs().put_bytes(document)


def sign_again(actor: Actor, minutes: Minutes) -> None:
    if minutes.status is not MinutesStatus.FINAL or minutes.signed:
        raise MinutesError("Only final, unsigned minutes can be signed again.")
    meeting = meetings.get_meeting(minutes.meeting_id)
    require_chair(actor, meeting)
    from ecabinet.minutes import pdf

    document = pdf.render_minutes(meeting, minutes, build_record(meeting), current_body(minutes),
                                  minutes.audit_head or audit.head_hash())
    _store_signed(minutes, document)
    audit.record(actor, "minutes.sign", object_type="minutes", object_id=minutes.id, meeting_id=minutes.meeting_id,
                 details={"signed": minutes.signed, "error": minutes.signature_error})
    domain_events.publish(minutes.meeting_id, "minutes.sign")
    if not minutes.signed:
        # The failed attempt (and its reason) is kept: the boundary commits it.
        raise MinutesError.recorded_refusal("Signing failed: %(reason)s", reason=minutes.signature_error)


def final_pdf(minutes: Minutes) -> bytes | None:
    return _blobs().read_bytes(minutes.pdf_sha256) if minutes.pdf_sha256 else None


def signature_report(minutes: Minutes):  # noqa: ANN201
    from ecabinet.minutes import signing

    document = final_pdf(minutes)
    if document is None:
        return None
    return signing.validate_pdf(document, current_app.config.get("SIGNING_CERT"))


class _Blobs:
    """Final PDFs are kept by content hash in the documents' blob store (write-once, atomic)."""

    def __init__(self) -> None:
        from ecabinet.pdf.storage import BlobStore

        self.store = BlobStore(current_app.config["STORAGE_DIR"])

    def put_bytes(self, data: bytes) -> str:
        return self.store.put_stream(io.BytesIO(data), max_bytes=len(data) + 1)[0]

    def read_bytes(self, sha256: str) -> bytes:
        with self.store.open(sha256) as fh:
            return fh.read()


def _blobs() -> _Blobs:
    return _Blobs()
