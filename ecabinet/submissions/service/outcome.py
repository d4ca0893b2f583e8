"""The ministry hears when its submission is decided.

The outcome itself is never copied: ``queries.submission_outcome`` reads it from the item or the ballot.
But the item is decided, and the ballot closed, by the meetings and voting services, which know nothing of
submissions (they sit below). So this module watches their rows: when a flush changes the ``outcome`` of
an agenda item or a ballot, the unit of work remembers it; inside its commit, the submissions that became
that item or ballot get their audit entry and their ministry its notice, in the same transaction. A
rollback forgets it all.
"""

from __future__ import annotations

from sqlalchemy import event, inspect, or_, select
from sqlalchemy.orm import Session

from ecabinet.core import uow
from ecabinet.core.actor import Actor
from ecabinet.meetings.models import MeetingItem
from ecabinet.submissions.models import Submission, SubmissionStatus
from ecabinet.submissions.service.common import N_OUTCOME, record, tell_ministry
from ecabinet.voting.models import Ballot

_KEY = "submission_outcomes"


@event.listens_for(Session, "after_flush")
def _outcome_changed(session: Session, _context) -> None:  # noqa: ANN001
    changed = [obj for obj in session.dirty if isinstance(obj, (MeetingItem, Ballot))
               and obj.outcome is not None and inspect(obj).attrs.outcome.history.has_changes()]
    if changed:
        uow.pending(session, _KEY).extend((type(obj).__name__, obj.id) for obj in changed)


@uow.before_commit_hook
def _tell_ministries(session: Session) -> None:
    changed = uow.take_pending(session, _KEY)
    if not changed:
        return
    items = {id_ for kind, id_ in changed if kind == "MeetingItem"}
    ballots = {id_ for kind, id_ in changed if kind == "Ballot"}
    query = select(Submission).where(Submission.status == SubmissionStatus.ACCEPTED,
                                     or_(Submission.agenda_item_id.in_(items), Submission.ballot_id.in_(ballots)))
    for submission in session.scalars(query):
        outcome = (session.get(MeetingItem, submission.agenda_item_id).outcome if submission.agenda_item_id
                   else session.get(Ballot, submission.ballot_id).outcome)
        record(Actor.system("submissions"), "submission.outcome", submission, {"outcome": outcome})
        tell_ministry(submission, N_OUTCOME)
