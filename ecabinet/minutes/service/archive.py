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
from ecabinet.documents.record import board_book_for_export
from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting, MeetingStatus
from ecabinet.minutes.record import build_record
from ecabinet.minutes.service.approval import final_pdf
from ecabinet.minutes.service.conclusions import conclusion_of
from ecabinet.minutes.service.shared import current_body, minutes_of, text_lines

# Files other domains add to a meeting's export: ``fn(meeting, actor) -> [(name, bytes)]``.
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
        texts = [("minutes", current_body(m)) for m in minutes_of(meeting)]
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
