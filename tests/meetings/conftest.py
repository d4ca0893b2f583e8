"""Fixtures for the meetings tests: a small cabinet and a meeting in each state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ecabinet.accounts import service as accounts
from ecabinet.accounts.models import Role
from ecabinet.audit.models import AuditEntry
from ecabinet.core import uow
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from tests.conftest import PASSWORD

SYSTEM = Actor.system("test")


def audit_actions() -> list[str]:
    """The audit log after the boundary's commit (which appends the recorded entries to the chain, or
    drops them with a unit of work that a refusal doomed)."""
    uow.commit()
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def cabinet(users):
    """The ``users`` fixture (one per role) plus two more members."""
    people = dict(users)
    for n in (2, 3):
        people[f"member{n}"] = accounts.create_user(
            SYSTEM, accounts.UserData(email=f"member{n}@example.gov.vn", name=f"Test member {n}",
                                      role=Role.MEMBER), PASSWORD)
    db.session.commit()  # services stage their changes; the requests a test makes see committed ones
    return people


def make_outsider():
    """A member created after the meeting, so not invited to it."""
    outsider = accounts.create_user(SYSTEM, accounts.UserData(email="outsider@example.gov.vn", name="Outsider",
                                                              role=Role.MEMBER), PASSWORD)
    db.session.commit()
    return outsider


def actor(user) -> Actor:
    return Actor(user=user, ip="127.0.0.1")


@pytest.fixture
def draft(cabinet):
    from ecabinet.meetings import service
    from ecabinet.meetings.models import ItemKind

    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    sec = actor(cabinet["secretary"])
    meeting = service.create_meeting(sec, service.MeetingData(
        title="Phiên họp Chính phủ thường kỳ", starts_at=start, ends_at=start + timedelta(hours=2),
        place="Phòng họp 1", chair_id=cabinet["chair"].id))
    service.add_item(sec, meeting, service.ItemData(title="Decision A", ministry="Bộ Tài chính", duration_minutes=20))
    service.add_item(sec, meeting, service.ItemData(title="Decision B", duration_minutes=30))
    service.add_item(sec, meeting, service.ItemData(title="Report C", kind=ItemKind.INFORMATION,
                                                    duration_minutes=15))
    db.session.commit()
    return meeting


@pytest.fixture
def published(draft, cabinet):
    from ecabinet.meetings import service

    service.publish(actor(cabinet["secretary"]), draft)
    db.session.commit()
    return draft


def items(meeting):
    return list(meeting.items)
