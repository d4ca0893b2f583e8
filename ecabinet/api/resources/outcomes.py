"""Outcomes of a meeting: its decided items and its closed ballots, on the items the client may see.
A ballot gives its outcome and turnout only: no option counts, and nothing of who voted how."""

from __future__ import annotations

from sqlalchemy import select

from ecabinet.api import policy, schemas
from ecabinet.api.blueprint import bp
from ecabinet.api.http import operation, responses, spec
from ecabinet.api.resources.common import client, meeting_or_404
from ecabinet.extensions import db
from ecabinet.voting.models import Ballot, BallotStatus


@bp.get("/meetings/<int:meeting_id>/outcomes")
@operation("outcomes:read")
@spec.validate(resp=responses(HTTP_200=schemas.Outcomes), tags=["outcomes"], operation_id="getOutcomes")
def get_outcomes(meeting_id: int):
    """The decided items and closed ballots of a meeting, on the items the client may see."""
    meeting = meeting_or_404(meeting_id)
    items = policy.visible_items(client(), meeting)
    ids = {it.id for it in items}
    ballots = db.session.scalars(select(Ballot).where(
        Ballot.meeting_id == meeting.id, Ballot.status == BallotStatus.CLOSED).order_by(Ballot.id))
    return schemas.Outcomes(
        meeting_id=meeting.id,
        items=[schemas.ItemOutcome(item_id=it.id, title=it.title, outcome=it.outcome) for it in items if it.outcome],
        ballots=[schemas.BallotOutcome(id=b.id, item_id=b.item_id, title=b.title, secret=b.secret,
                                       closed_at=b.closed_at, outcome=b.outcome, votes_cast=b.votes_cast,
                                       eligible_count=b.eligible_count)
                 for b in ballots if b.item_id in ids])
