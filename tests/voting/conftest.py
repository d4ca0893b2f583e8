"""Fixtures for voting: the meetings cabinet, a meeting in session with members checked in, ballots."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from tests.live.conftest import in_session, room_client  # noqa: F401 - fixtures reused here
from tests.meetings.conftest import actor, cabinet, draft, published  # noqa: F401 - fixtures reused here

VOTERS = ("chair", "member", "member2", "member3")


def cvid() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def quorate(in_session, cabinet):  # noqa: F811
    """The meeting in session, with the chair and three members checked in."""
    from ecabinet.meetings import service
    from ecabinet.meetings.models import CheckInMode

    for role in VOTERS:
        p = service.participant_of(in_session, cabinet[role])
        service.check_in(actor(cabinet["secretary"]), in_session, p, CheckInMode.ROOM)
    db.session.commit()
    return in_session


def make_live(meeting, people, **kw):
    from ecabinet.voting import service

    data = service.BallotData(title=kw.pop("title", "Thông qua Nghị quyết A"), kind="live", meeting_id=meeting.id,
                              item_id=kw.pop("item_id", meeting.items[0].id), **kw)
    ballot = service.create_ballot(actor(people["secretary"]), data)
    db.session.commit()
    return ballot


@pytest.fixture
def live_open(quorate, cabinet):  # noqa: F811
    from ecabinet.voting import service

    ballot = make_live(quorate, cabinet)
    service.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    return ballot


def make_written(people, questions=("Câu hỏi 1", "Câu hỏi 2"), hours=72, **kw):
    from ecabinet.voting import service

    data = service.BallotData(title=kw.pop("title", "Lấy ý kiến thành viên Chính phủ"), kind="written",
                              questions=list(questions), deadline=utcnow() + timedelta(hours=hours), **kw)
    ballot = service.create_ballot(actor(people["secretary"]), data)
    db.session.commit()
    return ballot


@pytest.fixture
def written_open(cabinet):  # noqa: F811
    from ecabinet.voting import service

    ballot = make_written(cabinet)
    service.approve_ballot(actor(cabinet["chair"]), ballot)
    service.send_ballot(actor(cabinet["secretary"]), ballot)
    db.session.commit()
    return ballot


def fresh():
    """A just-entered password, for written ballots."""
    return utcnow()


def wrapping_key(user) -> bytes:
    """The key a key holder's session carries after signing in with their password."""
    from ecabinet.accounts import custody
    from tests.conftest import PASSWORD
    from tests.meetings.conftest import actor as _actor

    return custody.key_for_password(_actor(user), user, PASSWORD)


def close_and_count(ballot, people, closer: str = "chair") -> dict:
    """Close a ballot as its chair (or ``closer``) does from a signed-in session, and, for a sealed
    secret ballot, open the secretariat's layer too: the result."""
    from ecabinet.voting import service
    from tests.meetings.conftest import actor as _actor

    result = service.close_ballot(_actor(people[closer]), ballot, wrapping_key=wrapping_key(people[closer]))
    db.session.commit()
    if result is None:
        db.session.refresh(ballot)
        result = service.open_seal(_actor(people["secretary"]), ballot, wrapping_key(people["secretary"]))
        db.session.commit()
    db.session.refresh(ballot)
    return result
