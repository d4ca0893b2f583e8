"""Numbering and broadcasting: the room's one subscriber to the domain events.

Every change a domain publishes for a meeting (``ecabinet.core.domain_events``) becomes one numbered
``MeetingEvent`` inside the commit of its transaction, under the meeting's row lock, with its payload
built from the final state; it is broadcast only after that transaction commits. Readers kept from
the event's item get a redacted event that keeps their numbering whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecabinet.core import domain_events, uow
from ecabinet.core.domain_events import MeetingChange
from ecabinet.extensions import db, socketio
from ecabinet.live import hooks
from ecabinet.live.models import Comment, LiveConnection, LiveState, MeetingEvent
from ecabinet.live.service.comments import comment_dict
from ecabinet.live.service.floor import queue_state
from ecabinet.live.service.shared import event_dict, locked_state, redact, room
from ecabinet.live.service.snapshots import attendance_state, meeting_state
from ecabinet.meetings.models import Meeting

# Audited, but not room events: the coalesced ``ballot.tally`` carries them (ecabinet/voting/tally.py).
# The voting domain does not publish them; kept out here too, so that a tablet never counts a vote.
NOT_NUMBERED = frozenset({"vote.cast", "vote.change"})


@dataclass
class Broadcast:
    meeting_id: int
    event: dict[str, Any]
    blocked_sids: list[str] = field(default_factory=list)


@domain_events.subscribe
def _number_changes(session: Session, changes: list[MeetingChange]) -> None:
    """Number this transaction's meeting changes, inside its commit; broadcast them after it.

    One ``MeetingEvent`` per change, numbered per meeting; the payload is built from the final state."""
    outbox: list[Broadcast] = []
    for change in changes:
        if change.type in NOT_NUMBERED:
            continue
        meeting = session.get(Meeting, change.meeting_id)
        if meeting is None:
            continue
        state = locked_state(meeting.id)
        state.last_seq += 1
        payload = _payload(change, meeting, state)
        row = MeetingEvent(meeting_id=meeting.id, seq=state.last_seq, type=change.type, item_id=change.item_id,
                           payload=json.dumps(payload, ensure_ascii=False, default=str))
        session.add(row)
        outbox.append(Broadcast(meeting.id, event_dict(row, payload), blocked_sids(meeting, change.item_id)))
    if not outbox:
        return
    session.flush()
    uow.after_commit(_broadcast, outbox)


def _broadcast(outbox: list[Broadcast]) -> None:
    # Runs after the commit, in an app context of its own: sending to a socket whose client stopped
    # answering pings closes it, and engine.io runs the disconnect handler right here, which needs a
    # session that is not inside its commit.
    for item in outbox:
        socketio.emit("event", item.event, to=room(item.meeting_id), skip_sid=item.blocked_sids or None)
        redacted = redact(item.event)
        for sid in item.blocked_sids:
            socketio.emit("event", redacted, to=sid)


def _blocked_users(meeting: Meeting, item_id: int | None) -> set[int]:
    if item_id is None:
        return set()
    from ecabinet.meetings.policy import users_kept_from_item

    return users_kept_from_item(meeting, item_id)


def blocked_sids(meeting: Meeting, item_id: int | None) -> list[str]:
    """The sockets in this meeting's room of readers who may not see ``item_id`` (a guest not invited to
    it, a member it is hidden from): they get a redacted event, or no tally."""
    users = _blocked_users(meeting, item_id)
    if not users:
        return []
    return list(db.session.scalars(select(LiveConnection.sid).where(
        LiveConnection.meeting_id == meeting.id, LiveConnection.user_id.in_(users))))


def _payload(change: MeetingChange, meeting: Meeting, state: LiveState) -> dict[str, Any]:
    kind = change.type
    details = change.details
    if kind.startswith(("meeting.", "live.", "agenda.current_item")):
        return {"meeting": meeting_state(meeting, state)}
    if kind.startswith(("attendance.", "participant.")):
        return {"attendance": attendance_state(meeting)}
    if kind.startswith("floor."):
        item_id = int(details.get("item", change.item_id))
        return {"queue": {"item_id": item_id, "requests": queue_state(meeting.id, item_id)},
                "meeting": meeting_state(meeting, state)}
    if kind.startswith("comment."):
        comment_id = details.get("comment_id")
        comment = db.session.get(Comment, int(comment_id)) if comment_id is not None else None
        return {"comment": comment_dict(comment)} if comment else {}
    if kind == "consent.adopt":
        return {"meeting": meeting_state(meeting, state),
                "outcomes": {str(i.id): i.outcome for i in meeting.items if i.outcome}}
    # Sections owned by the domains above the room (ballots: ecabinet/voting) come through a hook.
    for prefix, build in hooks.event_payloads.items():
        if kind.startswith(prefix):
            return build(change, meeting)
    # Agenda edits and anything else: the client fetches a fresh snapshot.
    return {"resync": True}
