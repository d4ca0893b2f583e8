"""Drafting and revisions: the draft from the meeting record, revisions with edit-conflict detection,
restoring and comparing revisions, and the correction of final minutes."""

from __future__ import annotations

import difflib

from flask import render_template
from sqlalchemy import select

from ecabinet.audit import service as audit
from ecabinet.core import domain_events
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import Meeting, MeetingStatus
from ecabinet.minutes.models import Minutes, MinutesRevision, MinutesStatus
from ecabinet.minutes.record import build_record
from ecabinet.minutes.service.shared import (
    MAX_BODY,
    EditConflict,
    MinutesError,
    current_body,
    get_revision,
    minutes_of,
    require_editable,
    require_secretary,
    sanitise,
    text_lines,
)


def draft_html(meeting: Meeting) -> str:
    """The minutes as the record tells them (in Vietnamese: the minutes are an official document)."""
    return sanitise(render_template("minutes/_draft.html", record=build_record(meeting),
                                    tz=meeting.timezone))


def create_draft(actor: Actor, meeting: Meeting) -> Minutes:
    require_secretary(actor)
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
    require_secretary(actor)
    require_editable(minutes)
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


def compare(minutes: Minutes, a: int, b: int) -> list[tuple[str, str]]:
    """Line-by-line comparison of two revisions: (kind, text) with kind in ' ', '+', '-'."""
    ra, rb = get_revision(minutes, a), get_revision(minutes, b)
    if ra is None or rb is None:
        raise MinutesError("Unknown revision.")
    out = []
    for line in difflib.ndiff(text_lines(ra.body), text_lines(rb.body)):
        if line[:1] in (" ", "+", "-"):
            out.append((line[:1], line[2:]))
    return out


def make_correction(actor: Actor, minutes: Minutes) -> Minutes:
    """Final minutes are never edited: a correction is new minutes that start from their text."""
    require_secretary(actor)
    if minutes.status is not MinutesStatus.FINAL:
        raise MinutesError("Only final minutes are corrected; a draft is simply edited.")
    meeting = meetings.get_meeting(minutes.meeting_id)
    return _new_minutes(actor, meeting, current_body(minutes), note=f"correction of minutes {minutes.id}",
                        corrects=minutes)
