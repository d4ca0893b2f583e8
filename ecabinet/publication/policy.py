"""What may be published, by whom, and what a reader who is not signed in may see: the one place the
publication decides.

Only the meeting's chair publishes and withdraws (``meetings.policy.can_run_meeting``). What they may
publish is decided here, on top of the other domains' own visibility rules:

- **conclusions**: issued ones only (``minutes``: the secretariat writes them, the chair issues them), of a
  meeting that handled no confidential or restricted item: the conclusions are one text about the whole
  meeting and may speak of any of its items;
- **a decision on an agenda item**: an item the meeting decided (an outcome, or a closed ballot), that is
  not confidential or restricted, not opened to invited guests only (a guest's item) and not hidden from
  any member by a declared interest (``meetings.policy.users_kept_from_item``);
- **a ballot** is published by its counts and outcome per question only (``public_ballot``): never a
  receipt, a comment, a name or anything else of a secret ballot's record.

A signed-out reader sees only publications not withdrawn whose meeting and item still pass these rules
(``public_clause``, applied by every public query): an item marked confidential after it was published
leaves the public pages at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select

from ecabinet.accounts.models import User
from ecabinet.meetings import policy as meetings_policy
from ecabinet.meetings.models import (
    Confidentiality,
    Meeting,
    MeetingItem,
    MeetingStatus,
    ParticipantRole,
)
from ecabinet.minutes.models import Conclusion
from ecabinet.publication.models import Publication, PublicationKind
from ecabinet.voting.models import Ballot, BallotStatus
from ecabinet.voting.queries import ballots_for_meeting

# The refusals, in the chair's words.
NOT_HELD = "Only a meeting that has been held can publish its conclusions or decisions."
NOT_ISSUED = "Only issued conclusions can be published. Issue them first."
CONFIDENTIAL_MEETING = ("This meeting dealt with a confidential or restricted item, so its conclusions cannot "
                        "be published.")
CONFIDENTIAL_ITEM = "This item is confidential or restricted and cannot be published."
GUEST_ITEM = "This item was opened to invited guests and cannot be published."
HIDDEN_ITEM = "This item is hidden from some members of the meeting and cannot be published."
NOT_DECIDED = "Only an item the meeting has decided can be published."


# --- who ----------------------------------------------------------------------------------------------

def can_manage(user: User, meeting_id: int | None = None, **_: object) -> bool:
    """Publish and withdraw a meeting's conclusions and decisions: the meeting's chair only."""
    return meetings_policy.can_run_meeting(user, meeting_id=meeting_id)


def may_publish(user: User | None, meeting: Meeting) -> bool:
    """The same rule for a service (the system actor of the CLI and the demo may publish too)."""
    return user is None or meetings_policy.is_chair_of(user, meeting)




# --- what ---------------------------------------------------------------------------------------------

def _held(meeting: Meeting) -> bool:
    return meeting.status in (MeetingStatus.IN_SESSION, MeetingStatus.ADJOURNED, MeetingStatus.CLOSED)


def confidential_meeting(meeting: Meeting) -> bool:
    return any(item.confidentiality is not Confidentiality.NORMAL for item in meeting.items)


def conclusion_refusal(meeting: Meeting, conclusion: Conclusion | None) -> str | None:
    """Why these conclusions may not be published, or None."""
    if not _held(meeting):
        return NOT_HELD
    if conclusion is None or conclusion.issued_at is None:
        return NOT_ISSUED
    if confidential_meeting(meeting):
        return CONFIDENTIAL_MEETING
    return None


def _guests(meeting: Meeting) -> set[int]:
    return {p.user_id for p in meeting.participants if p.role is ParticipantRole.GUEST}


def closed_ballots(meeting: Meeting, item: MeetingItem) -> list[Ballot]:
    return [b for b in ballots_for_meeting(meeting) if b.item_id == item.id and b.status is BallotStatus.CLOSED]


def item_refusal(meeting: Meeting, item: MeetingItem) -> str | None:
    """Why the decision on this item may not be published, or None."""
    if item.meeting_id != meeting.id or not _held(meeting):
        return NOT_HELD
    if item.confidentiality is not Confidentiality.NORMAL:
        return CONFIDENTIAL_ITEM
    if item.guest_invitations:
        return GUEST_ITEM
    if meetings_policy.users_kept_from_item(meeting, item.id) - _guests(meeting):
        return HIDDEN_ITEM
    if not item.outcome and not closed_ballots(meeting, item):
        return NOT_DECIDED
    return None


def public_ballot(ballot: Ballot) -> dict[str, Any] | None:
    """What the public may know of a closed ballot: per question its text, counts and outcome. Nothing of
    its record (receipts, comments, voters, the digest), whether it was secret or named."""
    if ballot.status is not BallotStatus.CLOSED:
        return None
    result = ballot.result_data or {}
    labels = {str(q.id): {o["key"]: o.get("label") or o["key"] for o in q.option_list} for q in ballot.questions}
    questions = []
    for question in result.get("questions", []):
        names = labels.get(str(question.get("question_id")), {})
        counts = question.get("counts") or {}
        keys = [k for k in names if k in counts] + [k for k in counts if k not in names]
        questions.append({"text": question.get("text", ""), "outcome": question.get("outcome"),
                          "counts": [{"key": k, "label": names.get(k, k), "count": int(counts[k])} for k in keys]})
    return {"title": ballot.title, "secret": ballot.secret, "outcome": result.get("outcome") or ballot.outcome,
            "questions": questions}


# --- what a signed-out reader sees -------------------------------------------------------------------

def public_clause() -> ColumnElement[bool]:
    """The publications a signed-out reader may see, as a condition on ``Publication``: not withdrawn, of
    a meeting that is not a draft, and still passing the rules above (an item marked confidential, or a
    meeting that gained a confidential item, after the chair published leaves the public pages)."""
    not_normal = MeetingItem.confidentiality != Confidentiality.NORMAL.value
    confidential_item_of_meeting = exists(select(MeetingItem.id).where(
        MeetingItem.meeting_id == Publication.meeting_id, not_normal))
    confidential_item = exists(select(MeetingItem.id).where(MeetingItem.id == Publication.item_id, not_normal))
    held = exists(select(Meeting.id).where(
        Meeting.id == Publication.meeting_id,
        Meeting.status.in_([MeetingStatus.IN_SESSION, MeetingStatus.ADJOURNED, MeetingStatus.CLOSED])))
    return and_(Publication.withdrawn_at.is_(None), held,
                or_(and_(Publication.kind == PublicationKind.CONCLUSION, not_(confidential_item_of_meeting)),
                    and_(Publication.kind == PublicationKind.DECISION, Publication.item_id.is_not(None),
                         not_(confidential_item))))
