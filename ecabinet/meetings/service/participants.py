"""Who takes part: participants added and removed, guests invited to single items, members' answers to
the invitation (with a substitute when absent), and whether a substitute may vote."""

from __future__ import annotations

from ecabinet.accounts.models import Role, User
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings.models import (
    Attendance,
    GuestItemInvitation,
    Meeting,
    MeetingItem,
    MeetingParticipant,
    MeetingStatus,
    ParticipantRole,
)
from ecabinet.meetings.queries import participant_of
from ecabinet.meetings.service.common import (
    TEXT_MAX,
    MeetingError,
    record_change,
    require_chair,
    require_participant,
    require_secretary,
)
from ecabinet.notifications.service import notify

# Notification texts: English msgids, translated when shown.
N_GUEST_INVITED = "You are invited to present an item at “%(title)s”."


def add_participant(actor: Actor, meeting: Meeting, user: User, role: ParticipantRole) -> MeetingParticipant:
    require_secretary(actor)
    if meeting.status is MeetingStatus.CLOSED:
        raise MeetingError("The meeting is closed.")
    role = ParticipantRole(role)
    if not user.active:
        raise MeetingError("This account is disabled.")
    if participant_of(meeting, user) is not None:
        raise MeetingError("%(name)s is already a participant.", name=user.name)
    if role is ParticipantRole.CHAIR:
        raise MeetingError("Change the chair in the meeting's details.")
    expected = {ParticipantRole.MEMBER: Role.MEMBER, ParticipantRole.SECRETARY: Role.SECRETARY}
    if role in expected and user.role is not expected[role]:
        raise MeetingError("%(name)s does not have the role needed to take part as this.", name=user.name)
    participant = MeetingParticipant(meeting_id=meeting.id, user_id=user.id, role=role)
    db.session.add(participant)
    db.session.flush()
    record_change(actor, "participant.add", meeting, object_type="meeting_participant", object_id=participant.id,
                  details={"user": user.id, "role": role.value})
    return participant


def remove_participant(actor: Actor, participant: MeetingParticipant) -> None:
    require_secretary(actor)
    meeting = participant.meeting
    if meeting.status is MeetingStatus.CLOSED:
        raise MeetingError("The meeting is closed.")
    if participant.role is ParticipantRole.CHAIR:
        raise MeetingError("Change the chair in the meeting's details.")
    details = {"user": participant.user_id, "role": participant.role.value}
    meeting.participants.remove(participant)
    record_change(actor, "participant.remove", meeting, object_type="meeting_participant",
                  object_id=participant.id, details=details)


def invite_guest(actor: Actor, item: MeetingItem, user: User) -> GuestItemInvitation:
    """Invite a guest to one item; they see that item and nothing else of the meeting."""
    require_secretary(actor)
    meeting = item.meeting
    if meeting.status is MeetingStatus.CLOSED:
        raise MeetingError("The meeting is closed.")
    if not user.active:
        raise MeetingError("This account is disabled.")
    participant = participant_of(meeting, user)
    if participant is None:
        if user.role is not Role.GUEST:
            raise MeetingError("Only guest accounts can be invited to single items.")
        participant = MeetingParticipant(meeting_id=meeting.id, user_id=user.id, role=ParticipantRole.GUEST)
        db.session.add(participant)
        db.session.flush()
    elif participant.role is not ParticipantRole.GUEST:
        raise MeetingError("%(name)s is already a participant.", name=user.name)
    if any(inv.item_id == item.id for inv in participant.guest_items):
        raise MeetingError("%(name)s is already invited to this item.", name=user.name)
    invitation = GuestItemInvitation(participant=participant, item_id=item.id)
    db.session.add(invitation)
    if meeting.status is not MeetingStatus.DRAFT:
        notify([user.id], N_GUEST_INVITED, {"title": meeting.title}, meeting_id=meeting.id)
    db.session.flush()
    record_change(actor, "guest.invite", meeting, object_type="meeting_item", object_id=item.id, item_id=item.id,
                  details={"user": user.id})
    return invitation


def uninvite_guest(actor: Actor, item: MeetingItem, participant: MeetingParticipant) -> None:
    require_secretary(actor)
    meeting = item.meeting
    invitation = next((inv for inv in participant.guest_items if inv.item_id == item.id), None)
    if invitation is None:
        raise MeetingError("This guest is not invited to this item.")
    participant.guest_items.remove(invitation)
    db.session.flush()
    if not participant.guest_items:
        # A guest with no item left has nothing to see in the meeting.
        meeting.participants.remove(participant)
    record_change(actor, "guest.uninvite", meeting, object_type="meeting_item", object_id=item.id,
                  item_id=item.id, details={"user": participant.user_id})


def guests_of(item: MeetingItem) -> list[MeetingParticipant]:
    return [inv.participant for inv in item.guest_invitations]


def respond(actor: Actor, meeting: Meeting, attendance: Attendance, substitute_name: str = "",
            substitute_user_id: int | None = None) -> MeetingParticipant:
    """A member answers the invitation: in person, remotely, or absent (optionally naming a substitute)."""
    participant = require_participant(actor, meeting)
    if participant is None or not participant.is_voting_member:
        raise MeetingError("Only members answer the invitation.")
    if meeting.status not in (MeetingStatus.PUBLISHED, MeetingStatus.IN_SESSION):
        raise MeetingError("The invitation can be answered only once the agenda is published "
                           "and until the meeting ends.")
    try:
        attendance = Attendance(attendance)
    except ValueError as exc:
        raise MeetingError("Choose in person, remote or absent.") from exc
    if attendance is Attendance.PENDING:
        raise MeetingError("Choose in person, remote or absent.")
    name = (substitute_name or "").strip()
    if len(name) > TEXT_MAX:
        raise MeetingError("The substitute's name is longer than %(n)s characters.", n=TEXT_MAX)
    substitute = None
    if substitute_user_id:
        substitute = db.session.get(User, substitute_user_id)
        if substitute is None or not substitute.active or substitute.id == participant.user_id:
            raise MeetingError("Unknown substitute.")
    if attendance is not Attendance.ABSENT and (name or substitute):
        raise MeetingError("Only an absent member may name a substitute.")
    changed_substitute = (name, substitute_user_id) != (participant.substitute_name, participant.substitute_user_id)
    participant.attendance = attendance
    participant.responded_at = utcnow()
    participant.substitute_name = name
    participant.substitute_user_id = substitute.id if substitute else None
    if changed_substitute:
        participant.substitute_may_vote = False  # the chair decides again for a new substitute
    record_change(actor, "participant.respond", meeting, object_type="meeting_participant",
                  object_id=participant.id, details={"attendance": attendance.value,
                                                     "substitute": participant.substitute_label or None})
    return participant


def set_substitute_may_vote(actor: Actor, participant: MeetingParticipant, may_vote: bool) -> None:
    meeting = participant.meeting
    require_chair(actor, meeting)
    if not participant.represented_by_substitute:
        raise MeetingError("This member has not named a substitute.")
    participant.substitute_may_vote = bool(may_vote)
    record_change(actor, "participant.substitute_vote", meeting, object_type="meeting_participant",
                  object_id=participant.id,
                  details={"substitute": participant.substitute_label, "may_vote": bool(may_vote)})
