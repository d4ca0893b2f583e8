"""Two services of different domains compose into one unit of work: when the second (the live room)
refuses, the first (the meeting's start) rolls back with it, and nothing that follows a commit happens:
no room broadcast, no stored notification, no email."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ecabinet.core import uow
from ecabinet.extensions import db
from ecabinet.live import service as live
from ecabinet.live.models import MeetingEvent
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import MeetingStatus
from ecabinet.notifications.models import Notification
from tests.helpers import in_own_app_context, joined_member_socket
from tests.meetings.conftest import actor, cabinet, draft, published  # noqa: F401 - fixtures reused here


@pytest.fixture
def member_socket(app, client, published):  # noqa: F811 - pytest fixtures, imported above
    """A member's tablet in the published meeting's room, through the app's real Socket.IO server."""
    sio = joined_member_socket(app, client, published.id)
    yield sio
    if sio.is_connected():
        sio.disconnect()


@pytest.fixture
def emails(app, monkeypatch) -> list[tuple[list[str], str]]:
    """Every notification email queued (SMTP configured, so that starting a meeting would send some)."""
    from ecabinet.notifications import tasks

    sent: list[tuple[list[str], str]] = []
    app.config["SMTP_URL"] = "smtp://mail.invalid:25"
    monkeypatch.setattr(tasks, "send_notification_email", lambda recipients, text: sent.append((recipients, text)))
    return sent


def _room_events(sio) -> list[dict]:
    return [p["args"][0] for p in sio.get_received() if p["name"] == "event"]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_refused_second_service_rolls_back_the_first(published, cabinet, member_socket, emails):  # noqa: F811
    events_before, notes_before = _count(MeetingEvent), _count(Notification)
    chair = actor(cabinet["chair"])

    meetings.start_meeting(chair, published)  # stages the start, publishes meeting.start, notifies
    assert published.status is MeetingStatus.IN_SESSION
    with pytest.raises(live.LiveError):
        live.grant_floor(chair, published, 999_999)  # no such request for the floor
    assert uow.doomed()
    assert uow.commit() is False  # the boundary rolls back instead of committing

    db.session.expire_all()
    assert db.session.get(type(published), published.id).status is MeetingStatus.PUBLISHED
    assert _count(MeetingEvent) == events_before
    assert _count(Notification) == notes_before
    assert emails == []
    assert in_own_app_context(lambda: _room_events(member_socket)) == []


def test_the_same_two_services_commit_together(published, cabinet, member_socket, emails):  # noqa: F811
    """The control: when neither refuses, the one commit numbers and broadcasts the start and sends the
    notifications, so the assertions above are not empty for another reason."""
    notes_before = _count(Notification)
    chair = actor(cabinet["chair"])

    meetings.start_meeting(chair, published)
    live.set_paused(chair, published, True)
    assert uow.commit() is True

    events = in_own_app_context(lambda: _room_events(member_socket))
    assert [e["type"] for e in events] == ["meeting.start", "live.pause"]
    assert events[1]["seq"] == events[0]["seq"] + 1  # numbered in the order they were staged
    assert _count(Notification) > notes_before
    assert emails
