"""Who takes part: participants added and removed (one at a time, several at once, or a whole ministry),
guests invited to single items, invitations and reminders sent (and the record of who was told when),
members' answers to the invitation (with a substitute when absent), and whether a substitute may vote."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from ecabinet.accounts.models import Role, User
from ecabinet.core.actor import Actor
from ecabinet.core.i18n import zone_of
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
from ecabinet.notifications.service import notices_sent, notify

# Notification texts: English msgids, translated when shown.
N_GUEST_INVITED = "You are invited to present an item at “%(title)s”."
N_INVITATION = "You are invited to the meeting “%(title)s” at %(when)s. Please answer whether you will attend."
N_REMINDER = "Reminder: the meeting “%(title)s” is at %(when)s. Please answer the invitation and read the agenda."
NOTICE_KEYS = {"invitation": N_INVITATION, "reminder": N_REMINDER}
# Sent together at most this many at a time: a larger selection is surely a mistake.
BULK_MAX = 500


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


# --- several at once, and by ministry -------------------------------------------------------------------

@dataclass
class MinistryGroup:
    """People of one ministry (or organisation), for inviting them together."""

    key: str
    label: str
    users: list[User] = field(default_factory=list)


def ministry_of(user: User) -> tuple[str, str]:
    """(key, label) of the ministry a user belongs to: the one place people are grouped by ministry.

    Today the key is the user's organisation text, trimmed and compared without case; once
    organisations are data, this returns the linked organisation's id and name instead."""
    name = " ".join((user.organisation or "").split())
    return name.casefold(), name


def ministry_groups(users: Iterable[User]) -> list[MinistryGroup]:
    """The users grouped by ministry, groups and people by name; people with no ministry last."""
    groups: dict[str, MinistryGroup] = {}
    for user in users:
        key, label = ministry_of(user)
        groups.setdefault(key, MinistryGroup(key, label)).users.append(user)
    for group in groups.values():
        group.users.sort(key=lambda u: u.name.casefold())
    return sorted(groups.values(), key=lambda g: (g.key == "", g.label.casefold()))


# Which participant role each account role takes when invited in bulk (chairs through the meeting's
# details, guests to single items).
_BULK_ROLES = {Role.MEMBER: ParticipantRole.MEMBER, Role.SECRETARY: ParticipantRole.SECRETARY}


def invitable_users(meeting: Meeting) -> list[User]:
    """Active members and secretaries not yet taking part in the meeting, by name."""
    present = {p.user_id for p in meeting.participants}
    return [u for u in db.session.scalars(select(User).where(User.active.is_(True), User.role.in_(list(_BULK_ROLES)))
                                          .order_by(User.name))
            if u.id not in present]


def add_participants(actor: Actor, meeting: Meeting, users: Sequence[User]) -> list[MeetingParticipant]:
    """Add several people at once, each in the role their account has (members, secretaries).

    All or nothing: one person who cannot be added refuses the whole selection, naming them."""
    require_secretary(actor)
    if not users:
        raise MeetingError("Select at least one person.")
    if len(users) > BULK_MAX:
        raise MeetingError("Select at most %(n)s people at a time.", n=BULK_MAX)
    added = []
    for user in dict.fromkeys(users):
        role = _BULK_ROLES.get(user.role)
        if role is None:
            raise MeetingError("%(name)s does not have the role needed to take part as this.", name=user.name)
        added.append(add_participant(actor, meeting, user, role))
    return added


def add_ministry(actor: Actor, meeting: Meeting, key: str) -> list[MeetingParticipant]:
    """Add everyone of one ministry who does not take part yet."""
    require_secretary(actor)
    group = next((g for g in ministry_groups(invitable_users(meeting)) if g.key == (key or "").casefold()), None)
    if group is None:
        raise MeetingError("Everyone from this ministry already takes part, or the ministry is unknown.")
    return add_participants(actor, meeting, group.users)


# --- invitations and reminders -------------------------------------------------------------------------

def _when(meeting: Meeting) -> str:
    return meeting.starts_at.astimezone(zone_of(meeting.timezone)).strftime("%H:%M %d/%m/%Y")


def _require_announced(meeting: Meeting) -> None:
    if meeting.status not in (MeetingStatus.PUBLISHED, MeetingStatus.IN_SESSION):
        raise MeetingError("Invitations and reminders can be sent once the agenda is published and until "
                           "the meeting ends: before that, participants cannot open the meeting.")


def has_acknowledged(meeting: Meeting, participant: MeetingParticipant) -> bool:
    """Members and the chair acknowledge the invitation by answering it (or by being checked in); others
    (the secretariat, guests) by opening the current version of the agenda."""
    if participant.checked_in_at is not None:
        return True
    if participant.is_voting_member:
        return participant.responded_at is not None
    return participant.last_seen_version >= meeting.agenda_version > 0


def awaiting_acknowledgement(meeting: Meeting) -> list[MeetingParticipant]:
    """Who a reminder goes to: the members, the chair and the guests who have not acknowledged the
    invitation (the secretariat sends the reminders; it is not reminded)."""
    return [p for p in meeting.participants if p.user.active and p.role is not ParticipantRole.SECRETARY
            and not has_acknowledged(meeting, p)]


def send_invitations(actor: Actor, meeting: Meeting, participants: Sequence[MeetingParticipant]) -> int:
    """Send the invitation (in the app, and by email when it is set up) to the chosen participants."""
    require_secretary(actor)
    _require_announced(meeting)
    chosen = [p for p in participants if p.meeting_id == meeting.id and p.user.active]
    if not chosen:
        raise MeetingError("Select at least one participant.")
    return _send(actor, meeting, chosen, "invitation")


def send_reminders(actor: Actor, meeting: Meeting) -> int:
    """Remind those who have not acknowledged the invitation yet; nobody else is disturbed."""
    require_secretary(actor)
    _require_announced(meeting)
    waiting = awaiting_acknowledgement(meeting)
    if not waiting:
        raise MeetingError("Everyone has acknowledged the invitation: no reminder to send.")
    return _send(actor, meeting, waiting, "reminder")


def _send(actor: Actor, meeting: Meeting, participants: list[MeetingParticipant], kind: str) -> int:
    notify([p.user_id for p in participants], NOTICE_KEYS[kind], {"title": meeting.title, "when": _when(meeting)},
           meeting_id=meeting.id)
    db.session.flush()
    record_change(actor, f"participant.{kind}", meeting, object_type="meeting", object_id=meeting.id,
                  details={"recipients": [p.user_id for p in participants]})
    return len(participants)


@dataclass(frozen=True)
class Told:
    """What a participant was sent: the last invitation and reminder, and how many reminders."""

    invited_at: datetime | None = None
    reminded_at: datetime | None = None
    reminders: int = 0


def notices_of(meeting: Meeting) -> dict[int, Told]:
    """Per user id: when they were last invited and reminded (from the notifications they were sent)."""
    sent = notices_sent(meeting.id, list(NOTICE_KEYS.values()))
    told: dict[int, Told] = {}
    for user_id, by_key in sent.items():
        invited = by_key.get(N_INVITATION)
        reminded = by_key.get(N_REMINDER)
        told[user_id] = Told(invited_at=invited[0] if invited else None,
                             reminded_at=reminded[0] if reminded else None,
                             reminders=reminded[1] if reminded else 0)
    return told
