"""Publishing: a numbered, frozen agenda version; participants are notified; members see what changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ecabinet.meetings import service
from ecabinet.meetings.models import MeetingStatus
from ecabinet.meetings.service import ItemData, MeetingData, MeetingError
from ecabinet.notifications import service as notifications
from tests.meetings.conftest import actor, audit_actions


def test_publish_freezes_version_one_and_notifies_every_participant(draft, cabinet):
    version = service.publish(actor(cabinet["secretary"]), draft)
    assert draft.status is MeetingStatus.PUBLISHED and version.number == 1 and draft.agenda_version == 1
    assert [i["title"] for i in json.loads(version.snapshot)] == ["Decision A", "Decision B", "Report C"]
    for who in ("member", "member2", "chair", "secretary"):
        assert notifications.unread_count(cabinet[who]) == 1
    assert notifications.unread_count(cabinet["admin"]) == 0
    assert audit_actions()[-1] == "meeting.publish"


def test_publish_refuses_an_empty_agenda(cabinet):
    start = datetime.now(UTC) + timedelta(days=1)
    meeting = service.create_meeting(actor(cabinet["secretary"]), MeetingData(
        title="Empty", starts_at=start, ends_at=start + timedelta(hours=1)))
    with pytest.raises(MeetingError, match="empty agenda"):
        service.publish(actor(cabinet["secretary"]), meeting)
    assert meeting.status is MeetingStatus.DRAFT and meeting.agenda_version == 0


def test_publish_again_without_a_change_is_refused(published, cabinet):
    with pytest.raises(MeetingError, match="Nothing has changed"):
        service.publish(actor(cabinet["secretary"]), published)
    assert published.agenda_version == 1


def test_change_after_publication_makes_a_new_version(published, cabinet):
    sec = actor(cabinet["secretary"])
    service.add_item(sec, published, ItemData(title="Added later"))
    assert published.agenda_changed
    version = service.publish(sec, published)
    assert version.number == 2 and not published.agenda_changed
    assert notifications.unread_count(cabinet["member"]) == 2


def test_members_see_what_changed_since_the_version_they_last_looked_at(published, cabinet):
    sec, member = actor(cabinet["secretary"]), cabinet["member"]
    service.mark_version_seen(actor(member), published)
    service.add_item(sec, published, ItemData(title="Added later"))
    service.update_item(sec, published.items[1], ItemData(title="Decision B (revised)", duration_minutes=30))
    service.delete_item(sec, published.items[2])
    service.publish(sec, published)
    diff = service.diff_versions(published, since=1)
    assert [i["title"] for i in diff.added] == ["Added later"]
    assert [i["title"] for i in diff.removed] == ["Report C"]
    assert [c["title"] for c in diff.changed] == ["Decision B (revised)"]
    service.mark_version_seen(actor(member), published)
    assert service.participant_of(published, member).last_seen_version == 2


def test_publish_refused_after_the_start(published, cabinet):
    service.add_item(actor(cabinet["secretary"]), published, ItemData(title="Late"))
    service.start_meeting(actor(cabinet["chair"]), published)
    with pytest.raises(MeetingError, match="has started"):
        service.publish(actor(cabinet["secretary"]), published)


def test_publish_new_version_refused_to_a_member(published, cabinet):
    service.add_item(actor(cabinet["secretary"]), published, ItemData(title="X"))
    with pytest.raises(MeetingError, match="Only the secretariat"):
        service.publish(actor(cabinet["member"]), published)
