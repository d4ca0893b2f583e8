"""Voting services compose into one unit of work: when the second fails, the first rolls back with it,
and nothing that follows a commit happens (no room broadcast, no notification, no email)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ecabinet.core import uow
from ecabinet.extensions import db
from ecabinet.live.models import MeetingEvent
from ecabinet.notifications.models import Notification
from ecabinet.voting import service
from ecabinet.voting.models import Ballot, BallotStatus, BallotVoter
from ecabinet.voting.service import VotingError
from tests.helpers import joined_member_socket
from tests.meetings.conftest import actor
from tests.voting.conftest import make_written


@pytest.fixture
def member_socket(app, client, quorate):
    sio = joined_member_socket(app, client, quorate.id)
    yield sio
    if sio.is_connected():
        sio.disconnect()


@pytest.fixture
def after_commit_runs(monkeypatch):
    """Every after-commit callback registered (by any domain), and those that actually ran."""
    registered: list[str] = []
    ran: list[str] = []
    real = uow.after_commit

    def spy(fn, *args, **kwargs):
        name = getattr(fn, "__qualname__", repr(fn))
        registered.append(name)

        def tracked(*a, **kw):
            ran.append(name)
            return fn(*a, **kw)

        real(tracked, *args, **kwargs)

    monkeypatch.setattr(uow, "after_commit", spy)
    return registered, ran


def _room_events(sio) -> list[dict]:
    return [p["args"][0] for p in sio.get_received() if p["name"] == "event"]


def test_a_failed_second_service_rolls_back_the_first_and_broadcasts_nothing(quorate, cabinet, member_socket,
                                                                              after_commit_runs):
    _registered, ran = after_commit_runs
    before = db.session.scalar(select(func.count()).select_from(MeetingEvent))
    data = service.BallotData(title="Thông qua Nghị quyết B", kind="live", meeting_id=quorate.id,
                              item_id=quorate.items[0].id)
    ballot = service.create_ballot(actor(cabinet["secretary"]), data)  # the first service: staged, flushed
    ballot_id = ballot.id
    assert ballot_id is not None
    with pytest.raises(VotingError, match="chair"):
        service.open_ballot(actor(cabinet["member"]), ballot)  # the second service: refused
    assert uow.commit() is False  # the boundary: the refusal doomed the unit of work, so it rolled back

    assert db.session.get(Ballot, ballot_id) is None
    assert db.session.scalar(select(func.count()).select_from(MeetingEvent)) == before
    assert ran == []
    assert _room_events(member_socket) == []

    # The same first step, committed, does reach the room: the silence above is the rollback's.
    ballot = service.create_ballot(actor(cabinet["secretary"]), data)
    assert uow.commit() is True
    events = _room_events(member_socket)
    assert [e["type"] for e in events] == ["ballot.create"]
    assert events[0]["payload"]["ballot"]["ballot_id"] == ballot.id
    assert "_broadcast" in " ".join(ran)


def test_a_failed_second_service_stores_no_notification_and_sends_no_email(app, cabinet, after_commit_runs):
    registered, ran = after_commit_runs
    app.config["SMTP_URL"] = "smtp://localhost:2525"  # so that notifying queues its email after the commit
    ballot = make_written(cabinet)
    service.approve_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    registered.clear()
    ran.clear()

    service.send_ballot(actor(cabinet["secretary"]), ballot)  # the first service: voters notified, email queued
    assert db.session.scalar(select(func.count()).select_from(Notification)) > 0  # staged in this transaction
    assert registered  # the email waits for the commit
    with pytest.raises(VotingError, match="chair"):
        service.close_ballot(actor(cabinet["member"]), ballot)  # the second service: refused
    assert uow.commit() is False

    db.session.expire_all()
    assert db.session.get(Ballot, ballot.id).status is BallotStatus.APPROVED
    assert db.session.scalar(select(func.count()).select_from(BallotVoter)) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert ran == []
