"""Demo: the chair has published the past meeting's conclusions, so the open data page has something."""

from __future__ import annotations

from sqlalchemy import select

from ecabinet.accounts import service as accounts
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting
from ecabinet.publication import queries, service


def load_publication_demo() -> list[str]:
    from ecabinet.accounts.demo import CHAIR, email_of
    from ecabinet.minutes.demo import PAST_TITLE

    meeting = db.session.scalar(select(Meeting).where(Meeting.title == PAST_TITLE))
    chair = accounts.find_user_by_email(email_of(CHAIR[0]))
    if meeting is None or chair is None:
        return ["No past meeting to publish from."]
    if queries.active_conclusion(meeting.id) is not None:
        return ["Demo publication already loaded."]
    try:
        service.publish_conclusion(Actor(chair), meeting)
    except service.PublicationError as exc:
        return [f"The past meeting's conclusions were not published: {exc}"]
    return ["The past meeting's conclusions are published on the open data page (/open/)."]
