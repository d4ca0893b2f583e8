"""What the meetings services share: their error, the limits on what they accept, and the rules they re-check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecabinet.accounts.models import User
from ecabinet.audit import service as audit
from ecabinet.core import domain_events
from ecabinet.core.actor import Actor
from ecabinet.core.errors import DomainError
from ecabinet.meetings import policy
from ecabinet.meetings.models import Meeting, MeetingParticipant, MeetingStatus
from ecabinet.meetings.queries import participant_of
from ecabinet.notifications.service import notify

TITLE_MAX = 200
ITEM_TITLE_MAX = 300
TEXT_MAX = 200
# "One short page": members drown in material.
SUMMARY_MAX = 2000
COMMENT_MAX = 500
REASON_MAX = 500
DURATION_MAX = 600
ADOPTED_BY_CONSENT = "adopted_by_consent"

EDITABLE = (MeetingStatus.DRAFT, MeetingStatus.PUBLISHED)


class MeetingError(DomainError):
    """A meeting request that cannot be carried out; the message says why."""


class NotInvited(MeetingError):
    """The actor is not a participant of the meeting (views answer 404: it may not know it exists)."""

    status = 404


def record_change(actor: Actor, action: str, meeting: Meeting, *, object_type: str, object_id: int | None,
                  item_id: int | None = None, details: dict[str, Any] | None = None, **event: Any) -> None:
    """Audit a change of the meeting and publish it to the room, in the same unit of work.

    ``action`` is both the audit action and the event type tablets receive; ``item_id`` scopes the event
    to an agenda item (readers kept from it get a redacted event); ``event`` carries the ids the room's
    payload needs.
    """
    audit.record(actor, action, object_type=object_type, object_id=object_id, meeting_id=meeting.id,
                 details=details)
    domain_events.publish(meeting.id, action, item_id=item_id, **event)


def require_secretary(actor: Actor) -> None:
    if not policy.secretariat_may_act(actor):
        raise MeetingError("Only the secretariat may do this.")


def require_chair(actor: Actor, meeting: Meeting) -> None:
    if actor.user is not None and meeting.chair_id != actor.user.id:
        raise MeetingError("Only the chair of this meeting may do this.")


def require_editable(meeting: Meeting) -> None:
    if meeting.status not in EDITABLE:
        raise MeetingError("The agenda can no longer be changed: the meeting has started.")


def require_participant(actor: Actor, meeting: Meeting) -> MeetingParticipant | None:
    """The actor's participant row; the system actor has none."""
    if actor.user is None:
        return None
    participant = participant_of(meeting, actor.user)
    if participant is None:
        raise NotInvited("You are not invited to this meeting.")
    return participant


def require_member(actor: Actor, meeting: Meeting) -> MeetingParticipant:
    participant = require_participant(actor, meeting)
    if participant is None or not participant.is_voting_member:
        raise MeetingError("Only members of the Government may do this.")
    return participant


def participant_user_ids(meeting: Meeting) -> list[int]:
    """Who hears of the meeting's news: its participants whose accounts are active."""
    return [p.user_id for p in meeting.participants if p.user.active]


def notify_participants(meeting: Meeting, key: str, *, only: Callable[[User], bool] | None = None,
                        **params: object) -> None:
    """Notify the participants of a meeting (in the caller's transaction); ``key`` is an English msgid.
    ``only``: the rule of who may open what the notification is about: nobody is told of what they
    cannot open."""
    users = [p.user for p in meeting.participants if p.user.active]
    notify([u.id for u in users if only is None or only(u)], key, params, meeting_id=meeting.id)
