"""Domain events: what a service changed in a meeting, published on the unit of work.

A service that changes something the meeting room shows publishes a :class:`MeetingChange` (type,
item, details). Nothing happens until the unit of work commits: then the subscribers get the
transaction's changes, inside the commit, before it is sent. The live domain numbers them and
broadcasts them after the commit; the audit log checkpoints its chain when a meeting is adjourned. A
rollback forgets them.

This module sits in ``core`` so that every domain can publish without importing the live domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ecabinet.core import uow
from ecabinet.extensions import db

_KEY = "meeting_changes"


@dataclass(frozen=True)
class MeetingChange:
    """One change of a meeting, as the room learns of it.

    ``type`` is the event type tablets receive (``meeting.start``, ``agenda.current_item``,
    ``ballot.open`` ...). ``item_id`` scopes the event to an agenda item: readers kept from that item get
    a redacted event. ``details`` carry what the payload builder needs (ids, not whole objects); the
    payload itself is built at commit time, from the final state.
    """

    meeting_id: int
    type: str
    item_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


def publish(meeting_id: int, type: str, item_id: int | None = None, **details: Any) -> None:  # noqa: A002
    """Publish a change of this meeting on the current unit of work."""
    uow.pending(db.session(), _KEY).append(MeetingChange(meeting_id, type, item_id, details))


Subscriber = Callable[[Session, list[MeetingChange]], None]
_subscribers: list[Subscriber] = []


def subscribe(fn: Subscriber) -> Subscriber:
    """Register ``fn(session, changes)``, called inside the commit with the transaction's changes."""
    if fn not in _subscribers:
        _subscribers.append(fn)
    return fn


@uow.before_commit_hook
def _deliver(session: Session) -> None:
    changes = uow.take_pending(session, _KEY)
    if not changes:
        return
    for subscriber in _subscribers:
        subscriber(session, changes)
