"""Attendance and quorum: participants checked in and out, and whether enough members are present,
for the meeting and for each item (members who declared an interest in an item are left out of it)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.meetings.models import (
    CheckInMode,
    Meeting,
    MeetingItem,
    MeetingParticipant,
    MeetingStatus,
    ParticipantRole,
    QuorumRule,
)
from ecabinet.meetings.queries import voting_members
from ecabinet.meetings.service.common import MeetingError, record_change, require_participant, require_secretary


def check_in(actor: Actor, meeting: Meeting, participant: MeetingParticipant, mode: CheckInMode) -> None:
    """Check a member in (from their tablet) or, for the secretariat, check anyone in.
    For a member who is absent with a substitute, the check-in is the substitute's."""
    own = require_participant(actor, meeting)
    if own is not None and own.id != participant.id and own.role is not ParticipantRole.SECRETARY:
        raise MeetingError("Only the secretariat may check in someone else.")
    if meeting.status not in (MeetingStatus.PUBLISHED, MeetingStatus.IN_SESSION, MeetingStatus.ADJOURNED):
        raise MeetingError("Check-in is open once the agenda is published and until the meeting is closed.")
    try:
        mode = CheckInMode(mode)
    except ValueError as exc:
        raise MeetingError("Choose in the room or remote.") from exc
    participant.checked_in_at = utcnow()
    participant.checked_in_mode = mode
    participant.checked_in_by_id = actor.user_id
    record_change(actor, "attendance.check_in", meeting, object_type="meeting_participant", object_id=participant.id,
                  details={"user": participant.user_id, "mode": mode.value,
                           "substitute": participant.represented_by_substitute})


def check_in_many(actor: Actor, meeting: Meeting, participants: Sequence[MeetingParticipant],
                  mode: CheckInMode) -> int:
    """The secretariat checks in everyone it selected as present, in one action. Those already checked in
    keep their check-in; returns how many were checked in now."""
    require_secretary(actor)
    chosen = [p for p in participants if p.meeting_id == meeting.id and p.is_voting_member]
    if not chosen:
        raise MeetingError("Select at least one member to check in.")
    done = 0
    for participant in chosen:
        if participant.checked_in_at is None:
            check_in(actor, meeting, participant, mode)
            done += 1
    return done


def check_out(actor: Actor, meeting: Meeting, participant: MeetingParticipant) -> None:
    own = require_participant(actor, meeting)
    if own is not None and own.id != participant.id and own.role is not ParticipantRole.SECRETARY:
        raise MeetingError("Only the secretariat may check out someone else.")
    if participant.checked_in_at is None:
        raise MeetingError("This participant is not checked in.")
    participant.checked_in_at = None
    participant.checked_in_mode = None
    participant.checked_in_by_id = actor.user_id
    record_change(actor, "attendance.check_out", meeting, object_type="meeting_participant",
                  object_id=participant.id, details={"user": participant.user_id})


@dataclass(frozen=True)
class Quorum:
    present: int
    eligible: int
    required: int
    reached: bool


def _counts_as_present(p: MeetingParticipant) -> bool:
    if p.checked_in_at is None:
        return False
    if p.represented_by_substitute:
        return p.substitute_may_vote  # a substitute counts only when the chair lets them vote
    return True


def _quorum(meeting: Meeting, members: list[MeetingParticipant]) -> Quorum:
    eligible = len(members)
    present = sum(1 for p in members if _counts_as_present(p))
    if meeting.quorum_rule is QuorumRule.FIXED:
        required = min(meeting.quorum_fixed or 1, eligible) if eligible else 1
    elif meeting.quorum_rule is QuorumRule.TWO_THIRDS:
        required = math.ceil(eligible * 2 / 3)
    else:
        required = eligible // 2 + 1
    required = max(required, 1)
    return Quorum(present=present, eligible=eligible, required=required, reached=present >= required)


def quorum(meeting: Meeting) -> Quorum:
    """Eligible: invited members and the chair. Present: those checked in, or their substitutes if they
    may vote. Default rule: more than half."""
    return _quorum(meeting, voting_members(meeting))


def recused_member_ids(item: MeetingItem) -> set[int]:
    return {d.member_id for d in item.interests}


def item_quorum(meeting: Meeting, item: MeetingItem) -> Quorum:
    """Quorum for one item: members who declared an interest are left out of it (under either policy)."""
    recused = recused_member_ids(item)
    return _quorum(meeting, [p for p in voting_members(meeting) if p.user_id not in recused])
