"""The chair's actions on the meeting's course: start, pause and resume, move to an item, adopt the
consent block, adjourn. The meetings domain records and publishes the meeting's own changes; the room
adds its part (the floor, the pause, the speaker queue) in the same unit of work.

The console shows the course as four states (not started → in session ⇄ paused → adjourned) and offers
only the steps valid in the present one (``course`` and ``valid_steps``); every step is checked here
again, so a stale screen cannot take an invalid one."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from ecabinet.audit import service as audit
from ecabinet.core import domain_events
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.live import hooks
from ecabinet.live.models import LiveState, MeetingEvent
from ecabinet.live.service.floor import close_floor, prefill_queue
from ecabinet.live.service.shared import LiveError, locked_state, require_in_session, state_of
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import Meeting, MeetingItem, MeetingStatus

# The console's four states, in order, and the steps between them.
NOT_STARTED, IN_SESSION, PAUSED, ADJOURNED = "not_started", "in_session", "paused", "adjourned"
COURSE = (NOT_STARTED, IN_SESSION, PAUSED, ADJOURNED)
STEPS = ("start", "pause", "resume", "adjourn")


def course(meeting: Meeting, paused: bool) -> str:
    """Where the meeting is on the console's course (a closed meeting is past its adjournment)."""
    if meeting.status in (MeetingStatus.DRAFT, MeetingStatus.PUBLISHED):
        return NOT_STARTED
    if meeting.status is MeetingStatus.IN_SESSION:
        return PAUSED if paused else IN_SESSION
    return ADJOURNED


def valid_steps(meeting: Meeting, paused: bool) -> list[str]:
    """The console's steps the meeting's state allows now (who may take them is the policy's)."""
    table = meetings.TRANSITIONS
    valid = {
        "start": meeting.status in table["start"][0],
        "pause": meeting.status is MeetingStatus.IN_SESSION and not paused,
        "resume": meeting.status is MeetingStatus.IN_SESSION and paused,
        "adjourn": meeting.status in table["adjourn"][0],
    }
    return [step for step in STEPS if valid[step]]


def start(actor: Actor, meeting: Meeting, below_quorum: bool = False) -> None:
    """Open the meeting. Below the quorum it may start (nothing is decided without one: votes and the
    consent block check it again), but only when the chair has said so, after being warned."""
    if meeting.status is MeetingStatus.PUBLISHED and not below_quorum:
        q = meetings.quorum(meeting)
        if not q.reached:
            raise LiveError("The quorum is not reached (%(present)s present of %(eligible)s, %(required)s "
                            "required): confirm to start the meeting without it.",
                            present=q.present, eligible=q.eligible, required=q.required)
    meetings.start_meeting(actor, meeting)


def adjourn(actor: Actor, meeting: Meeting) -> None:
    """End the session: the floor closes, the pause ends, and the item's time stops (the meeting's
    adjournment time is its end: ``meeting_state`` carries it as ``item_stopped_at``)."""
    state = locked_state(meeting.id)
    meetings.adjourn_meeting(actor, meeting)  # refuses first when the meeting is not in session
    close_floor(state)
    state.paused = False


def set_paused(actor: Actor, meeting: Meeting, paused: bool) -> None:
    require_in_session(meeting)
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
    state = locked_state(meeting.id)
    if item is not None:
        prefill_queue(actor, meeting, item)
    close_floor(state)
    state.item_started_at = utcnow() if item is not None else None
    meetings.set_current_item(actor, meeting, item)  # records and publishes, with the changes above


def adopt_consent_block(actor: Actor, meeting: Meeting) -> list[MeetingItem]:
    return meetings.adopt_consent_block(actor, meeting)


# --- what the console shows before the chair decides ----------------------------------------------

def quorum_dict(meeting: Meeting, item: MeetingItem | None = None) -> dict[str, Any]:
    """The quorum as the console shows it, with its rule ("2 present of 25, 13 required: more than half")."""
    q = meetings.item_quorum(meeting, item) if item is not None else meetings.quorum(meeting)
    return {"present": q.present, "eligible": q.eligible, "required": q.required, "reached": q.reached,
            "rule": meeting.quorum_rule.value}


def discussed_item_ids(meeting: Meeting) -> set[int]:
    """Items the meeting has moved to (from its numbered events), or already decided."""
    rows = db.session.scalars(select(MeetingEvent.payload).where(MeetingEvent.meeting_id == meeting.id,
                                                                 MeetingEvent.type == "agenda.current_item"))
    seen = set()
    for payload in rows:
        current = (json.loads(payload).get("meeting") or {}).get("current_item_id")
        if isinstance(current, int):
            seen.add(current)
    if meeting.current_item_id is not None:
        seen.add(meeting.current_item_id)
    return seen | {i.id for i in meeting.items if i.outcome}


def overview(user: Any, meeting: Meeting) -> dict[str, Any]:
    """What the chair's console asks before a step whose consequences it must show: the quorum with its
    rule (the meeting's, and each item's where members declared an interest), the items not discussed
    yet, the consent block's items on which no member gave a position, and what the domains above the
    room add (the open votes: who has not voted, through the voting policy)."""
    state: LiveState = state_of(meeting.id)
    discussed = discussed_item_ids(meeting)
    consent = meetings.consent_block(meeting) if meeting.consent_adopted_at is None else []
    return {
        "course": course(meeting, bool(state.paused)),
        "steps": valid_steps(meeting, bool(state.paused)),
        "quorum": quorum_dict(meeting),
        "item_quorums": {str(i.id): quorum_dict(meeting, i) for i in meeting.items if i.interests},
        "not_discussed": [i.id for i in meeting.items if i.id not in discussed],
        "consent_without_positions": [i.id for i in consent if not i.positions],
        **{name: build(user, meeting) for name, build in hooks.console_sections.items()},
    }
