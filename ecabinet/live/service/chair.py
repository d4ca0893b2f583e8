"""The chair's actions on the meeting's course: start, pause and resume, move to an item, adopt the
consent block, adjourn. The meetings domain records and publishes the meeting's own changes; the room
adds its part (the floor, the pause, the speaker queue) in the same unit of work."""

from __future__ import annotations

from ecabinet.audit import service as audit
from ecabinet.core import domain_events
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.live.service.floor import close_floor, prefill_queue
from ecabinet.live.service.shared import LiveError, locked_state, require_in_session
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import Meeting, MeetingItem


def start(actor: Actor, meeting: Meeting) -> None:
    meetings.start_meeting(actor, meeting)


def adjourn(actor: Actor, meeting: Meeting) -> None:
    audit.lock_chain()
    state = locked_state(meeting.id)
    close_floor(state)
    state.paused = False
    meetings.adjourn_meeting(actor, meeting)


def set_paused(actor: Actor, meeting: Meeting, paused: bool) -> None:
    require_in_session(meeting)
    audit.lock_chain()
    state = locked_state(meeting.id)
    if state.paused == paused:
        raise LiveError("The meeting is already paused." if paused else "The meeting is not paused.")
    state.paused = paused
    action = "live.pause" if paused else "live.resume"
    audit.record(actor, action, object_type="meeting", object_id=meeting.id, meeting_id=meeting.id)
    domain_events.publish(meeting.id, action)


def set_item(actor: Actor, meeting: Meeting, item_id: int | None) -> None:
    """Move the meeting to an item: every tablet that follows the chair moves with it."""
    item = meetings.get_item(meeting, item_id) if item_id is not None else None
    if item_id is not None and item is None:
        raise LiveError("Unknown agenda item.")
    audit.lock_chain()
    state = locked_state(meeting.id)
    if item is not None:
        prefill_queue(actor, meeting, item)
    close_floor(state)
    state.item_started_at = utcnow() if item is not None else None
    meetings.set_current_item(actor, meeting, item)  # records and publishes, with the changes above


def adopt_consent_block(actor: Actor, meeting: Meeting) -> list[MeetingItem]:
    return meetings.adopt_consent_block(actor, meeting)
