"""Who may see and do what with meetings: the one place these decisions are made.

Rules take the signed-in user and the view's URL arguments. A meeting or item the user may not know
exists raises ``Hidden`` (answered with 404): meetings they are not invited to, drafts (except for the
secretariat and the meeting's chair), items a guest is not invited to, and items hidden by a declared
conflict of interest under the "hide" policy. A visible thing the user may not act on is a plain refusal
(403).
"""

from __future__ import annotations

from ecabinet.accounts.models import Role, User
from ecabinet.core.actor import Actor
from ecabinet.core.policy import Hidden
from ecabinet.meetings import queries
from ecabinet.meetings.models import (
    ConflictPolicy,
    Meeting,
    MeetingItem,
    MeetingParticipant,
    MeetingStatus,
    ParticipantRole,
)
from ecabinet.meetings.queries import get_meeting, meeting_and_participant, participant_of


def _participant(user: User, meeting: Meeting) -> MeetingParticipant | None:
    # One indexed row, not the whole participants collection: with 2,000 participants, loading the
    # collection on every policy check made joining a meeting's room quadratic (profiled).
    return participant_of(meeting, user)


def is_secretary(user: User) -> bool:
    return user.is_active and user.role is Role.SECRETARY


def secretariat_may_act(actor: Actor) -> bool:
    """The rule services ask before a change only the secretariat makes; the system actor (CLI, demo,
    jobs) may make it too."""
    return actor.user is None or is_secretary(actor.user)


def is_chair_of(user: User, meeting: Meeting) -> bool:
    return user.is_active and user.role is Role.CHAIR and meeting.chair_id == user.id


def can_see_meeting(user: User, meeting: Meeting) -> bool:
    if not user.is_active:
        return False
    if is_secretary(user):
        return True
    return _participant_sees(user, meeting, _participant(user, meeting))


def _participant_sees(user: User, meeting: Meeting, participant: MeetingParticipant | None) -> bool:
    if participant is None:
        return False
    if meeting.status is MeetingStatus.DRAFT:
        return is_chair_of(user, meeting)
    if participant.role is ParticipantRole.GUEST:
        return bool(participant.guest_items)
    return True


def _meeting(user: User, meeting_id: int | None) -> Meeting:
    meeting = meeting_seen_by(user, meeting_id)
    if meeting is None:
        raise Hidden()
    return meeting


def meeting_seen_by(user: User, meeting_id: int | None) -> Meeting | None:
    """The meeting if this user may see it (``can_see_meeting``), else None; one statement to decide."""
    if not user.is_active:
        return None
    if is_secretary(user):
        return get_meeting(meeting_id)
    meeting, participant = meeting_and_participant(meeting_id, user)
    return meeting if meeting is not None and _participant_sees(user, meeting, participant) else None


def visible_items(user: User, meeting: Meeting) -> list[MeetingItem]:
    """The agenda items this user may see, in agenda order."""
    if is_secretary(user):
        return list(meeting.items)
    participant = _participant(user, meeting)  # looked up once: on PostgreSQL each lookup is a round trip
    if not user.is_active or not _participant_sees(user, meeting, participant):
        return []
    return [item for item in meeting.items if not _hidden_from(participant, item, meeting)]


def hidden_item_ids(user: User, meeting: Meeting) -> frozenset[int]:
    """The meeting's items this user may not see: the complement of ``visible_items``. A member when
    declared interests do not hide items sees them all, known without loading the agenda: a reconnecting
    tablet asks this on every join, and after an instance dies a thousand ask at once."""
    if is_secretary(user):
        return frozenset()
    participant = _participant(user, meeting)
    sees = user.is_active and _participant_sees(user, meeting, participant)
    if sees and not _items_may_be_hidden(participant, meeting):
        return frozenset()
    visible = {item.id for item in visible_items(user, meeting)}
    return frozenset(item.id for item in meeting.items if item.id not in visible)


def _hidden_from(participant: MeetingParticipant, item: MeetingItem, meeting: Meeting) -> bool:
    """The item rule for one participant: a guest sees only the items they are invited to; under the
    "hide" conflict policy a member does not see an item they declared an interest in."""
    if not _items_may_be_hidden(participant, meeting):
        return False
    if participant.role is ParticipantRole.GUEST:
        return item.id not in {inv.item_id for inv in participant.guest_items}
    return any(d.member_id == participant.user_id for d in item.interests)


def _items_may_be_hidden(participant: MeetingParticipant, meeting: Meeting) -> bool:
    """Whether the item rule can hide anything from this participant at all: only a guest's uninvited items
    and, under the "hide" conflict policy, a member's declared interests."""
    return participant.role is ParticipantRole.GUEST or meeting.conflict_policy is ConflictPolicy.HIDE


def users_kept_from_item(meeting: Meeting, item_id: int) -> set[int]:
    """Every participant who may not see this item (the rule of ``_hidden_from``), in two indexed queries:
    the live room asks for each event that names an item, and loading a 2,000-member meeting's
    participants for it was most of an event's cost."""
    if item_id not in {i.id for i in meeting.items}:
        return set()
    kept = queries.guests_not_invited_to(meeting.id, item_id)
    if meeting.conflict_policy is ConflictPolicy.HIDE:
        kept |= queries.members_with_interest_in(meeting.id, item_id)
    return kept


def is_recused(user: User, item: MeetingItem) -> bool:
    """Under either policy, a member who declared an interest takes no part in the item's decision."""
    return any(d.member_id == user.id for d in item.interests)


def _item(user: User, meeting: Meeting, item_id: int | None) -> MeetingItem:
    item = next((i for i in visible_items(user, meeting) if i.id == item_id), None)
    if item is None:
        raise Hidden()
    return item


def _is_member(user: User, meeting: Meeting) -> bool:
    participant = _participant(user, meeting)
    return participant is not None and participant.is_voting_member


# --- rules for views (user, **url arguments) -> bool ---------------------------------------------------

def can_list_meetings(user: User, **_: object) -> bool:
    # A ministry's liaison takes part in no meeting: their pages are their ministry's submissions.
    return user.is_active and user.role is not Role.LIAISON


def can_create_meeting(user: User, **_: object) -> bool:
    return is_secretary(user)


def can_view_meeting(user: User, meeting_id: int | None = None, **_: object) -> bool:
    _meeting(user, meeting_id)
    return True


def can_edit_agenda(user: User, meeting_id: int | None = None, **_: object) -> bool:
    _meeting(user, meeting_id)
    return is_secretary(user)


def can_manage_participants(user: User, meeting_id: int | None = None, **_: object) -> bool:
    return can_edit_agenda(user, meeting_id=meeting_id)


def can_run_meeting(user: User, meeting_id: int | None = None, **_: object) -> bool:
    """Start, adjourn, resume, close, adopt the consent block, decide on substitutes: the meeting's chair."""
    return is_chair_of(user, _meeting(user, meeting_id))


def can_see_participants(user: User, meeting_id: int | None = None, **_: object) -> bool:
    meeting = _meeting(user, meeting_id)
    if is_secretary(user):
        return True
    participant = _participant(user, meeting)
    return participant is not None and participant.role is not ParticipantRole.GUEST


def can_see_positions(user: User, meeting_id: int | None = None, **_: object) -> bool:
    """Who has (not) responded, per item, and the consent block: the secretariat and the chair."""
    meeting = _meeting(user, meeting_id)
    return is_secretary(user) or is_chair_of(user, meeting)


def can_respond(user: User, meeting_id: int | None = None, **_: object) -> bool:
    """Answer the invitation, check oneself in: members and the chair."""
    return _is_member(user, _meeting(user, meeting_id))


def can_check_in(user: User, meeting_id: int | None = None, **_: object) -> bool:
    meeting = _meeting(user, meeting_id)
    return _is_member(user, meeting) or is_secretary(user)


def can_view_item(user: User, meeting_id: int | None = None, item_id: int | None = None, **_: object) -> bool:
    _item(user, _meeting(user, meeting_id), item_id)
    return True


def can_mark_position(user: User, meeting_id: int | None = None, item_id: int | None = None, **_: object) -> bool:
    meeting = _meeting(user, meeting_id)
    _item(user, meeting, item_id)
    return _is_member(user, meeting)


def can_declare_interest(user: User, meeting_id: int | None = None, item_id: int | None = None,
                         **_: object) -> bool:
    return can_mark_position(user, meeting_id=meeting_id, item_id=item_id)


def can_edit_item(user: User, meeting_id: int | None = None, item_id: int | None = None, **_: object) -> bool:
    meeting = _meeting(user, meeting_id)
    _item(user, meeting, item_id)
    return is_secretary(user)


def can_download_calendar(user: User, meeting_id: int | None = None, **_: object) -> bool:
    return can_view_meeting(user, meeting_id=meeting_id)


def can_manage_templates(user: User, **_: object) -> bool:
    """Agenda templates (list, make, change, delete, start a meeting from one): the secretariat."""
    return is_secretary(user)
