"""The demo meeting: published, about 12 items, one confidential, one guest presenter, positions marked."""

from __future__ import annotations

from sqlalchemy import func, select

from ecabinet.demo import load_demo
from ecabinet.extensions import db
from ecabinet.meetings import service
from ecabinet.meetings.demo import DEMO_TITLE
from ecabinet.meetings.models import Confidentiality, ItemKind, ItemPosition, Meeting, MeetingStatus


def test_demo_meeting_is_loaded_once(app):
    load_demo("demo-password-123")
    lines = load_demo("demo-password-123")
    assert "Demo meeting already loaded." in lines
    meetings = db.session.scalars(select(Meeting).where(Meeting.title == DEMO_TITLE)).all()
    assert len(meetings) == 1
    meeting = meetings[0]
    assert meeting.status is MeetingStatus.PUBLISHED and len(meeting.items) == 12
    assert sum(i.confidentiality is Confidentiality.CONFIDENTIAL for i in meeting.items) == 1
    assert sum(i.kind is ItemKind.DECISION for i in meeting.items) >= 5
    assert any(service.guests_of(i) for i in meeting.items)
    assert db.session.scalar(select(func.count()).select_from(ItemPosition)) > 0
    assert 0 < len(service.consent_block(meeting)) < sum(i.kind is ItemKind.DECISION for i in meeting.items)
