"""The demo's past meeting: `make run` shows final minutes that are signed, as a real archive would."""

from __future__ import annotations

from sqlalchemy import select

from ecabinet.demo import load_demo
from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting
from ecabinet.minutes.demo import PAST_TITLE
from ecabinet.minutes.models import Minutes, MinutesStatus


def test_the_demo_past_meeting_has_signed_final_minutes(app):
    lines = load_demo("demo-password-123")
    assert any("final minutes (signed)" in line for line in lines), lines
    db.session.rollback()
    minutes = db.session.scalar(select(Minutes).join(Meeting, Meeting.id == Minutes.meeting_id)
                                .where(Meeting.title == PAST_TITLE))
    assert minutes is not None and minutes.status is MinutesStatus.FINAL and minutes.signed
