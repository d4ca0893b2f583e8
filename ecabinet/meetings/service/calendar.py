"""A person's calendar subscription: a private .ics address of their meetings, which a phone's or a mail
program's calendar reads again by itself, so agenda changes reach it without anyone sending a file.

The address carries a random token (only its SHA-256 is kept), shown to its owner once; making a new
one revokes the old, and it can be revoked at any time. Like the .ics of one meeting, the feed leaves
the system, so each entry carries only title, time, place and link: never the agenda.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.audit import service as audit
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings.calendar_models import CalendarFeed
from ecabinet.meetings.models import Meeting
from ecabinet.meetings.queries import list_meetings_for

# How far back the feed reaches: a calendar keeps what it has seen, and a long past only makes it heavy.
FEED_PAST_DAYS = 92
FEED_MAX_MEETINGS = 300
TOUCH_EVERY = timedelta(minutes=10)  # a calendar asks every hour or more often: one write per few asks


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def calendar_feed_of(user: User) -> CalendarFeed | None:
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                                        CalendarFeed.revoked_at.is_(None)))


def make_calendar_feed(actor: Actor) -> str:
    """A new address for the actor's calendar; the previous one stops working. Returns the token."""
    user = actor.user
    assert user is not None
    revoke_calendar_feed(actor, audited=False)
    token = secrets.token_urlsafe(32)
    db.session.add(CalendarFeed(user_id=user.id, token_hash=_hash(token)))
    db.session.flush()
    audit.record(actor, "calendar.feed_made", object_type="user", object_id=user.id)
    return token


def revoke_calendar_feed(actor: Actor, *, audited: bool = True) -> bool:
    user = actor.user
    feed = calendar_feed_of(user) if user is not None else None
    if feed is None:
        return False
    feed.revoked_at = utcnow()
    if audited:
        audit.record(actor, "calendar.feed_revoked", object_type="user", object_id=user.id)
    return True


def feed_owner(token: str | None) -> User | None:
    """Whose calendar a token opens: an unrevoked address of an active account, or nobody."""
    if not token or len(token) > 100:
        return None
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token),
                                                        CalendarFeed.revoked_at.is_(None)))
    if feed is None:
        return None
    user = db.session.get(User, feed.user_id)
    if user is None or not user.active:
        return None
    now = utcnow()
    if feed.last_used_at is None or now - feed.last_used_at > TOUCH_EVERY:
        feed.last_used_at = now
    return user


def feed_meetings(user: User) -> list[Meeting]:
    """The meetings of the person's calendar: those they may see, from three months back."""
    since = utcnow() - timedelta(days=FEED_PAST_DAYS)
    return [m for m in list_meetings_for(user) if m.ends_at >= since][:FEED_MAX_MEETINGS]
