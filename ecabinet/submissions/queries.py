"""Read helpers the policy, the services and the views share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ecabinet.extensions import db
from ecabinet.meetings.models import Confidentiality, Meeting, MeetingItem
from ecabinet.minutes import service as minutes
from ecabinet.minutes.models import ActionItem
from ecabinet.submissions.models import (
    Submission,
    SubmissionDocument,
    SubmissionStatus,
    SubmissionVersion,
)
from ecabinet.voting import queries as voting_queries
from ecabinet.voting.models import Ballot, BallotStatus

ID_MAX = 2**31 - 1


def get_submission(submission_id: Any) -> Submission | None:
    if not isinstance(submission_id, int) or isinstance(submission_id, bool) or not 1 <= submission_id <= ID_MAX:
        return None
    return db.session.get(Submission, submission_id)


def get_file(submission: Submission, file_id: Any) -> SubmissionDocument | None:
    """A document of any version of the submission."""
    if not isinstance(file_id, int) or not 1 <= file_id <= ID_MAX:
        return None
    document = db.session.get(SubmissionDocument, file_id)
    if document is None or document.version.submission_id != submission.id:
        return None
    return document


def submissions_of(organisation_id: int) -> list[Submission]:
    query = select(Submission).where(Submission.organisation_id == organisation_id) \
        .order_by(Submission.created_at.desc(), Submission.id.desc())
    return list(db.session.scalars(query))


def intake_queue() -> list[Submission]:
    """The secretariat's queue: what waits for it, the most urgent first, then by deadline."""
    query = select(Submission).where(Submission.status == SubmissionStatus.SUBMITTED) \
        .order_by(Submission.deadline, Submission.id)
    waiting = list(db.session.scalars(query))
    order = {"very_urgent": 0, "urgent": 1, "normal": 2}
    return sorted(waiting, key=lambda s: order.get(s.urgency.value, 3))


def all_submissions() -> list[Submission]:
    return list(db.session.scalars(select(Submission).order_by(Submission.created_at.desc(), Submission.id.desc())))


def merge_targets(submission: Submission) -> list[Submission]:
    """The submissions of the same ministry this one could be merged into."""
    query = select(Submission).where(Submission.organisation_id == submission.organisation_id,
                                     Submission.id != submission.id,
                                     Submission.status.in_([SubmissionStatus.SUBMITTED, SubmissionStatus.RETURNED])) \
        .order_by(Submission.id)
    return list(db.session.scalars(query))


def version(submission: Submission, number: int) -> SubmissionVersion | None:
    return next((v for v in submission.versions if v.number == number), None)


# --- what it became ------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What became of an accepted submission, read from the item or the ballot it became (their domains
    keep the rules; nothing is copied here). ``value`` is the item's or the ballot's outcome."""

    item: MeetingItem | None = None
    ballot: Ballot | None = None
    value: str | None = None
    decided_at: datetime | None = None
    conclusions: str | None = None  # the meeting's issued conclusions (sanitised HTML), once issued
    actions: list[ActionItem] = field(default_factory=list)  # the ministry's, from those conclusions

    @property
    def decided(self) -> bool:
        return self.value is not None

    @property
    def meeting(self) -> Meeting | None:
        return self.item.meeting if self.item is not None else None


def submission_outcome(submission: Submission) -> Outcome | None:
    """None until the submission is accepted (or when what it became was removed)."""
    if submission.status is not SubmissionStatus.ACCEPTED:
        return None
    if submission.agenda_item_id is not None:
        item = db.session.get(MeetingItem, submission.agenda_item_id)
        if item is None:
            return None
        outcome = Outcome(item=item, value=item.outcome)
        conclusion = minutes.conclusion_of(item.meeting)
        if conclusion is not None and conclusion.issued_at is not None:
            # The issued conclusions are sent to the ministries. They cover the whole meeting: when any of
            # its items is confidential they may tell of it, so they are not shown here (the outcome and
            # the ministry's own action items still are).
            if not any(i.confidentiality is Confidentiality.CONFIDENTIAL for i in item.meeting.items):
                outcome.conclusions = conclusion.body
            outcome.decided_at = conclusion.issued_at
            outcome.actions = [a for a in conclusion.actions if a.organisation_id == submission.organisation_id]
        return outcome
    if submission.ballot_id is not None:
        ballot = voting_queries.get_ballot(submission.ballot_id)
        if ballot is None:
            return None
        closed = ballot.status is BallotStatus.CLOSED
        return Outcome(ballot=ballot, value=ballot.outcome if closed else None,
                       decided_at=ballot.closed_at if closed else None)
    return None
