"""Who may see and do what with ballots. Built on the meetings domain's access rules.

A ballot of a meeting is visible to whoever may see the meeting (and its item), except guests; drafts
only to the secretariat and the chair. A ballot between meetings is visible to the secretariat, the
members and the chairs. Anything else is ``Hidden`` (404).

Each rule is written once, as a predicate on (user, ballot or meeting): the HTTP and Socket.IO rules
below add visibility to it, and the services ask the same predicate before they change anything.
"""

from __future__ import annotations

from typing import Any

from ecabinet.accounts import policy as accounts_policy
from ecabinet.accounts.models import Role, User
from ecabinet.core.policy import Hidden
from ecabinet.extensions import db
from ecabinet.meetings import policy as meetings_policy
from ecabinet.meetings.models import Meeting
from ecabinet.voting.models import Ballot, BallotKind, BallotStatus
from ecabinet.voting.queries import get_ballot, open_ballot_facts


def _ballot(ballot_id: Any) -> Ballot:
    ballot = get_ballot(ballot_id)
    if ballot is None:
        raise Hidden()
    return ballot


# --- the rules, as predicates ----------------------------------------------------------------------

def is_chair_for(user: User, ballot: Ballot | Any) -> bool:
    """The chair of the ballot's meeting; any chair for a ballot between meetings."""
    if not user.is_active or user.role is not Role.CHAIR:
        return False
    if ballot.meeting_id is None:
        return True
    meeting = db.session.get(Meeting, ballot.meeting_id)
    return meeting is not None and meeting.chair_id == user.id


def is_secretary(user: User) -> bool:
    return user.is_active and user.role is Role.SECRETARY


def may_draft_written(user: User) -> bool:
    return is_secretary(user)


def may_draft_live(user: User, meeting: Meeting) -> bool:
    return is_secretary(user) or meetings_policy.is_chair_of(user, meeting)


def may_approve(user: User, ballot: Ballot) -> bool:
    """The chair approves a written-opinion form."""
    return ballot.kind is BallotKind.WRITTEN and is_chair_for(user, ballot)


def may_send(user: User, ballot: Ballot) -> bool:
    """The secretariat sends an approved written-opinion form."""
    return ballot.kind is BallotKind.WRITTEN and is_secretary(user)


def may_run_live(user: User, ballot: Ballot | Any) -> bool:
    """Open and close a live vote: the meeting's chair."""
    return ballot.kind is BallotKind.LIVE and is_chair_for(user, ballot)


def may_manage(user: User, ballot: Ballot) -> bool:
    """Withdraw a ballot, close a written one, follow up who has not answered: the secretariat or the chair."""
    return is_secretary(user) or is_chair_for(user, ballot)


def may_close(user: User, ballot: Ballot) -> bool:
    return may_run_live(user, ballot) if ballot.kind is BallotKind.LIVE else may_manage(user, ballot)


# The secret ballot's seal (docs/voting.md, "Threat model"): its layers, outermost first, and the role
# whose members hold each layer's key. The chair opens the ballot box; the secretariat counts.
SEAL_SIDES: dict[str, Role] = {"chair": Role.CHAIR, "secretariat": Role.SECRETARY}


def holds_seal_side(user: User, side: str) -> bool:
    """Holds the key of this layer of every secret ballot opened while they held the role."""
    return user.is_active and SEAL_SIDES.get(side) is user.role and accounts_policy.holds_custody_key(user)


def next_seal_side(ballot: Ballot) -> str | None:
    """The side whose key opens the ballot's next layer, while it is being counted."""
    layers = ballot.seal_layers
    if ballot.status is not BallotStatus.COUNTING or ballot.unsealed_layers >= len(layers):
        return None
    return layers[ballot.unsealed_layers]["side"]


def may_open_seal(user: User, ballot: Ballot) -> bool:
    side = next_seal_side(ballot)
    return side is not None and holds_seal_side(user, side)


def may_see(user: User, ballot: Ballot | Any) -> bool:
    """``ballot``: a Ballot, or the cached facts of an open one (``queries.open_ballot_facts``)."""
    if not user.is_active or user.role in (Role.GUEST, Role.ADMIN):
        return False
    if user.role is Role.SECRETARY:
        return True
    if ballot.status in (BallotStatus.DRAFT, BallotStatus.APPROVED, BallotStatus.CANCELLED):
        return is_chair_for(user, ballot)
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
    return may_draft_written(user)


def can_draft_live(user: User, meeting_id: int | None = None, **_: object) -> bool:
    meetings_policy.can_view_meeting(user, meeting_id=meeting_id)  # Hidden if not
    return may_draft_live(user, db.session.get(Meeting, meeting_id))


def can_view_ballot(user: User, ballot_id: int | None = None, **_: object) -> bool:
    _visible(user, ballot_id)
    return True


def can_vote(user: User, ballot_id: int | None = None, **_: object) -> bool:
    """Members, chairs and substitutes (role member); the service checks the eligibility snapshot."""
    _visible(user, ballot_id)
    return user.role in (Role.MEMBER, Role.CHAIR)


def can_approve(user: User, ballot_id: int | None = None, **_: object) -> bool:
    return may_approve(user, _visible(user, ballot_id))


def can_send(user: User, ballot_id: int | None = None, **_: object) -> bool:
    return may_send(user, _visible(user, ballot_id))


def can_run_live(user: User, ballot_id: int | None = None, **_: object) -> bool:
    """Open and close a live vote: the meeting's chair."""
    return may_run_live(user, _visible(user, ballot_id))


def can_cancel(user: User, ballot_id: int | None = None, **_: object) -> bool:
    return may_manage(user, _visible(user, ballot_id))


def can_open_seal(user: User, ballot_id: int | None = None, **_: object) -> bool:
    """Open the next layer of a secret ballot being counted: a holder of that layer's side."""
    return may_open_seal(user, _visible(user, ballot_id))


def can_follow_up(user: User, ballot_id: int | None = None, **_: object) -> bool:
    """Who has not answered yet: the secretariat and the chair."""
    return may_manage(user, _visible(user, ballot_id))


# --- Socket.IO rules (user, data) -> bool ----------------------------------------------------------
# ``data`` is the payload validated by its schema (ecabinet/voting/schemas.py): its ids are there, and
# whole numbers in the database's range.


def _meeting_ballot(user: User, data: Any, cached: bool = False) -> Any:
    """The ballot an event names, if this user may see it in that meeting. ``cached``: an open ballot's
    facts may come from the per-process cache (``queries.open_ballot_facts``); who may see a ballot does
    not change when it closes, so the check needs no statement of its own (2,000 voters at once)."""
    meeting_id, ballot_id = data["meeting_id"], data["ballot_id"]
    ballot = (open_ballot_facts(ballot_id) if cached else None) or _ballot(ballot_id)
    if ballot.meeting_id != meeting_id or not may_see(user, ballot):
        raise Hidden()
    return ballot


def can_list_event(user: User, data: Any = None, **_: object) -> bool:
    return meetings_policy.can_view_meeting(user, meeting_id=data["meeting_id"])


def can_vote_event(user: User, data: Any = None, **_: object) -> bool:
    _meeting_ballot(user, data, cached=True)
    return user.role in (Role.MEMBER, Role.CHAIR)


def can_run_event(user: User, data: Any = None, **_: object) -> bool:
    return may_run_live(user, _meeting_ballot(user, data))
