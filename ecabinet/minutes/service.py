"""Minutes rules: draft from the record, revisions with edit-conflict detection, circulation, the chair's
approval, the final signed PDF, corrections, conclusions and action items, and the archive export."""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

import nh3
from flask import current_app, render_template
from sqlalchemy import or_, select

from ecabinet.accounts.models import Role, User
from ecabinet.audit import service as audit
from ecabinet.audit.models import AuditEntry
from ecabinet.core import domain_events, uow
from ecabinet.core.actor import Actor
from ecabinet.core.errors import DomainError
from ecabinet.core.types import utcnow
from ecabinet.documents.record import board_book_for_export
from ecabinet.extensions import db
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import Meeting, MeetingStatus
from ecabinet.minutes.models import (
    ActionItem,
    ActionStatus,
    ActionUpdate,
    Conclusion,
    Minutes,
    MinutesComment,
    MinutesRevision,
    MinutesStatus,
)
from ecabinet.minutes.record import build_record

# Files other domains add to a meeting's export: ``fn(meeting, actor) -> [(name, bytes)]``.
EXPORT_FILES = (board_book_for_export,)

MAX_BODY = 500_000
ALLOWED_TAGS = {"h1", "h2", "h3", "h4", "p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "table",
                "thead", "tbody", "tr", "th", "td", "blockquote", "span"}


class MinutesError(DomainError):
    """A minutes request that breaks a rule."""


class EditConflict(MinutesError):
    """Someone saved a newer revision since this editor opened the text."""

    status = 409


def sanitise(html: str) -> str:
    """The editor's rich text, reduced to harmless structure: no script, no style, no attributes."""
    return nh3.clean(html or "", tags=ALLOWED_TAGS, attributes={}, url_schemes=set(), strip_comments=True)


# --- lookups --------------------------------------------------------------------------------------

def minutes_of(meeting: Meeting) -> list[Minutes]:
    return list(db.session.scalars(select(Minutes).where(Minutes.meeting_id == meeting.id).order_by(Minutes.id)))


def get_minutes(minutes_id: int) -> Minutes | None:
    return db.session.get(Minutes, minutes_id)


def current_body(minutes: Minutes) -> str:
    return minutes.revisions[-1].body if minutes.revisions else ""


def get_revision(minutes: Minutes, number: int) -> MinutesRevision | None:
    return next((r for r in minutes.revisions if r.number == number), None)


def _require_secretary(actor: Actor) -> None:
    if actor.user is not None and actor.user.role is not Role.SECRETARY:
        raise MinutesError("Only the secretariat may do this.")


def _require_chair(actor: Actor, meeting: Meeting) -> None:
    if actor.user is not None and meeting.chair_id != actor.user.id:
        raise MinutesError("Only the chair of this meeting may do this.")


def _require_editable(minutes: Minutes) -> None:
    if minutes.status is not MinutesStatus.DRAFT and minutes.status is not MinutesStatus.CIRCULATED:
        raise MinutesError("Final minutes are locked. Make a correction instead.")


# --- the draft ------------------------------------------------------------------------------------

def draft_html(meeting: Meeting) -> str:
    """The minutes as the record tells them (in Vietnamese: the minutes are an official document)."""
    return sanitise(render_template("minutes/_draft.html", record=build_record(meeting),
                                    tz=meeting.timezone))


def create_draft(actor: Actor, meeting: Meeting) -> Minutes:
    _require_secretary(actor)
    if meeting.status not in (MeetingStatus.IN_SESSION, MeetingStatus.ADJOURNED, MeetingStatus.CLOSED):
        raise MinutesError("Minutes are drafted once the meeting has started.")
    if any(m.corrects_id is None for m in minutes_of(meeting)):
        raise MinutesError("This meeting already has minutes.")
    return _new_minutes(actor, meeting, draft_html(meeting), note="drafted from the meeting record")


def _new_minutes(actor: Actor, meeting: Meeting, body: str, note: str, corrects: Minutes | None = None) -> Minutes:
    minutes = Minutes(meeting_id=meeting.id, status=MinutesStatus.DRAFT, revision=1,
                      corrects_id=corrects.id if corrects else None)
    db.session.add(minutes)
    db.session.flush()
    db.session.add(MinutesRevision(minutes_id=minutes.id, number=1, body=body, author_id=actor.user_id, note=note))
    audit.record(actor, "minutes.correction" if corrects else "minutes.draft", object_type="minutes",
                 object_id=minutes.id, meeting_id=meeting.id,
                 details={"corrects": corrects.id} if corrects else {})
    domain_events.publish(meeting.id, "minutes.correction" if corrects else "minutes.draft")
    return minutes


def save_revision(actor: Actor, minutes: Minutes, body: str, base_revision: int, note: str = "") -> MinutesRevision:
    """Save the editor's text as a new revision, unless someone saved since the editor opened it."""
    _require_secretary(actor)
    _require_editable(minutes)
    if len(body or "") > MAX_BODY:
        raise MinutesError("The text is too long.")
    # Lock the minutes row so two saves cannot both pass the check.
    db.session.execute(select(Minutes.id).where(Minutes.id == minutes.id).with_for_update())
    db.session.refresh(minutes)
    if base_revision != minutes.revision:
        latest = minutes.revisions[-1]
        raise EditConflict("Edit conflict: %(name)s saved revision %(n)s while you were editing. "
                           "Your text was not saved; compare and merge, then save again.",
                           name=latest.author.name if latest.author else "?", n=latest.number)
    clean = sanitise(body)
    minutes.revision += 1
    revision = MinutesRevision(minutes_id=minutes.id, number=minutes.revision, body=clean, author_id=actor.user_id,
                               note=note[:200])
    db.session.add(revision)
    audit.record(actor, "minutes.save", object_type="minutes", object_id=minutes.id,
                 meeting_id=minutes.meeting_id, details={"revision": minutes.revision,
                                                         "sanitised": clean != (body or "")})
    domain_events.publish(minutes.meeting_id, "minutes.save")
    return revision


def restore_revision(actor: Actor, minutes: Minutes, number: int) -> MinutesRevision:
    old = get_revision(minutes, number)
    if old is None:
        raise MinutesError("Unknown revision.")
    return save_revision(actor, minutes, old.body, minutes.revision, note=f"restored from revision {number}")


def _text_lines(html: str) -> list[str]:
    text = re.sub(r"<(br|/p|/h[1-4]|/li|/tr)[^>]*>", "\n", html)
    text = re.sub(r"<[^>]+>", " ", text)
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()]


def compare(minutes: Minutes, a: int, b: int) -> list[tuple[str, str]]:
    """Line-by-line comparison of two revisions: (kind, text) with kind in ' ', '+', '-'."""
    ra, rb = get_revision(minutes, a), get_revision(minutes, b)
    if ra is None or rb is None:
        raise MinutesError("Unknown revision.")
    out = []
    for line in difflib.ndiff(_text_lines(ra.body), _text_lines(rb.body)):
        if line[:1] in (" ", "+", "-"):
            out.append((line[:1], line[2:]))
    return out


# --- workflow -------------------------------------------------------------------------------------

def circulate(actor: Actor, minutes: Minutes, deadline: datetime) -> None:
    _require_secretary(actor)
    if minutes.status is not MinutesStatus.DRAFT:
        raise MinutesError("Only a draft can be circulated.")
    if deadline <= utcnow():
        raise MinutesError("The deadline for comments must be in the future.")
    minutes.status = MinutesStatus.CIRCULATED
    minutes.circulation_deadline = deadline
    meeting = meetings.get_meeting(minutes.meeting_id)
    meetings.notify_participants(meeting, "Minutes of “%(title)s” are circulated for your comments.",
                                 title=meeting.title)
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
    _require_chair(actor, meeting)
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
    audit.lock_chain()
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
    _require_chair(actor, meeting)
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


def make_correction(actor: Actor, minutes: Minutes) -> Minutes:
    _require_secretary(actor)
    if minutes.status is not MinutesStatus.FINAL:
        raise MinutesError("Only final minutes are corrected; a draft is simply edited.")
    meeting = meetings.get_meeting(minutes.meeting_id)
    return _new_minutes(actor, meeting, current_body(minutes), note=f"correction of minutes {minutes.id}",
                        corrects=minutes)


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


# --- conclusions and action items ----------------------------------------------------------------

def conclusion_of(meeting: Meeting) -> Conclusion | None:
    return db.session.scalar(select(Conclusion).where(Conclusion.meeting_id == meeting.id))


def save_conclusion(actor: Actor, meeting: Meeting, body: str) -> Conclusion:
    _require_secretary(actor)
    conclusion = conclusion_of(meeting) or Conclusion(meeting_id=meeting.id)
    if conclusion.issued_at is not None:
        raise MinutesError("The conclusions have been issued and are locked.")
    conclusion.body = sanitise(body)
    db.session.add(conclusion)
    db.session.flush()
    audit.record(actor, "conclusion.save", object_type="conclusion", object_id=conclusion.id, meeting_id=meeting.id)
    domain_events.publish(meeting.id, "conclusion.save")
    return conclusion


def issue_conclusion(actor: Actor, meeting: Meeting) -> Conclusion:
    _require_chair(actor, meeting)
    conclusion = conclusion_of(meeting)
    if conclusion is None or not conclusion.body.strip():
        raise MinutesError("Write the conclusions before issuing them.")
    if conclusion.issued_at is not None:
        raise MinutesError("The conclusions have already been issued.")
    conclusion.issued_at = utcnow()
    conclusion.issued_by_id = actor.user_id
    audit.record(actor, "conclusion.issue", object_type="conclusion", object_id=conclusion.id,
                 meeting_id=meeting.id)
    domain_events.publish(meeting.id, "conclusion.issue")
    return conclusion


@dataclass
class ActionData:
    title: str
    ministry: str
    due_date: date
    responsible_id: int | None = None


def add_action(actor: Actor, meeting: Meeting, data: ActionData) -> ActionItem:
    _require_secretary(actor)
    title, ministry = (data.title or "").strip(), (data.ministry or "").strip()
    if not title or len(title) > 500:
        raise MinutesError("An action item needs a title of at most 500 characters.")
    if not ministry or len(ministry) > 200:
        raise MinutesError("An action item needs the ministry it is assigned to.")
    if data.responsible_id is not None and db.session.get(User, data.responsible_id) is None:
        raise MinutesError("Unknown responsible person.")
    conclusion = conclusion_of(meeting) or Conclusion(meeting_id=meeting.id, body="")
    db.session.add(conclusion)
    db.session.flush()
    action = ActionItem(conclusion_id=conclusion.id, title=title, ministry=ministry, due_date=data.due_date,
                        responsible_id=data.responsible_id, status=ActionStatus.OPEN)
    db.session.add(action)
    db.session.flush()
    audit.record(actor, "action.add", object_type="action_item", object_id=action.id, meeting_id=meeting.id,
                 details={"ministry": ministry, "due": data.due_date.isoformat()})
    domain_events.publish(meeting.id, "action.add")
    return action


def update_action(actor: Actor, action: ActionItem, status: str, note: str) -> ActionUpdate:
    """The assigned person (or the secretariat) reports progress."""
    user = actor.user
    if user is not None and user.id != action.responsible_id and user.role is not Role.SECRETARY:
        raise MinutesError("Only the person responsible or the secretariat may update this action item.")
    try:
        new_status = ActionStatus(status)
    except ValueError as exc:
        raise MinutesError("Unknown status.") from exc
    if len(note or "") > 5000:
        raise MinutesError("The progress note is too long.")
    action.status = new_status
    update = ActionUpdate(action_id=action.id, author_id=actor.user_id, status=new_status, note=(note or "").strip())
    db.session.add(update)
    audit.record(actor, "action.update", object_type="action_item", object_id=action.id,
                 meeting_id=action.conclusion.meeting_id, details={"status": new_status.value})
    domain_events.publish(action.conclusion.meeting_id, "action.update")
    return update


def is_overdue(action: ActionItem, today: date | None = None) -> bool:
    return action.status in (ActionStatus.OPEN, ActionStatus.IN_PROGRESS) and \
        action.due_date < (today or utcnow().date())


def actions_for(ministry: str | None = None, responsible: User | None = None) -> list[ActionItem]:
    query = select(ActionItem).order_by(ActionItem.due_date, ActionItem.id)
    if ministry:
        query = query.where(ActionItem.ministry == ministry)
    if responsible is not None:
        query = query.where(or_(ActionItem.responsible_id == responsible.id, ActionItem.ministry == ministry))
    return list(db.session.scalars(query))


def get_action(action_id: int) -> ActionItem | None:
    return db.session.get(ActionItem, action_id)


# --- archive --------------------------------------------------------------------------------------

def archive_years() -> list[int]:
    dates = db.session.scalars(select(Meeting.starts_at).where(Meeting.status == MeetingStatus.CLOSED))
    return sorted({d.year for d in dates}, reverse=True)


def archive_meetings(user: User, year: int | None) -> list[Meeting]:
    from ecabinet.meetings.policy import can_see_meeting

    rows = db.session.scalars(select(Meeting).where(Meeting.status == MeetingStatus.CLOSED)
                              .order_by(Meeting.starts_at.desc()))
    return [m for m in rows if (year is None or m.starts_at.year == year) and can_see_meeting(user, m)]


def search_archive(user: User, query: str) -> list[tuple[Meeting, str, str]]:
    """Minutes and conclusions of meetings this user may see, matching the words regardless of diacritics."""
    from ecabinet.pdf.textfold import fold_vietnamese

    words = fold_vietnamese(query).split()[:8]
    if not words:
        return []
    hits = []
    for meeting in archive_meetings(user, None):
        texts = [("minutes", current_body(m)) for m in minutes_of(meeting)]
        conclusion = conclusion_of(meeting)
        if conclusion is not None:
            texts.append(("conclusion", conclusion.body + " " + " ".join(a.title for a in conclusion.actions)))
        for kind, html in texts:
            plain = " ".join(_text_lines(html))
            folded = fold_vietnamese(plain)
            if all(w in folded for w in words):
                at = folded.find(words[0])
                hits.append((meeting, kind, plain[max(0, at - 60):at + 140]))
    return hits


def export_record(actor: Actor, meeting: Meeting) -> bytes:
    """The meeting's whole record as a ZIP: signed minutes, attendance, ballots (from other domains),
    and the audit-log excerpt with its chain hashes. The export itself is audited."""
    record = build_record(meeting)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for minutes in minutes_of(meeting):
            document = final_pdf(minutes)
            if document is not None:
                archive.writestr(f"minutes-{minutes.id}{'-signed' if minutes.signed else ''}.pdf", document)
            archive.writestr(f"minutes-{minutes.id}.html", current_body(minutes))
        attendance = io.StringIO()
        writer = csv.writer(attendance)
        writer.writerow(["name", "title", "status", "mode_or_substitute"])
        for name, title, mode in record.present:
            writer.writerow([name, title, "present", mode])
        for name, title, substitute in record.absent:
            writer.writerow([name, title, "absent", substitute])
        archive.writestr("attendance.csv", attendance.getvalue())
        archive.writestr("ballots.json", json.dumps(record.ballots, ensure_ascii=False, indent=2, default=str))
        ballots_csv = io.StringIO()
        writer = csv.writer(ballots_csv)
        writer.writerow(["ballot", "receipt", "choice"])
        for ballot in record.ballots:
            for receipt in ballot.get("receipts", []):
                writer.writerow([ballot.get("title", ""), receipt.get("receipt"), receipt.get("choice")])
        archive.writestr("ballots.csv", ballots_csv.getvalue())
        for name, content in extra_export_files(meeting, actor):
            archive.writestr(name, content)
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.meeting_id == meeting.id)
                                     .order_by(AuditEntry.id))
        archive.writestr("audit.json", json.dumps([
            {"id": e.id, "at": e.created_at.isoformat(), "actor": e.actor_label, "action": e.action,
             "object": f"{e.object_type or ''}:{e.object_id or ''}", "details": json.loads(e.details),
             "prev_hash": e.prev_hash, "hash": e.hash} for e in entries], ensure_ascii=False, indent=1))
        report = audit.verify_chain()
        archive.writestr("audit-chain.txt", f"verified: {report.ok}\nentries: {report.entries}\n"
                                            f"head: {report.head}\n")
    audit.record(actor, "archive.export", object_type="meeting", object_id=meeting.id, meeting_id=meeting.id)
    domain_events.publish(meeting.id, "archive.export")
    return buffer.getvalue()


def extra_export_files(meeting: Meeting, actor: Actor) -> list[tuple[str, bytes]]:
    """Files other domains add to the export (the reader's board book, for instance)."""
    files: list[tuple[str, bytes]] = []
    for build in EXPORT_FILES:
        files.extend(build(meeting, actor) or [])
    return files

