"""Pre-meeting positions and the consent block.

Before the meeting, members mark each decision item agree / object / want to speak. Decision items
nobody objects to or wants to speak on form the consent block, which the chair adopts in one step at
the start of the meeting; "want to speak" starts the live speaker queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecabinet.accounts.models import User
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings import hooks, policy
from ecabinet.meetings.models import (
    ItemKind,
    ItemPosition,
    Meeting,
    MeetingItem,
    MeetingParticipant,
    MeetingStatus,
    Position,
)
from ecabinet.meetings.queries import participant_of, voting_members
from ecabinet.meetings.service.attendance import quorum, recused_member_ids
from ecabinet.meetings.service.common import (
    ADOPTED_BY_CONSENT,
    COMMENT_MAX,
    MeetingError,
    record_change,
    require_chair,
    require_member,
)


def mark_position(actor: Actor, item: MeetingItem, position: Position, comment: str = "") -> ItemPosition:
    """A member marks a decision item agree / object / want to speak before the meeting.
    Members and the chair only; substitutes do not mark positions (they stand in at the meeting)."""
    meeting = item.meeting
    participant = require_member(actor, meeting)
    if meeting.status is MeetingStatus.DRAFT:
        raise MeetingError("Positions can be marked once the agenda is published.")
    if meeting.status is not MeetingStatus.PUBLISHED:
        raise MeetingError("Positions can no longer be changed: the meeting has started.")
    if item.kind is not ItemKind.DECISION:
        raise MeetingError("Positions are marked only on items for decision.")
    if participant.user_id in recused_member_ids(item):
        raise MeetingError("You have declared an interest in this item.")
    try:
        position = Position(position)
    except ValueError as exc:
        raise MeetingError("Choose agree, object or want to speak.") from exc
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise MeetingError("The comment is longer than %(n)s characters.", n=COMMENT_MAX)
    row = next((p for p in item.positions if p.member_id == participant.user_id), None)
    if row is None:
        row = ItemPosition(item_id=item.id, member_id=participant.user_id, position=position, comment=comment)
        item.positions.append(row)
    else:
        row.position, row.comment = position, comment
    row.updated_at = utcnow()
    db.session.flush()
    record_change(actor, "position.mark", meeting, object_type="meeting_item", object_id=item.id, item_id=item.id,
                  details={"member": participant.user_id, "position": position.value})
    return row


def position_of(item: MeetingItem, user: User) -> ItemPosition | None:
    return next((p for p in item.positions if p.member_id == user.id), None)


def decision_items(meeting: Meeting) -> list[MeetingItem]:
    return [item for item in meeting.items if item.kind is ItemKind.DECISION]


def expected_responders(meeting: Meeting, item: MeetingItem) -> list[MeetingParticipant]:
    recused = recused_member_ids(item)
    return [p for p in voting_members(meeting) if p.user_id not in recused]


def missing_positions(meeting: Meeting, item: MeetingItem) -> list[User]:
    """Members (and the chair) who have not yet marked a position on this decision item."""
    answered = {p.member_id for p in item.positions}
    return [p.user for p in expected_responders(meeting, item) if p.user_id not in answered]


@dataclass
class ItemPositions:
    item: MeetingItem
    agree: int
    object: int
    speak: int
    missing: list[User]
    in_consent_block: bool


def positions_overview(meeting: Meeting) -> list[ItemPositions]:
    rows = []
    block = {i.id for i in consent_block(meeting)}
    for item in decision_items(meeting):
        counts = {p: 0 for p in Position}
        for pos in item.positions:
            counts[pos.position] += 1
        rows.append(ItemPositions(item=item, agree=counts[Position.AGREE], object=counts[Position.OBJECT],
                                  speak=counts[Position.SPEAK], missing=missing_positions(meeting, item),
                                  in_consent_block=item.id in block))
    return rows


def items_awaiting_position(meeting: Meeting, user: User) -> list[MeetingItem]:
    if meeting.status is not MeetingStatus.PUBLISHED:
        return []
    participant = participant_of(meeting, user)
    if participant is None or not participant.is_voting_member:
        return []
    visible = {i.id for i in policy.visible_items(user, meeting)}
    return [item for item in decision_items(meeting)
            if item.id in visible and user.id not in recused_member_ids(item) and position_of(item, user) is None]


def consent_block(meeting: Meeting) -> list[MeetingItem]:
    """Decision items nobody objects to and nobody wants to speak on, not yet decided: the chair can adopt
    them together at the start of the meeting."""
    return [item for item in decision_items(meeting)
            if item.outcome is None
            and not any(p.position in (Position.OBJECT, Position.SPEAK) for p in item.positions)]


def adopt_consent_block(actor: Actor, meeting: Meeting) -> list[MeetingItem]:
    """The chair adopts the consent block in one step. Requires the meeting in session with quorum.

    Each item's outcome becomes ``adopted_by_consent``; the domains that keep a record of the adoption
    (the voting domain's consent ballots) add it through ``hooks.consent_adopted``, in the same unit of
    work, so the adoption and its record commit together or not at all.
    """
    require_chair(actor, meeting)
    if meeting.status is not MeetingStatus.IN_SESSION:
        raise MeetingError("The consent block is adopted at the start of the meeting, while it is in session.")
    if meeting.consent_adopted_at is not None:
        raise MeetingError("The consent block has already been adopted.")
    items = consent_block(meeting)
    if not items:
        raise MeetingError("The consent block is empty.")
    q = quorum(meeting)
    if not q.reached:
        raise MeetingError("The quorum is not reached (%(present)s present, %(required)s required).",
                           present=q.present, required=q.required)
    for item in items:
        item.outcome = ADOPTED_BY_CONSENT
    meeting.consent_adopted_at = utcnow()
    ids = [i.id for i in items]
    record_change(actor, "consent.adopt", meeting, object_type="meeting", object_id=meeting.id,
                  details={"items": ids, "present": q.present, "required": q.required}, items=ids)
    for record_adoption in hooks.consent_adopted:
        record_adoption(actor, meeting, items)
    return items


def speaker_requests(meeting: Meeting, item: MeetingItem) -> list[User]:
    """Members who marked "want to speak", in the order they marked it: the live speaker queue starts here."""
    rows = sorted((p for p in item.positions if p.position is Position.SPEAK), key=lambda p: (p.updated_at, p.id))
    return [p.member for p in rows]
