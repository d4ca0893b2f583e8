"""Reading meetings: the lookups the policy, the services and the views share.

Nothing here changes anything, so the policy may ask these without reaching the services.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import and_, bindparam, inspect, select
from sqlalchemy.orm import selectinload

from ecabinet.accounts.models import Role, User
from ecabinet.extensions import db
from ecabinet.meetings.models import (
    GuestItemInvitation,
    InterestDeclaration,
    Meeting,
    MeetingItem,
    MeetingParticipant,
    MeetingStatus,
    ParticipantRole,
)


def get_meeting(meeting_id: int | None) -> Meeting | None:
    return db.session.get(Meeting, meeting_id) if meeting_id is not None else None


def meeting_or_404(meeting_id: int) -> Meeting:
    """The meeting of a page's URL, or the 404 page: for the views of every domain that shows one."""
    meeting = get_meeting(meeting_id)
    if meeting is None:
        abort(404)
    return meeting


def get_item(meeting: Meeting, item_id: int | None) -> MeetingItem | None:
    item = db.session.get(MeetingItem, item_id) if item_id is not None else None
    return item if item is not None and item.meeting_id == meeting.id else None


# Built once, with bind parameters: building a select (and its cache key) costs about as much Python
# as running it, and every socket event's policy runs this one.
_MEETING_AND_PARTICIPANT = (
    select(Meeting, MeetingParticipant).outerjoin(MeetingParticipant, and_(
        MeetingParticipant.meeting_id == Meeting.id, MeetingParticipant.user_id == bindparam("user_id")))
    .where(Meeting.id == bindparam("meeting_id")))


def meeting_and_participant(meeting_id: int | None, user: User) -> tuple[Meeting | None, MeetingParticipant | None]:
    """A meeting and this user's participation in it, in one statement (a socket event's policy check
    needs both, and each statement costs a round trip and ~0.25 ms of Python)."""
    if meeting_id is None:
        return None, None
    row = db.session.execute(_MEETING_AND_PARTICIPANT, {"meeting_id": meeting_id, "user_id": user.id}).first()
    if row is None:
        return None, None
    # The handler that follows looks the meeting up by id (db.session.get): held here, it is still in the
    # session's identity map (which holds rows weakly), and that lookup costs no second statement.
    db.session.info.setdefault("meetings_seen", {})[meeting_id] = row[0]
    if row[1] is not None:
        _participants_seen()[(meeting_id, user.id)] = row[1]
    return row[0], row[1]


def _participants_seen() -> dict[tuple[int, int], MeetingParticipant]:
    """(meeting id, user id) -> participation, for this database session: a policy check that has read a
    participation lets the next lookup of it (the items the user may see) use that row instead of a
    second statement. Held here because the session's identity map holds its rows weakly. Only found
    rows are kept, and one that has since been deleted, or expired by a commit, is read again."""
    return db.session.info.setdefault("meeting_participants_seen", {})


def participant_of(meeting: Meeting, user: User | None) -> MeetingParticipant | None:
    if user is None:
        return None
    known = _participants_seen().get((meeting.id, user.id))
    if known is not None:
        state = inspect(known)
        if state.session is db.session() and state.persistent and not state.expired and known not in db.session.deleted:
            return known
    return db.session.scalar(select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id,
                                                              MeetingParticipant.user_id == user.id))


def get_participant(meeting: Meeting, participant_id: int) -> MeetingParticipant | None:
    p = db.session.get(MeetingParticipant, participant_id)
    return p if p is not None and p.meeting_id == meeting.id else None


def agenda_for_page(meeting: Meeting) -> list[MeetingItem]:
    """The meeting's items with what its page reads of each (positions, declared interests and who declared
    them) loaded in three queries: lazily, 50 items cost ~100 statements (profiled). Keep the list while the
    page renders: the session holds loaded objects only while something refers to them."""
    return list(db.session.scalars(
        select(MeetingItem).where(MeetingItem.meeting_id == meeting.id).order_by(MeetingItem.position)
        .options(selectinload(MeetingItem.positions),
                 selectinload(MeetingItem.interests).joinedload(InterestDeclaration.member))))


def voting_members(meeting: Meeting) -> list[MeetingParticipant]:
    """Participants who are members of the Government for this meeting: the members and the chair."""
    return [p for p in meeting.participants if p.is_voting_member]


def list_meetings_for(user: User) -> list[Meeting]:
    """Meetings this user may see: all for the secretariat; otherwise those they take part in (no drafts,
    except for the chair of the draft)."""
    query = select(Meeting).order_by(Meeting.starts_at.desc())
    if user.role is Role.SECRETARY:
        return list(db.session.scalars(query))
    query = query.join(MeetingParticipant).where(MeetingParticipant.user_id == user.id)
    return [m for m in db.session.scalars(query)
            if m.status is not MeetingStatus.DRAFT or m.chair_id == user.id]


def users_with_role(*roles: Role, active_only: bool = True) -> list[User]:
    """Users who may be chosen for a meeting (its chair, a participant, a guest), by name."""
    query = select(User).where(User.role.in_(roles)).order_by(User.name)
    if active_only:
        query = query.where(User.active.is_(True))
    return list(db.session.scalars(query))


def guests_not_invited_to(meeting_id: int, item_id: int) -> set[int]:
    """The users of the meeting's guests who are not invited to this item."""
    invited = select(GuestItemInvitation.participant_id).where(GuestItemInvitation.item_id == item_id)
    return set(db.session.scalars(select(MeetingParticipant.user_id).where(
        MeetingParticipant.meeting_id == meeting_id, MeetingParticipant.role == ParticipantRole.GUEST,
        MeetingParticipant.id.not_in(invited))))


def members_with_interest_in(meeting_id: int, item_id: int) -> set[int]:
    """The meeting's participants (other than guests) who declared an interest in this item."""
    return set(db.session.scalars(select(MeetingParticipant.user_id).join(
        InterestDeclaration, InterestDeclaration.member_id == MeetingParticipant.user_id).where(
        MeetingParticipant.meeting_id == meeting_id, MeetingParticipant.role != ParticipantRole.GUEST,
        InterestDeclaration.item_id == item_id)))
