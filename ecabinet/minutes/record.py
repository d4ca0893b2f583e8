"""The meeting record: what the system already knows about a meeting, gathered for the minutes.

The minutes sit above voting and documents: this module calls their record builders (the ballots, the
briefing documents per item), which return plain values, so it does not reach into their internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.documents.record import documents_of_meeting
from ecabinet.extensions import db
from ecabinet.media.service import remote_modes
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import Attendance, Meeting, ParticipantRole
from ecabinet.voting.record import record_section as ballots_of_meeting

# Each returns, for a meeting, {"items": {item_id: {"documents": [...], "ballots": [...]}}, "ballots": [...]}
# with plain values; every key is optional.
SECTIONS = (documents_of_meeting, ballots_of_meeting)


@dataclass
class ItemRecord:
    position: int
    title: str
    kind: str
    ministry: str
    presenter: str
    outcome: str | None
    speakers: list[tuple[str, datetime]] = field(default_factory=list)
    comments: list[tuple[str, datetime, str]] = field(default_factory=list)  # author, time, text (not hidden)
    documents: list[dict[str, Any]] = field(default_factory=list)
    ballots: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class MeetingRecord:
    meeting: Meeting
    present: list[tuple[str, str, str]]          # name, title, mode
    absent: list[tuple[str, str, str]]           # name, title, substitute
    guests: list[str]
    quorum: Any
    interests: list[tuple[str, str, str]]         # member, item title, reason
    items: list[ItemRecord]
    consent_items: list[str]
    ballots: list[dict[str, Any]]
    # Members present remotely who joined the meeting's media room: name -> "video" or "audio" (ecabinet/media).
    remote_media: dict[str, str] = field(default_factory=dict)


def _comments_by_item(meeting: Meeting) -> dict[int, list[tuple[str, datetime, str]]]:
    """The room's written comments per item, in the order they were posted; hidden ones stay out."""
    from ecabinet.live.models import Comment  # like speakers_in_order: read where it is used

    rows = db.session.execute(select(Comment.item_id, User.name, Comment.created_at, Comment.body)
                              .join(User, User.id == Comment.author_id)
                              .where(Comment.meeting_id == meeting.id, Comment.hidden_at.is_(None))
                              .order_by(Comment.created_at, Comment.id)).all()
    found: dict[int, list[tuple[str, datetime, str]]] = {}
    for item_id, name, at, body in rows:
        found.setdefault(item_id, []).append((name, at, body))
    return found


def build_record(meeting: Meeting) -> MeetingRecord:
    from ecabinet.live.service import speakers_in_order

    present, absent, guests = [], [], []
    for p in meeting.participants:
        if p.role is ParticipantRole.GUEST:
            guests.append(p.user.name)
        elif p.role in (ParticipantRole.MEMBER, ParticipantRole.CHAIR):
            if p.checked_in_at is not None:
                present.append((p.user.name, p.user.title, p.checked_in_mode.value if p.checked_in_mode else ""))
            elif p.attendance is Attendance.ABSENT or p.checked_in_at is None:
                absent.append((p.user.name, p.user.title, p.substitute_label if p.represented_by_substitute else ""))
    comments = _comments_by_item(meeting)
    items = [ItemRecord(position=i.position, title=i.title, kind=i.kind.value, ministry=i.ministry,
                        presenter=i.presenter, outcome=i.outcome,
                        speakers=[(u.name, at) for u, at in speakers_in_order(meeting.id, i.id)],
                        comments=comments.get(i.id, []))
             for i in meeting.items]
    by_id = {i.id: rec for i, rec in zip(meeting.items, items, strict=True)}
    ballots: list[dict[str, Any]] = []
    for build in SECTIONS:
        section = build(meeting)
        for item_id, extra in (section or {}).get("items", {}).items():
            if item_id in by_id:
                by_id[item_id].documents.extend(extra.get("documents", []))
                by_id[item_id].ballots.extend(extra.get("ballots", []))
        ballots.extend((section or {}).get("ballots", []))
    return MeetingRecord(
        meeting=meeting, present=present, absent=absent, guests=guests, quorum=meetings.quorum(meeting),
        interests=[(d.member.name, d.item.title, d.reason) for d in meetings.interests_of(meeting)],
        items=items, consent_items=[i.title for i in meeting.items if i.outcome == "adopted_by_consent"],
        ballots=ballots, remote_media=_remote_media(meeting))


def _remote_media(meeting: Meeting) -> dict[str, str]:
    modes = remote_modes(meeting.id)
    return {p.user.name: modes[p.user_id] for p in meeting.participants
            if p.user_id in modes and p.checked_in_mode is not None and p.checked_in_mode.value == "remote"}
