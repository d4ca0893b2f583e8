"""The floor and the speaker queue: who asked to speak on an item, in which order, and who has the floor.

The chair grants, ends and reorders; a member asks for the floor and withdraws. Every change is
scoped to its item, so readers kept from the item learn nothing of its queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ecabinet.accounts.models import User
from ecabinet.audit import service as audit
from ecabinet.core import domain_events
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.live.models import LiveState, SpeakerRequest, SpeakerStatus
from ecabinet.live.service.shared import LiveError, iso, locked_state, require_in_session
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import Meeting, MeetingItem


def queue_state(meeting_id: int, item_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(SpeakerRequest).where(
        SpeakerRequest.meeting_id == meeting_id, SpeakerRequest.item_id == item_id,
        SpeakerRequest.status.in_([SpeakerStatus.WAITING, SpeakerStatus.SPEAKING]))
        .order_by(SpeakerRequest.rank, SpeakerRequest.id))
    return [{"request_id": r.id, "user_id": r.user_id, "name": r.user.name, "status": r.status.value,
             "from_position": r.from_position} for r in rows]


def floor_state(state: LiveState) -> dict[str, Any] | None:
    """Who has the floor, since when (``None`` when nobody has)."""
    if state.floor_request_id is None:
        return None
    request = db.session.get(SpeakerRequest, state.floor_request_id)
    if request is None:
        return None
    return {"request_id": request.id, "item_id": request.item_id, "user_id": request.user_id,
            "name": request.user.name, "started_at": iso(state.floor_started_at)}


def prefill_queue(actor: Actor, meeting: Meeting, item: MeetingItem) -> None:
    """Members who marked "want to speak" before the meeting are already in the queue (once).

    Recorded as its own event, scoped to the item, so every tablet that may see the item shows the queue
    (and readers kept from the item learn nothing of it)."""
    existing = set(db.session.scalars(select(SpeakerRequest.user_id).where(SpeakerRequest.item_id == item.id)))
    rank = _next_rank(item.id)
    added = []
    for user in meetings.speaker_requests(meeting, item):
        if user.id not in existing:
            db.session.add(SpeakerRequest(meeting_id=meeting.id, item_id=item.id, user_id=user.id, rank=rank,
                                          from_position=True))
            added.append(user.id)
            rank += 1
    if added:
        db.session.flush()
        audit.record(actor, "floor.prefill", object_type="speaker_request", meeting_id=meeting.id,
                     details={"item": item.id, "users": added})
        domain_events.publish(meeting.id, "floor.prefill", item_id=item.id, item=item.id, users=added)


def close_floor(state: LiveState) -> SpeakerRequest | None:
    """Whoever has the floor is done (the meeting moves on, or the chair ends or grants the floor)."""
    if state.floor_request_id is None:
        return None
    request = db.session.get(SpeakerRequest, state.floor_request_id)
    if request is not None and request.status is SpeakerStatus.SPEAKING:
        request.status = SpeakerStatus.DONE
        request.ended_at = utcnow()
    state.floor_request_id = None
    state.floor_started_at = None
    return request


def _publish_floor(kind: str, request: SpeakerRequest) -> None:
    domain_events.publish(request.meeting_id, kind, item_id=request.item_id, item=request.item_id,
                          request_id=request.id, user=request.user_id)


def _next_rank(item_id: int) -> int:
    return (db.session.scalar(select(func.max(SpeakerRequest.rank)).where(SpeakerRequest.item_id == item_id))
            or 0) + 1


def _request(meeting: Meeting, request_id: Any) -> SpeakerRequest:
    request = db.session.get(SpeakerRequest, request_id) if isinstance(request_id, int) else None
    if request is None or request.meeting_id != meeting.id:
        raise LiveError("Unknown request for the floor.")
    return request


# --- the chair's -----------------------------------------------------------------------------------

def grant_floor(actor: Actor, meeting: Meeting, request_id: Any) -> None:
    require_in_session(meeting)
    request = _request(meeting, request_id)
    if request.status is not SpeakerStatus.WAITING:
        raise LiveError("This request is no longer waiting.")
    state = locked_state(meeting.id)
    close_floor(state)
    request.status = SpeakerStatus.SPEAKING
    request.granted_at = utcnow()
    state.floor_request_id = request.id
    state.floor_started_at = request.granted_at
    audit.record(actor, "floor.grant", object_type="speaker_request", object_id=request.id, meeting_id=meeting.id,
                 details={"item": request.item_id, "user": request.user_id})
    _publish_floor("floor.grant", request)


def end_floor(actor: Actor, meeting: Meeting) -> None:
    state = locked_state(meeting.id)
    request = close_floor(state)
    if request is None:
        raise LiveError("Nobody has the floor.")
    audit.record(actor, "floor.end", object_type="speaker_request", object_id=request.id, meeting_id=meeting.id,
                 details={"item": request.item_id, "user": request.user_id})
    _publish_floor("floor.end", request)


def reorder_queue(actor: Actor, meeting: Meeting, item_id: Any, request_ids: Any) -> None:
    item = meetings.get_item(meeting, item_id if isinstance(item_id, int) else None)
    if item is None:
        raise LiveError("Unknown agenda item.")
    waiting = {r["request_id"] for r in queue_state(meeting.id, item.id) if r["status"] == "waiting"}
    if not isinstance(request_ids, list) or len(request_ids) != len(set(map(str, request_ids))) \
            or set(request_ids) != waiting:
        raise LiveError("The new order must list every waiting request exactly once.")
    for rank, request_id in enumerate(request_ids, start=1):
        db.session.get(SpeakerRequest, request_id).rank = rank
    audit.record(actor, "floor.reorder", object_type="speaker_request", object_id=None, meeting_id=meeting.id,
                 details={"item": item.id, "order": request_ids})
    domain_events.publish(meeting.id, "floor.reorder", item_id=item.id, item=item.id, order=request_ids)


# --- the members' ----------------------------------------------------------------------------------

def request_floor(actor: Actor, meeting: Meeting, item_id: int) -> SpeakerRequest:
    require_in_session(meeting)
    item = meetings.get_item(meeting, item_id)
    if item is None:
        raise LiveError("Unknown agenda item.")
    open_request = db.session.scalar(select(SpeakerRequest).where(
        SpeakerRequest.item_id == item.id, SpeakerRequest.user_id == actor.user_id,
        SpeakerRequest.status.in_([SpeakerStatus.WAITING, SpeakerStatus.SPEAKING])))
    if open_request is not None:
        return open_request  # asking twice is one request
    request = SpeakerRequest(meeting_id=meeting.id, item_id=item.id, user_id=actor.user_id,
                             rank=_next_rank(item.id))
    db.session.add(request)
    db.session.flush()
    audit.record(actor, "floor.request", object_type="speaker_request", object_id=request.id,
                 meeting_id=meeting.id, details={"item": item.id})
    _publish_floor("floor.request", request)
    return request


def withdraw_request(actor: Actor, meeting: Meeting, request_id: Any) -> None:
    request = _request(meeting, request_id)
    if request.user_id != actor.user_id:
        raise LiveError("You can only withdraw your own request.")
    if request.status is not SpeakerStatus.WAITING:
        raise LiveError("This request is no longer waiting.")
    request.status = SpeakerStatus.WITHDRAWN
    request.ended_at = utcnow()
    audit.record(actor, "floor.withdraw", object_type="speaker_request", object_id=request.id,
                 meeting_id=meeting.id, details={"item": request.item_id})
    _publish_floor("floor.withdraw", request)


def speakers_in_order(meeting_id: int, item_id: int) -> list[tuple[User, Any]]:
    """Who spoke on an item, in the order they were given the floor (for the minutes)."""
    rows = db.session.scalars(select(SpeakerRequest).where(
        SpeakerRequest.meeting_id == meeting_id, SpeakerRequest.item_id == item_id,
        SpeakerRequest.granted_at.is_not(None)).order_by(SpeakerRequest.granted_at, SpeakerRequest.id))
    return [(r.user, r.granted_at) for r in rows]
