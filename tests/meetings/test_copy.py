"""Copying a meeting from an earlier one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecabinet.meetings import service
from ecabinet.meetings.models import MeetingStatus, Position
from ecabinet.meetings.service import MeetingError
from tests.meetings.conftest import actor, audit_actions


def test_copy_makes_a_draft_with_the_items_only(published, cabinet):
    service.mark_position(actor(cabinet["member"]), published.items[0], Position.AGREE)
    copy = service.copy_meeting(actor(cabinet["secretary"]), published)
    assert copy.status is MeetingStatus.DRAFT and copy.agenda_version == 0
    assert [i.title for i in copy.items] == ["Decision A", "Decision B", "Report C"]
    assert all(not i.positions for i in copy.items)
    assert copy.starts_at == published.starts_at + timedelta(days=7)
    assert copy.ends_at - copy.starts_at == published.ends_at - published.starts_at
    assert copy.copied_from_id == published.id
    assert all(p.checked_in_at is None for p in copy.participants)
    assert audit_actions()[-1] == "meeting.copy"


def test_copy_refused_to_a_member(published, cabinet):
    with pytest.raises(MeetingError, match="Only the secretariat"):
        service.copy_meeting(actor(cabinet["member"]), published)
