"""Snapshots and catch-up: everything the room shows, as one reader may see it, and what a
(re)connecting tablet needs: the events it missed, or a snapshot when it missed too many."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import current_app
from sqlalchemy import select

from ecabinet.accounts.models import Role, User
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.live import hooks
from ecabinet.live.models import LiveState, MeetingEvent
from ecabinet.live.service.chair import course, valid_steps
from ecabinet.live.service.comments import COMMENTS_PER_PAGE, comment_counts, comment_dict, latest_comments
from ecabinet.live.service.connections import online_user_ids
from ecabinet.live.service.floor import floor_state, queue_state
from ecabinet.live.service.presenter import presenter_state
from ecabinet.live.service.shared import event_dict, event_for, iso, meeting_state_for, state_of
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import Meeting, MeetingParticipant, MeetingStatus
from ecabinet.meetings.policy import hidden_item_ids

# A client further behind than this gets a snapshot instead of a replay.
MAX_REPLAY = 200
ONLINE_READ_SECONDS = 1.0  # as often as presence is sent at most (presence.py)


def meeting_state(meeting: Meeting, state: LiveState) -> dict[str, Any]:
    """The meeting's course: its status, the console's state and the steps valid in it, the current item
    and its time (stopped at the adjournment), the floor."""
    paused = bool(state.paused)
    ended = meeting.status in (MeetingStatus.ADJOURNED, MeetingStatus.CLOSED)
    return {
        "status": meeting.status.value,
        "paused": paused,
        "course": course(meeting, paused),
        "steps": valid_steps(meeting, paused),
        "current_item_id": meeting.current_item_id,
        "item_started_at": iso(state.item_started_at),
        "item_stopped_at": iso(meeting.adjourned_at or meeting.closed_at) if ended and state.item_started_at else None,
        "consent_adopted": meeting.consent_adopted_at is not None,
        "floor": floor_state(state),
    }


def attendance_state(meeting: Meeting) -> dict[str, Any]:
    q = meetings.quorum(meeting)
    # The names in one query, not one lazy load per member present.
    names = dict(db.session.execute(select(User.id, User.name).join(
        MeetingParticipant, MeetingParticipant.user_id == User.id).where(
        MeetingParticipant.meeting_id == meeting.id, MeetingParticipant.checked_in_at.is_not(None))).all())
    present = [{"user_id": p.user_id, "name": names.get(p.user_id, ""), "mode": p.checked_in_mode.value
                if p.checked_in_mode else None} for p in meeting.participants if p.checked_in_at is not None]
    return {"quorum": {"present": q.present, "eligible": q.eligible, "required": q.required,
                       "reached": q.reached, "rule": meeting.quorum_rule.value}, "present": present}


def _shared_parts(meeting: Meeting, seq: int) -> dict[str, Any]:
    """The parts of a snapshot that are the same for every reader, computed once per meeting and event
    number instead of on every join: attendance, every item's speaker queue, the consent block, the
    latest comments and the count of each item, and what is being presented.

    They change only with a numbered event (check-ins, participant changes, requests for the floor,
    positions, comments and their hiding, sharing a document, and agenda edits are all published to the
    room). Attendance alone loads every participant: at 2,000 participants that was 55 % of the worker's
    time during the joins (profiled), and on PostgreSQL each query is a round trip: with these kept, a
    further join makes 7 statements instead of 11 (tests/live/test_join_cost.py). Kept per app, so
    that two apps in one process (tests) never share it. Each reader still gets only the items they may
    see.
    """
    seen = current_app.extensions.setdefault("live_shared_parts", {})
    cached = seen.get(meeting.id)
    if cached is not None and cached[0] == seq:
        return cached[1]
    if len(seen) > 256:
        seen.clear()
    item_ids = {i.id for i in meeting.items}
    parts = {"attendance": attendance_state(meeting),
             "queues": {i.id: queue_state(meeting.id, i.id) for i in meeting.items},
             "consent_block": [i.id for i in meetings.consent_block(meeting)]
             if meeting.consent_adopted_at is None else [],
             # Each comment as a member and as the chair sees it (a hidden one's body for the chair only).
             "comments": [(c.item_id, comment_dict(c, False), comment_dict(c, True))
                          for c in latest_comments(item_ids)],
             "comment_counts": comment_counts(item_ids),
             "presenter": presenter_state(meeting.id)}
    seen[meeting.id] = (seq, parts)
    return parts


def _online(meeting_id: int) -> list[int]:
    """Who is online, read at most once per presence interval per meeting: the list is a scan of the
    meeting's connections, and 2,000 tablets joining at once each read it (2,000 × 2,000 rows). The
    presence message that follows every change brings the exact list (presence.py)."""
    seen = current_app.extensions.setdefault("live_online", {})
    cached = seen.get(meeting_id)
    now = time.monotonic()
    if cached is not None and now - cached[0] < ONLINE_READ_SECONDS:
        return cached[1]
    if len(seen) > 256:
        seen.clear()
    online = online_user_ids(meeting_id)
    seen[meeting_id] = (now, online)
    return online


def snapshot(user: User, meeting: Meeting) -> dict[str, Any]:
    """Everything the room shows, as this user may see it."""
    from ecabinet.meetings.policy import is_chair_of, visible_items

    state = state_of(meeting.id)
    items = visible_items(user, meeting)
    visible_ids = {i.id for i in items}
    for_chair = is_chair_of(user, meeting) or user.role is Role.SECRETARY
    # Bounded: the latest comments of each item, with each item's count; older ones come a page at a
    # time (the comments.page event), so a long discussion does not swell every join.
    shared = _shared_parts(meeting, state.last_seq)
    counts = shared["comment_counts"]
    presented = shared["presenter"]
    return {
        "meeting_id": meeting.id,
        "seq": state.last_seq,
        "server_now": utcnow().isoformat(),
        "title": meeting.title,
        # The current item and the floor only when this reader may see the item (numbering.py).
        "meeting": meeting_state_for(meeting_state(meeting, state), {i.id for i in meeting.items} - visible_ids),
        "items": [{"item_id": i.id, "position": i.position, "title": i.title, "kind": i.kind.value,
                   "presenter": i.presenter, "ministry": i.ministry, "duration_minutes": i.duration_minutes,
                   "outcome": i.outcome} for i in items],
        "attendance": shared["attendance"],
        "queues": {str(i.id): shared["queues"].get(i.id, []) for i in items},
        "comments": [for_chair_dict if for_chair else reader_dict
                     for item_id, reader_dict, for_chair_dict in shared["comments"] if item_id in visible_ids],
        "comment_counts": {str(i.id): counts.get(i.id, 0) for i in items},
        "comments_per_item": COMMENTS_PER_PAGE,
        "consent_block": [i for i in shared["consent_block"] if i in visible_ids],
        "online": _online(meeting.id),
        # The shared document and page, when this reader may see its item.
        "presenter": presented if presented and presented.get("item_id") in visible_ids else None,
    }


def catch_up(user: User, meeting: Meeting, last_seq: int | None) -> dict[str, Any]:
    """What a (re)connecting client needs: the events after ``last_seq``, or a snapshot.

    One statement for a replay: the tablet's own last event and at most ``LIVE_MAX_REPLAY`` after it
    (the meeting's latest number is not read first). Without that last event the tablet is ahead of this
    database (restored from a backup) and gets a snapshot, as it does when it missed too many."""
    limit = current_app.config.get("LIVE_MAX_REPLAY", MAX_REPLAY)
    if last_seq is None:
        return {"snapshot": snapshot(user, meeting), **_sections(user, meeting)}
    rows = db.session.scalars(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting.id,
                                                         MeetingEvent.seq >= last_seq)
                              .order_by(MeetingEvent.seq).limit(limit + 2)).all()
    if last_seq > 0:
        if not rows or rows[0].seq != last_seq:
            return {"snapshot": snapshot(user, meeting), **_sections(user, meeting)}
        rows = rows[1:]
    if len(rows) > limit:
        return {"snapshot": snapshot(user, meeting), **_sections(user, meeting)}
    hidden = hidden_item_ids(user, meeting) if rows else frozenset()
    # Each event as this reader may see it, as it was broadcast to them (numbering.py).
    events = [event_for(event_dict(row, json.loads(row.payload)), hidden) for row in rows]
    return {"events": events, **_sections(user, meeting)}


def _sections(user: User, meeting: Meeting) -> dict[str, Any]:
    """What the domains above the room add to a catch-up (the open ballots' tallies: not numbered
    events, so a replay would not bring them)."""
    sections: dict[str, Any] = {}
    for build in hooks.catch_up_sections:
        sections.update(build(user, meeting))
    return sections
