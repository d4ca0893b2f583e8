"""The ministry hears when its submission is decided.

The outcome itself is never copied: ``queries.submission_outcome`` reads it from the item or the ballot.
But the item is decided, and the ballot closed, by the meetings and voting services, which know nothing of
submissions (they sit below). So this module fills the hooks they declare for it:
``voting.hooks.ballot_decided`` (a ballot counted, and the item it was on decided with it) and
``meetings.hooks.consent_adopted`` (items adopted by consent). The submissions that became that ballot or
item get their audit entry and their ministry its notice, in the deciding service's unit of work: a
rollback forgets them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select

from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from ecabinet.meetings import hooks as meetings_hooks
from ecabinet.meetings.models import Meeting, MeetingItem
from ecabinet.submissions.models import Submission, SubmissionStatus
from ecabinet.submissions.service.common import N_OUTCOME, record, tell_ministry
from ecabinet.voting import hooks as voting_hooks
from ecabinet.voting.models import Ballot


@voting_hooks.ballot_decided.register("submissions")
def ballot_decided(ballot: Ballot) -> None:
    """Put to written opinions, or put on the agenda item the ballot decided."""
    became = Submission.ballot_id == ballot.id
    if ballot.item_id is not None:
        became = or_(became, Submission.agenda_item_id == ballot.item_id)
    _tell_ministries(became)


@meetings_hooks.consent_adopted.register("submissions")
def consent_adopted(_actor: Actor, _meeting: Meeting, items: Sequence[MeetingItem]) -> None:
    """Items adopted together by consent at the start of the meeting."""
    _tell_ministries(Submission.agenda_item_id.in_([item.id for item in items]))


def _tell_ministries(became: ColumnElement[bool]) -> None:
    query = select(Submission).where(Submission.status == SubmissionStatus.ACCEPTED, became)
    for submission in db.session.scalars(query):
        outcome = (db.session.get(MeetingItem, submission.agenda_item_id).outcome if submission.agenda_item_id
                   else db.session.get(Ballot, submission.ballot_id).outcome)
        record(Actor.system("submissions"), "submission.outcome", submission, {"outcome": outcome})
        tell_ministry(submission, N_OUTCOME)
