"""Drafting, approving, opening: the eligibility snapshot and the quorum at opening."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ecabinet.extensions import db
from ecabinet.voting import service
from ecabinet.voting.models import BallotStatus, BallotVoter
from ecabinet.voting.service import VotingError
from tests.meetings.conftest import actor
from tests.voting.conftest import make_live, make_written


def test_live_open_snapshots_members_and_chair(live_open, cabinet):
    voters = set(db.session.scalars(select(BallotVoter.voter_id).where(BallotVoter.ballot_id == live_open.id)))
    assert voters == {cabinet[r].id for r in ("chair", "member", "member2", "member3")}
    assert live_open.status is BallotStatus.OPEN and live_open.eligible_count == 4


def test_live_open_refused_without_quorum(in_session, cabinet):
    ballot = make_live(in_session, cabinet)
    with pytest.raises(VotingError, match="quorum"):
        service.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.rollback()
    assert db.session.get(type(ballot), ballot.id).status is BallotStatus.DRAFT


def test_live_open_refused_to_a_member(quorate, cabinet):
    ballot = make_live(quorate, cabinet)
    with pytest.raises(VotingError, match="chair"):
        service.open_ballot(actor(cabinet["member"]), ballot)


def test_substitute_votes_when_chair_allows(quorate, cabinet):
    from ecabinet.meetings import service as meetings
    from ecabinet.meetings.models import Attendance

    p = meetings.participant_of(quorate, cabinet["member3"])
    p.attendance = Attendance.ABSENT
    # A deputy (a user of the system) stands in for member3, and the chair lets them vote.
    from ecabinet.accounts import service as accounts
    from ecabinet.accounts.models import Role
    from tests.conftest import PASSWORD

    deputy = accounts.create_user(actor(None), accounts.UserData(email="deputy@example.gov.vn", name="Thứ trưởng",
                                                                 role=Role.MEMBER), PASSWORD)
    p.substitute_user_id = deputy.id
    p.substitute_may_vote = True
    db.session.commit()
    ballot = make_live(quorate, cabinet)
    service.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    voters = {v.voter_id: v.for_member_id for v in service.voters_of(ballot)}
    assert voters[deputy.id] == cabinet["member3"].id and cabinet["member3"].id not in voters


def test_secret_with_running_counts_refused(quorate, cabinet):
    with pytest.raises(VotingError, match="running counts"):
        make_live(quorate, cabinet, secret=True, show_running=True)


def test_written_needs_chair_approval_before_sending(cabinet):
    ballot = make_written(cabinet)
    with pytest.raises(VotingError, match="approve"):
        service.send_ballot(actor(cabinet["secretary"]), ballot)


def test_written_approval_only_by_chair(cabinet):
    ballot = make_written(cabinet)
    with pytest.raises(VotingError, match="chair"):
        service.approve_ballot(actor(cabinet["member"]), ballot)


def test_written_drafted_only_by_secretariat(cabinet):
    from ecabinet.core.types import utcnow

    with pytest.raises(VotingError, match="secretariat"):
        service.create_ballot(actor(cabinet["member"]), service.BallotData(
            title="X", kind="written", deadline=utcnow()))


def test_written_sent_to_all_members_and_chair_with_notification(written_open, cabinet):
    from ecabinet.notifications.models import Notification

    voters = {v.voter_id for v in service.voters_of(written_open)}
    assert voters == {cabinet[r].id for r in ("chair", "member", "member2", "member3")}
    notes = db.session.scalars(select(Notification.user_id)).all()
    assert voters <= set(notes)
    assert written_open.quorum_required == 3


def test_configurable_options(quorate, cabinet):
    options = [{"key": "yes", "label": "Có", "meaning": "yes"}, {"key": "no", "label": "Không", "meaning": "no"}]
    ballot = make_live(quorate, cabinet, options=options)
    assert [o["key"] for o in ballot.questions[0].option_list] == ["yes", "no"]
