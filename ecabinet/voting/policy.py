"""Who may see and do what with ballots. Built on the meetings domain's access rules.

A ballot of a meeting is visible to whoever may see the meeting (and its item), except guests; drafts
only to the secretariat and the chair. A ballot between meetings is visible to the secretariat, the
members and the chairs. Anything else is ``Hidden`` (404).
"""

from __future__ import annotations

from typing import Any

from ecabinet.accounts.models import Role, User
from ecabinet.core.policy import Hidden
from ecabinet.meetings import policy as meetings_policy
from ecabinet.voting.models import Ballot, BallotKind, BallotStatus


def _ballot(ballot_id: Any) -> Ballot:
    from ecabinet.voting.service import get_ballot

    ballot = get_ballot(ballot_id)
    if ballot is None:
        raise Hidden()
    return ballot


def _is_chair_for(user: User, ballot: Ballot) -> bool:
    from ecabinet.voting.service import _is_chair_for

    return user.is_active and _is_chair_for(user, ballot)


def may_see(user: User, ballot: Ballot | Any) -> bool:
    """``ballot``: a Ballot, or the cached facts of an open one (``service.open_ballot_facts``)."""
    if not user.is_active or user.role in (Role.GUEST, Role.ADMIN):
        return False
    if user.role is Role.SECRETARY:
        return True
    if ballot.status in (BallotStatus.DRAFT, BallotStatus.APPROVED, BallotStatus.CANCELLED):
        return _is_chair_for(user, ballot)
    if ballot.meeting_id is None:
        return user.role in (Role.MEMBER, Role.CHAIR)
    meeting = meetings_policy.meeting_seen_by(user, ballot.meeting_id)
    if meeting is None:
        return False
    if ballot.item_id is not None:
        return any(i.id == ballot.item_id for i in meetings_policy.visible_items(user, meeting))
    return True


def _visible(user: User, ballot_id: Any) -> Ballot:
    ballot = _ballot(ballot_id)
    if not may_see(user, ballot):
        raise Hidden()
    return ballot


# --- HTTP rules (user, **url arguments) -> bool ------------------------------------------------------

def can_list_ballots(user: User, **_: object) -> bool:
    return user.is_active and user.role in (Role.SECRETARY, Role.CHAIR, Role.MEMBER)


def can_draft_written(user: User, **_: object) -> bool:
    return user.is_active and user.role is Role.SECRETARY


def can_draft_live(user: User, meeting_id: int | None = None, **_: object) -> bool:
    from ecabinet.meetings.service import get_meeting

    meetings_policy.can_view_meeting(user, meeting_id=meeting_id)  # Hidden if not
    meeting = get_meeting(meeting_id)
    return user.role is Role.SECRETARY or meetings_policy.is_chair_of(user, meeting)


def can_view_ballot(user: User, ballot_id: int | None = None, **_: object) -> bool:
    _visible(user, ballot_id)
    return True


def can_vote(user: User, ballot_id: int | None = None, **_: object) -> bool:
    """Members, chairs and substitutes (role member); the service checks the eligibility snapshot."""
    _visible(user, ballot_id)
    return user.role in (Role.MEMBER, Role.CHAIR)


def can_approve(user: User, ballot_id: int | None = None, **_: object) -> bool:
    ballot = _visible(user, ballot_id)
    return ballot.kind is BallotKind.WRITTEN and _is_chair_for(user, ballot)


def can_send(user: User, ballot_id: int | None = None, **_: object) -> bool:
    ballot = _visible(user, ballot_id)
    return ballot.kind is BallotKind.WRITTEN and user.role is Role.SECRETARY


def can_run_live(user: User, ballot_id: int | None = None, **_: object) -> bool:
    """Open and close a live vote: the meeting's chair."""
    ballot = _visible(user, ballot_id)
    return ballot.kind is BallotKind.LIVE and _is_chair_for(user, ballot)


def can_cancel(user: User, ballot_id: int | None = None, **_: object) -> bool:
    ballot = _visible(user, ballot_id)
    return user.role is Role.SECRETARY or _is_chair_for(user, ballot)


def can_follow_up(user: User, ballot_id: int | None = None, **_: object) -> bool:
    """Who has not answered yet: the secretariat and the chair."""
    ballot = _visible(user, ballot_id)
    return user.role is Role.SECRETARY or _is_chair_for(user, ballot)


# --- Socket.IO rules (user, data) -> bool ----------------------------------------------------------

def _int(data: Any, key: str) -> int | None:
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def _meeting_ballot(user: User, data: Any, cached: bool = False) -> Any:
    """The ballot an event names, if this user may see it in that meeting. ``cached``: an open ballot's
    facts may come from the per-process cache (``service.open_ballot_facts``); who may see a ballot does
    not change when it closes, so the check needs no statement of its own (2,000 voters at once)."""
    meeting_id, ballot_id = _int(data, "meeting_id"), _int(data, "ballot_id")
    if meeting_id is None or ballot_id is None:
        raise Hidden()
    from ecabinet.voting.service import open_ballot_facts

    ballot = (open_ballot_facts(ballot_id) if cached else None) or _ballot(ballot_id)
    if ballot.meeting_id != meeting_id or not may_see(user, ballot):
        raise Hidden()
    return ballot


def can_list_event(user: User, data: Any = None, **_: object) -> bool:
    meeting_id = _int(data, "meeting_id")
    if meeting_id is None:
        raise Hidden()
    return meetings_policy.can_view_meeting(user, meeting_id=meeting_id)


def can_vote_event(user: User, data: Any = None, **_: object) -> bool:
    _meeting_ballot(user, data, cached=True)
    return user.role in (Role.MEMBER, Role.CHAIR)


def can_run_event(user: User, data: Any = None, **_: object) -> bool:
    ballot = _meeting_ballot(user, data)
    return ballot.kind is BallotKind.LIVE and _is_chair_for(user, ballot)
