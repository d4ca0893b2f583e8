"""The archive: closed meetings by year, a search through their minutes and conclusions, and the export
of a meeting's whole record."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.audit import service as audit
from ecabinet.audit.models import AuditEntry
from ecabinet.core import domain_events
from ecabinet.core.actor import Actor
from ecabinet.core.policy import Hidden
from ecabinet.documents.record import board_book_for_export
from ecabinet.extensions import db
from ecabinet.meetings import policy as meetings_policy
from ecabinet.meetings.models import Meeting, MeetingStatus
from ecabinet.minutes import policy as minutes_policy
from ecabinet.minutes.models import Minutes
from ecabinet.minutes.record import build_record
from ecabinet.minutes.service.approval import final_pdf
from ecabinet.minutes.service.conclusions import conclusion_of
from ecabinet.minutes.service.shared import current_body, minutes_of, text_lines
from ecabinet.voting.record import record_section as ballots_of_meeting

# Files other domains add to a meeting's export: ``fn(meeting, reader, actor) -> [(name, bytes)]``, built
# for ``reader`` (None: the system actor) under the domain's own policy.
EXPORT_FILES = (board_book_for_export,)


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
        # Only the minutes this reader may open: a draft's text is the secretariat's and the chair's.
        texts = [("minutes", current_body(m)) for m in minutes_of(meeting) if _may_open(user, m)]
        conclusion = conclusion_of(meeting)
        if conclusion is not None:
            texts.append(("conclusion", conclusion.body + " " + " ".join(a.title for a in conclusion.actions)))
        for kind, html in texts:
            plain = " ".join(text_lines(html))
            folded = fold_vietnamese(plain)
            if all(w in folded for w in words):
                at = folded.find(words[0])
                hits.append((meeting, kind, plain[max(0, at - 60):at + 140]))
    return hits


def export_record(actor: Actor, meeting: Meeting) -> bytes:
    """The meeting's record as a ZIP, as the exporting reader may see it: minutes, attendance, ballots
    and files from other domains, and, for the secretariat, the audit-log excerpt with its chain hashes.
    The export itself is audited.

    Built through the same rules as the pages, so that the export is no side door: minutes only in the
    states the reader may open (``minutes.policy``: a draft is the secretariat's and the chair's), ballots
    only those the voting policy shows them (none on an item hidden from them), and each other domain's
    file built for the reader by that domain under its own policy.

    The audit excerpt is the secretariat's alone (the system actor's too: the CLI). Its entries name
    items, ballots, documents, speakers and comments each in their own domain's words (an id here, a
    title in the details there); filtering them per reader would have to understand every action, and
    one missed key would hand a guest or a member with a declared interest the title of an item hidden
    from them. The secretariat sees every item anyway, and is who answers for the record.
    """
    user = actor.user  # None: the system actor (CLI, jobs) exports the whole record
    record = build_record(meeting)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for minutes in minutes_of(meeting):
            if not _may_open(user, minutes):
                continue
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
        # Not the record's own ballots (every ballot of the meeting): the voting policy picks the reader's.
        ballots = ballots_of_meeting(meeting, user)["ballots"]
        archive.writestr("ballots.json", json.dumps(ballots, ensure_ascii=False, indent=2, default=str))
        ballots_csv = io.StringIO()
        writer = csv.writer(ballots_csv)
        writer.writerow(["ballot", "receipt", "choice"])
        for ballot in ballots:
            for receipt in ballot.get("receipts", []):
                writer.writerow([ballot.get("title", ""), receipt.get("receipt"), receipt.get("choice")])
        archive.writestr("ballots.csv", ballots_csv.getvalue())
        for name, content in extra_export_files(meeting, actor):
            archive.writestr(name, content)
        if user is None or meetings_policy.is_secretary(user):
            _write_audit(archive, meeting)
    audit.record(actor, "archive.export", object_type="meeting", object_id=meeting.id, meeting_id=meeting.id)
    domain_events.publish(meeting.id, "archive.export")
    return buffer.getvalue()


def _may_open(user: User | None, minutes: Minutes) -> bool:
    """Whether the minutes page would open these minutes for this reader (the system actor: always)."""
    if user is None:
        return True
    try:
        return minutes_policy.can_view_minutes(user, minutes_id=minutes.id)
    except Hidden:
        return False


def _write_audit(archive: zipfile.ZipFile, meeting: Meeting) -> None:
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.meeting_id == meeting.id)
                                 .order_by(AuditEntry.id))
    archive.writestr("audit.json", json.dumps([
        {"id": e.id, "at": e.created_at.isoformat(), "actor": e.actor_label, "action": e.action,
         "object": f"{e.object_type or ''}:{e.object_id or ''}", "details": json.loads(e.details),
         "prev_hash": e.prev_hash, "hash": e.hash} for e in entries], ensure_ascii=False, indent=1))
    report = audit.verify_chain()
    archive.writestr("audit-chain.txt", f"verified: {report.ok}\nentries: {report.entries}\n"
                                        f"head: {report.head}\n")


def extra_export_files(meeting: Meeting, actor: Actor) -> list[tuple[str, bytes]]:
    """Files other domains add to the export (the reader's board book, for instance), each built for the
    exporting reader (``actor.user``; None for the system actor) under that domain's own policy."""
    files: list[tuple[str, bytes]] = []
    for build in EXPORT_FILES:
        files.extend(build(meeting, actor.user, actor) or [])
    return files
