"""Numbering and broadcasting: the room's one subscriber to the domain events.

Every change a domain publishes for a meeting (``ecabinet.core.domain_events``) becomes one numbered
``MeetingEvent`` inside the commit of its transaction, under the meeting's row lock, with its payload
built from the final state; it is broadcast only after that transaction commits. Readers kept from
an item the event names get it as they may see it (``shared.event_for``): redacted to its number when
it is about that item, without the item's id when it is meeting-wide (the current item, the floor, the
consent outcomes), so that a guest never learns the id of an item they are not invited to.
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
from ecabinet.live.service.presenter import presenter_payload
from ecabinet.live.service.shared import event_dict, event_for, items_named, locked_state, room
from ecabinet.live.service.snapshots import attendance_state, meeting_state
from ecabinet.meetings.models import Meeting

# Audited, but not room events: the coalesced ``ballot.tally`` carries them (ecabinet/voting/tally.py).
# The voting domain does not publish them; kept out here too, so that a tablet never counts a vote.
NOT_NUMBERED = frozenset({"vote.cast", "vote.change"})


@dataclass
class Broadcast:
    """One numbered event: the full event for the room, and for the sockets of readers kept from an
    item it names, the event as they may see it (``variants``: event and sockets)."""

    meeting_id: int
    event: dict[str, Any]
    variants: list[tuple[dict[str, Any], list[str]]] = field(default_factory=list)

    @property
    def blocked_sids(self) -> list[str]:
        return [sid for _event, sids in self.variants for sid in sids]


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
        event = event_dict(row, payload)
        outbox.append(Broadcast(meeting.id, event, reader_variants(meeting, event)))
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
        for event, sids in item.variants:
            for sid in sids:
                socketio.emit("event", event, to=sid)
    for meeting_id, seq in {item.meeting_id: item.event["seq"] for item in outbox}.items():
        for published in hooks.events_published:
            published(meeting_id, seq)


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


def reader_variants(meeting: Meeting, event: dict[str, Any]) -> list[tuple[dict[str, Any], list[str]]]:
    """For each group of readers kept from the same items this event names, the event as they may see it
    and their sockets in the room. Most events name one item or none: one group at most."""
    from ecabinet.meetings.policy import users_kept_from_item

    kept: dict[int, set[int]] = {}
    for item_id in items_named(event):
        for user_id in users_kept_from_item(meeting, item_id):
            kept.setdefault(user_id, set()).add(item_id)
    if not kept:
        return []
    rows = db.session.execute(select(LiveConnection.user_id, LiveConnection.sid).where(
        LiveConnection.meeting_id == meeting.id, LiveConnection.user_id.in_(kept))).all()
    groups: dict[frozenset[int], list[str]] = {}
    for user_id, sid in rows:
        groups.setdefault(frozenset(kept[user_id]), []).append(sid)
    return [(event_for(event, hidden), sids) for hidden, sids in groups.items()]


def _payload(change: MeetingChange, meeting: Meeting, state: LiveState) -> dict[str, Any]:
    kind = change.type
    details = change.details
    if kind == "agenda.current_item":
        # Another item: whatever was presented ends with the previous one (presenter.py).
        return {"meeting": meeting_state(meeting, state), "presenter": None}
    if kind.startswith(("meeting.", "live.")):
        return {"meeting": meeting_state(meeting, state)}
    if kind.startswith("presenter."):
        return presenter_payload(change)
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
