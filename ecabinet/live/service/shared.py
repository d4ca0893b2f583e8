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
