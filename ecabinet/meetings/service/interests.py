"""Conflicts of interest: a member declares an interest in an item and takes no part in its decision
(under the "hide" policy they no longer see it either)."""

from __future__ import annotations

from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings.models import InterestDeclaration, Meeting, MeetingItem, MeetingStatus
from ecabinet.meetings.service.common import REASON_MAX, MeetingError, record_change, require_member


def declare_interest(actor: Actor, item: MeetingItem, reason: str = "") -> InterestDeclaration:
    meeting = item.meeting
    participant = require_member(actor, meeting)
    if meeting.status not in (MeetingStatus.PUBLISHED, MeetingStatus.IN_SESSION):
        raise MeetingError("Interests can be declared once the agenda is published and until the meeting ends.")
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise MeetingError("The reason is longer than %(n)s characters.", n=REASON_MAX)
    if any(d.member_id == participant.user_id for d in item.interests):
        raise MeetingError("You have already declared an interest in this item.")
    declaration = InterestDeclaration(item_id=item.id, member_id=participant.user_id, reason=reason,
                                      declared_at=utcnow())
    item.interests.append(declaration)
    # A declared interest replaces any position: the member no longer takes part in the decision.
    for pos in [p for p in item.positions if p.member_id == participant.user_id]:
        item.positions.remove(pos)
    db.session.flush()
    record_change(actor, "interest.declare", meeting, object_type="meeting_item", object_id=item.id,
                  item_id=item.id, details={"member": participant.user_id, "reason": reason,
                                            "policy": meeting.conflict_policy.value})
    return declaration


def interests_of(meeting: Meeting) -> list[InterestDeclaration]:
    """The meeting record's list of declarations, in agenda order."""
    return [d for item in meeting.items for d in sorted(item.interests, key=lambda d: d.declared_at)]
