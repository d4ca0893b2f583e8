"""Demo ballots: an open written-opinion ballot partly answered, a closed one with its summary, a secret
one waiting for its key holders, a live vote ready to open in the demo meeting; loading twice changes
nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from ecabinet.demo import load_demo
from ecabinet.extensions import db
from ecabinet.voting import service
from ecabinet.voting.demo import CLOSED_TITLE, LIVE_TITLE, OPEN_TITLE, PERSONNEL_TITLE
from ecabinet.voting.models import Ballot, BallotStatus


def test_voting_demo_is_loaded_once(app):
    load_demo("demo-password-123")
    lines = load_demo("demo-password-123")
    assert "Voting demo already loaded." in lines
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 4
    open_ = db.session.scalar(select(Ballot).where(Ballot.title == OPEN_TITLE))
    assert open_.status is BallotStatus.OPEN and 0 < open_.votes_cast < open_.eligible_count
    closed = db.session.scalar(select(Ballot).where(Ballot.title == CLOSED_TITLE))
    assert closed.status is BallotStatus.CLOSED
    summary = service.summary(closed)
    assert summary["voted"] == 21 and any(q["comments"]["other"] for q in summary["questions"])
    live = db.session.scalar(select(Ballot).where(Ballot.title == LIVE_TITLE))
    assert live.status is BallotStatus.DRAFT and live.meeting_id is not None
    assert service.verify_ballot(closed.id).ok
    secret = db.session.scalar(select(Ballot).where(Ballot.title == PERSONNEL_TITLE))
    assert secret.status is BallotStatus.COUNTING and secret.votes_cast == 18 and secret.unsealed_layers == 0
