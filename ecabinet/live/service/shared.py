"""What the live room's modules share: the error, the room's name, the meeting's live state, the
shape of a numbered event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ecabinet.core.errors import DomainError
from ecabinet.extensions import db
from ecabinet.live.models import LiveState, MeetingEvent
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import Meeting, MeetingStatus


class LiveError(DomainError):
    """A live-room request that breaks a rule."""


def room(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


def locked_state(meeting_id: int) -> LiveState:
    """The meeting's live state, locked for this transaction (created on first use)."""
    state = db.session.scalar(select(LiveState).where(LiveState.meeting_id == meeting_id).with_for_update())
    if state is None:
        state = LiveState(meeting_id=meeting_id, last_seq=0, paused=False)
        db.session.add(state)
        db.session.flush()
    return state


def state_of(meeting_id: int) -> LiveState:
    return db.session.get(LiveState, meeting_id) or LiveState(meeting_id=meeting_id, last_seq=0, paused=False)


def iso(value) -> str | None:  # noqa: ANN001
    return value.isoformat() if value is not None else None


def event_dict(row: MeetingEvent, payload: dict[str, Any]) -> dict[str, Any]:
    return {"meeting_id": row.meeting_id, "seq": row.seq, "type": row.type, "item_id": row.item_id,
            "payload": payload}


def redact(event_dict: dict[str, Any]) -> dict[str, Any]:
    """What a reader who may not see the item gets: the number only, so their sequence stays whole."""
    return {"meeting_id": event_dict["meeting_id"], "seq": event_dict["seq"], "type": "redacted",
            "item_id": None, "payload": {}}


def require_in_session(meeting: Meeting) -> None:
    if meeting.status is not MeetingStatus.IN_SESSION:
        raise LiveError("The meeting is not in session.")


def get_meeting_or_none(meeting_id: Any) -> Meeting | None:
    if not isinstance(meeting_id, int) or isinstance(meeting_id, bool):
        return None
    return meetings.get_meeting(meeting_id)


# --- what one reader may see of a payload -----------------------------------------------------------

def items_named(event: dict[str, Any]) -> set[int]:
    """Every agenda item an event names: its scope, the current item and the floor of a meeting state,
    a speaker queue's item, a ballot's item, the items of the consent outcomes."""
    payload = event.get("payload") or {}
    named = {event.get("item_id")}
    meeting = payload.get("meeting") or {}
    named.add(meeting.get("current_item_id"))
    named.add((meeting.get("floor") or {}).get("item_id"))
    named.add((payload.get("queue") or {}).get("item_id"))
    named.add((payload.get("ballot") or {}).get("item_id"))
    named.add((payload.get("comment") or {}).get("item_id"))
    named.update(int(i) for i in (payload.get("outcomes") or {}))
    return {i for i in named if isinstance(i, int)}


def meeting_state_for(state: dict[str, Any], hidden: frozenset[int] | set[int]) -> dict[str, Any]:
    """The meeting state as a reader kept from ``hidden`` may see it: an item they may not see is not
    named as the current one (the tablet shows "no item"), and its speaker does not hold the floor."""
    if not hidden:
        return state
    state = dict(state)
    if state.get("current_item_id") in hidden:
        state["current_item_id"] = None
        state["item_started_at"] = None
    if (state.get("floor") or {}).get("item_id") in hidden:
        state["floor"] = None
    return state


def event_for(event: dict[str, Any], hidden: frozenset[int] | set[int]) -> dict[str, Any]:
    """The numbered event as a reader kept from the items ``hidden`` may see it.

    An event about a hidden item (scoped to it, or its queue, ballot or comment) is redacted to its
    number; a meeting-wide event keeps its place but names no hidden item."""
    if not hidden or not (items_named(event) & hidden):
        return event
    payload = event.get("payload") or {}
    if event.get("item_id") in hidden or any((payload.get(part) or {}).get("item_id") in hidden
                                             for part in ("queue", "ballot", "comment")):
        return redact(event)
    payload = dict(payload)
    if "meeting" in payload:
        payload["meeting"] = meeting_state_for(payload["meeting"], hidden)
    if "outcomes" in payload:
        payload["outcomes"] = {k: v for k, v in payload["outcomes"].items() if int(k) not in hidden}
    return {**event, "payload": payload}
