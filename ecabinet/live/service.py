"""The live meeting room: numbered events, snapshots, the chair's actions, the speaker queue, comments,
presence, and the sockets of sign-in sessions.

Every change a domain publishes for a meeting (``ecabinet.core.domain_events``) becomes one numbered
``MeetingEvent`` inside the commit of its transaction (see ``_number``), and is broadcast only after
that transaction commits.
A client that missed events asks for them by number; if it missed too many it gets a snapshot.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ecabinet.accounts.models import Role, User
from ecabinet.accounts.service import session_revoked
from ecabinet.audit import service as audit
from ecabinet.audit.models import AuditEntry
from ecabinet.core import domain_events, uow
from ecabinet.core.actor import Actor
from ecabinet.core.domain_events import MeetingChange
from ecabinet.core.errors import DomainError
from ecabinet.core.types import utcnow
from ecabinet.extensions import db, socketio
from ecabinet.live import hooks, policy
from ecabinet.live.models import Comment, LiveConnection, LiveState, MeetingEvent, SpeakerRequest, SpeakerStatus
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import CheckInMode, Meeting, MeetingItem, MeetingParticipant, MeetingStatus

# One id per process: rows left by a crashed instance can be told apart.
INSTANCE_ID = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"

# A client further behind than this gets a snapshot instead of a replay.
MAX_REPLAY = 200
MAX_COMMENT_LENGTH = 2000


class LiveError(DomainError):
    """A live-room request that breaks a rule."""


def room(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


# --- connections and presence --------------------------------------------------------------------

def register_connection(sid: str, user_id: int, session_id: int) -> None:
    db.session.add(LiveConnection(sid=sid, user_id=user_id, session_id=session_id, instance=INSTANCE_ID))
    db.session.flush()


def unregister_connection(sid: str) -> int | None:
    """Forget a socket; returns the meeting it was in, whose presence changed."""
    meeting_id = db.session.scalar(select(LiveConnection.meeting_id).where(LiveConnection.sid == sid))
    db.session.execute(delete(LiveConnection).where(LiveConnection.sid == sid))
    return meeting_id


def enter_meeting(sid: str, meeting_id: int) -> None:
    connection = db.session.get(LiveConnection, sid)
    if connection is not None and connection.meeting_id != meeting_id:
        connection.meeting_id = meeting_id


def online_user_ids(meeting_id: int) -> list[int]:
    return sorted(db.session.scalars(
        select(LiveConnection.user_id).where(LiveConnection.meeting_id == meeting_id).distinct()))


def _ended_instance(instance: str) -> bool:
    """Whether the process named by a ``live_connection.instance`` on this host is gone: its pid has ended,
    or is ours under another id (a restarted container reuses pid 1). Other hosts' rows are theirs to judge."""
    host, _, rest = instance.rpartition("-")[0].rpartition("-")
    pid = int(rest) if rest.isdigit() else None
    if host != socket.gethostname() or pid is None or instance == INSTANCE_ID:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def sweep_connections(local_sids: Callable[[], set[str]]) -> set[int]:
    """Forget sockets that no process holds any more: those of an ended process on this host (killed
    before its disconnect handlers ran), and this process's own sockets that ``local_sids()`` no longer
    knows (a disconnect that could not reach the database). Returns the meetings whose presence changed."""
    rows = db.session.execute(select(LiveConnection.sid, LiveConnection.instance, LiveConnection.meeting_id)
                              .where(LiveConnection.instance.startswith(socket.gethostname() + "-"))).all()
    known_sids = local_sids()  # read after the rows: a socket registered meanwhile is known by now
    # Workers forked after import (gunicorn --preload) would share one id: then none judges the id's rows.
    mine = f"-{os.getpid()}-" in INSTANCE_ID
    stale = [(sid, meeting_id) for sid, instance, meeting_id in rows
             if (mine and instance == INSTANCE_ID and sid not in known_sids) or _ended_instance(instance)]
    if stale:
        db.session.execute(delete(LiveConnection).where(LiveConnection.sid.in_([sid for sid, _ in stale])))
    return {meeting_id for _, meeting_id in stale if meeting_id is not None}


def sids_for_sessions(session_ids: list[int]) -> list[str]:
    return list(db.session.scalars(select(LiveConnection.sid).where(LiveConnection.session_id.in_(session_ids))))


def disconnect_sessions(session_ids: list[int]) -> int:
    """Close the sockets of these sessions on every instance (through the message queue when there is one)."""
    sids = sids_for_sessions(session_ids)
    for sid in sids:
        socketio.server.disconnect(sid, namespace="/")
    return len(sids)


@session_revoked.connect
def _on_session_revoked(_sender: object, session_ids: list[int]) -> None:
    disconnect_sessions(session_ids)


# --- numbering and broadcasting ------------------------------------------------------------------

# Audited, but not room events: the coalesced ``ballot.tally`` carries them (ecabinet/voting/tally.py).
NOT_NUMBERED = frozenset({"vote.cast", "vote.change"})


@dataclass
class Broadcast:
    meeting_id: int
    event: dict[str, Any]
    blocked_sids: list[str] = field(default_factory=list)


@domain_events.subscribe
def _number_changes(session: Session, changes: list[MeetingChange]) -> None:
    """Number this transaction's meeting changes, inside its commit; broadcast them after it."""
    _number(session, _with_audited_changes(session, changes))


def _number(session: Session, changes: list[MeetingChange]) -> None:
    """One ``MeetingEvent`` per change, numbered per meeting; the payload is built from the final state."""
    outbox: list[Broadcast] = []
    for change in changes:
        if change.type in NOT_NUMBERED:
            continue
        meeting = session.get(Meeting, change.meeting_id)
        if meeting is None:
            continue
        state = _locked_state(meeting.id)
        state.last_seq += 1
        item_id = _item_of(change)
        payload = _payload(change, meeting, state)
        row = MeetingEvent(meeting_id=meeting.id, seq=state.last_seq, type=change.type, item_id=item_id,
                           payload=json.dumps(payload, ensure_ascii=False, default=str))
        session.add(row)
        outbox.append(Broadcast(meeting.id, _event_dict(row, payload), blocked_sids(meeting, item_id)))
    if not outbox:
        return
    session.flush()
    uow.after_commit(_broadcast, outbox)


def _broadcast(outbox: list[Broadcast]) -> None:
    # Runs after the commit, in an app context of its own: sending to a socket whose client stopped
    # answering pings closes it, and engine.io runs the disconnect handler right here, which needs a
    # session that is not inside its commit.
    for item in outbox:
        socketio.emit("event", item.event, to=room(item.meeting_id), skip_sid=item.blocked_sids or None)
        redacted = redact(item.event)
        for sid in item.blocked_sids:
            socketio.emit("event", redacted, to=sid)


# transitional: audit entries that name a meeting still become room events for the domains that do not
# publish their changes yet. An entry whose (meeting, action) was published in the same transaction is
# skipped, so nothing is numbered twice. To be removed once every domain publishes.
_AUDITED = "live_audited_entries"


@audit.audit_recorded.connect
def _note_entry(entry: AuditEntry) -> None:  # transitional
    if entry.meeting_id is not None and entry.action not in NOT_NUMBERED:
        uow.pending(db.session(), _AUDITED).append(entry)


def _with_audited_changes(session: Session, changes: list[MeetingChange]) -> list[MeetingChange]:
    """transitional: the published changes, with the audit entries nobody published merged in, in the
    order they were recorded (a change is published next to its audit record)."""
    entries = uow.take_pending(session, _AUDITED)
    if not entries:
        return changes
    published = {(c.meeting_id, c.type) for c in changes}
    queue = list(changes)
    merged: list[MeetingChange] = []
    for entry in entries:
        key = (entry.meeting_id, entry.action)
        if key not in published:
            merged.append(_change_of_entry(entry))
            continue
        # The changes published up to this entry's own come before the audit entries after it.
        while queue:
            change = queue.pop(0)
            merged.append(change)
            if (change.meeting_id, change.type) == key:
                break
    return merged + queue


@uow.before_commit_hook
def _number_audited_only(session: Session) -> None:
    """transitional: a transaction that audited meeting changes but published none."""
    entries = uow.take_pending(session, _AUDITED)
    if entries:
        _number(session, [_change_of_entry(e) for e in entries])


def _change_of_entry(entry: AuditEntry) -> MeetingChange:  # transitional
    details = json.loads(entry.details)
    item_id = None
    if entry.object_type in {"meeting_item", "speaker_request", "live_comment"}:
        if "item" in details:
            item_id = int(details["item"])
        elif entry.object_type == "meeting_item" and entry.object_id:
            item_id = int(entry.object_id)
    details.update(object_id=entry.object_id, object_type=entry.object_type)
    return MeetingChange(entry.meeting_id, entry.action, item_id, details)


def _locked_state(meeting_id: int) -> LiveState:
    state = db.session.scalar(select(LiveState).where(LiveState.meeting_id == meeting_id).with_for_update())
    if state is None:
        state = LiveState(meeting_id=meeting_id, last_seq=0, paused=False)
        db.session.add(state)
        db.session.flush()
    return state


def state_of(meeting_id: int) -> LiveState:
    return db.session.get(LiveState, meeting_id) or LiveState(meeting_id=meeting_id, last_seq=0, paused=False)


def _item_of(change: MeetingChange) -> int | None:
    """The agenda item an event is scoped to: readers kept from it get the event redacted."""
    return change.item_id


def _event_dict(row: MeetingEvent, payload: dict[str, Any]) -> dict[str, Any]:
    return {"meeting_id": row.meeting_id, "seq": row.seq, "type": row.type, "item_id": row.item_id,
            "payload": payload}


def redact(event_dict: dict[str, Any]) -> dict[str, Any]:
    """What a reader who may not see the item gets: the number only, so their sequence stays whole."""
    return {"meeting_id": event_dict["meeting_id"], "seq": event_dict["seq"], "type": "redacted",
            "item_id": None, "payload": {}}


def _blocked_users(meeting: Meeting, item_id: int | None) -> set[int]:
    if item_id is None:
        return set()
    from ecabinet.meetings.policy import users_kept_from_item

    return users_kept_from_item(meeting, item_id)


def blocked_sids(meeting: Meeting, item_id: int | None) -> list[str]:
    """The sockets in this meeting's room of readers who may not see ``item_id`` (a guest not invited to
    it, a member it is hidden from): they get a redacted event, or no tally."""
    users = _blocked_users(meeting, item_id)
    if not users:
        return []
    return list(db.session.scalars(select(LiveConnection.sid).where(
        LiveConnection.meeting_id == meeting.id, LiveConnection.user_id.in_(users))))


# --- payloads and snapshots ----------------------------------------------------------------------

def _iso(value) -> str | None:  # noqa: ANN001
    return value.isoformat() if value is not None else None


def meeting_state(meeting: Meeting, state: LiveState) -> dict[str, Any]:
    return {
        "status": meeting.status.value,
        "paused": bool(state.paused),
        "current_item_id": meeting.current_item_id,
        "item_started_at": _iso(state.item_started_at),
        "consent_adopted": meeting.consent_adopted_at is not None,
        "floor": _floor(state),
    }


def _floor(state: LiveState) -> dict[str, Any] | None:
    if state.floor_request_id is None:
        return None
    request = db.session.get(SpeakerRequest, state.floor_request_id)
    if request is None:
        return None
    return {"request_id": request.id, "item_id": request.item_id, "user_id": request.user_id,
            "name": request.user.name, "started_at": _iso(state.floor_started_at)}


def attendance_state(meeting: Meeting) -> dict[str, Any]:
    q = meetings.quorum(meeting)
    # The names in one query, not one lazy load per member present.
    names = dict(db.session.execute(select(User.id, User.name).join(
        MeetingParticipant, MeetingParticipant.user_id == User.id).where(
        MeetingParticipant.meeting_id == meeting.id, MeetingParticipant.checked_in_at.is_not(None))).all())
    present = [{"user_id": p.user_id, "name": names.get(p.user_id, ""), "mode": p.checked_in_mode.value
                if p.checked_in_mode else None} for p in meeting.participants if p.checked_in_at is not None]
    return {"quorum": {"present": q.present, "eligible": q.eligible, "required": q.required,
                       "reached": q.reached}, "present": present}


def _shared_parts(meeting: Meeting, seq: int) -> dict[str, Any]:
    """The parts of a snapshot that are the same for every reader, computed once per meeting and event
    number instead of on every join: attendance, every item's speaker queue, the consent block.

    They change only with a numbered event (check-ins, participant changes, requests for the floor and
    positions are all audited with the meeting). Attendance alone loads every participant: at 2,000
    participants that was 55 % of the worker's time during the joins (profiled), and on PostgreSQL each
    of the queries is a round trip. Kept per app, so that two apps in one process (tests) never share it.
    Each reader still gets only the items they may see.
    """
    seen = current_app.extensions.setdefault("live_shared_parts", {})
    cached = seen.get(meeting.id)
    if cached is not None and cached[0] == seq:
        return cached[1]
    if len(seen) > 256:
        seen.clear()
    parts = {"attendance": attendance_state(meeting),
             "queues": {i.id: queue_state(meeting.id, i.id) for i in meeting.items},
             "consent_block": [i.id for i in meetings.consent_block(meeting)]
             if meeting.consent_adopted_at is None else []}
    seen[meeting.id] = (seq, parts)
    return parts


def queue_state(meeting_id: int, item_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(SpeakerRequest).where(
        SpeakerRequest.meeting_id == meeting_id, SpeakerRequest.item_id == item_id,
        SpeakerRequest.status.in_([SpeakerStatus.WAITING, SpeakerStatus.SPEAKING]))
        .order_by(SpeakerRequest.rank, SpeakerRequest.id))
    return [{"request_id": r.id, "user_id": r.user_id, "name": r.user.name, "status": r.status.value,
             "from_position": r.from_position} for r in rows]


def comment_dict(comment: Comment, for_chair: bool = False) -> dict[str, Any]:
    hidden = comment.hidden_at is not None
    return {"comment_id": comment.id, "item_id": comment.item_id, "author": comment.author.name,
            "author_id": comment.author_id, "at": _iso(comment.created_at), "hidden": hidden,
            "body": comment.body if (not hidden or for_chair) else None}


def _payload(change: MeetingChange, meeting: Meeting, state: LiveState) -> dict[str, Any]:
    kind = change.type
    details = change.details
    if kind.startswith(("meeting.", "live.", "agenda.current_item")):
        return {"meeting": meeting_state(meeting, state)}
    if kind.startswith(("attendance.", "participant.")):
        return {"attendance": attendance_state(meeting)}
    if kind.startswith("floor."):
        item_id = int(details.get("item", change.item_id))
        return {"queue": {"item_id": item_id, "requests": queue_state(meeting.id, item_id)},
                "meeting": meeting_state(meeting, state)}
    if kind.startswith("comment."):
        comment_id = details.get("comment_id", details.get("object_id"))
        comment = db.session.get(Comment, int(comment_id)) if comment_id is not None else None
        return {"comment": comment_dict(comment)} if comment else {}
    if kind == "consent.adopt":
        return {"meeting": meeting_state(meeting, state),
                "outcomes": {str(i.id): i.outcome for i in meeting.items if i.outcome}}
    # Sections owned by the domains above the room (ballots: ecabinet/voting) come through a hook.
    for prefix, build in hooks.event_payloads.items():
        if kind.startswith(prefix):
            return build(change, meeting)
    # Agenda edits and anything else: the client fetches a fresh snapshot.
    return {"resync": True}


def snapshot(user: User, meeting: Meeting) -> dict[str, Any]:
    """Everything the room shows, as this user may see it."""
    from ecabinet.meetings.policy import is_chair_of, visible_items

    state = state_of(meeting.id)
    items = visible_items(user, meeting)
    visible_ids = {i.id for i in items}
    for_chair = is_chair_of(user, meeting) or user.role is Role.SECRETARY
    comments = db.session.scalars(select(Comment).where(Comment.meeting_id == meeting.id,
                                                        Comment.item_id.in_(visible_ids))
                                  .order_by(Comment.id)) if visible_ids else []
    shared = _shared_parts(meeting, state.last_seq)
    return {
        "meeting_id": meeting.id,
        "seq": state.last_seq,
        "server_now": utcnow().isoformat(),
        "title": meeting.title,
        "meeting": meeting_state(meeting, state),
        "items": [{"item_id": i.id, "position": i.position, "title": i.title, "kind": i.kind.value,
                   "presenter": i.presenter, "ministry": i.ministry, "duration_minutes": i.duration_minutes,
                   "outcome": i.outcome} for i in items],
        "attendance": shared["attendance"],
        "queues": {str(i.id): shared["queues"].get(i.id, []) for i in items},
        "comments": [comment_dict(c, for_chair) for c in comments],
        "consent_block": [i for i in shared["consent_block"] if i in visible_ids],
        "online": online_user_ids(meeting.id),
    }


def catch_up(user: User, meeting: Meeting, last_seq: int | None) -> dict[str, Any]:
    """What a (re)connecting client needs: the events after ``last_seq``, or a snapshot."""
    state = state_of(meeting.id)
    limit = current_app.config.get("LIVE_MAX_REPLAY", MAX_REPLAY)
    if last_seq is None or last_seq > state.last_seq or state.last_seq - last_seq > limit:
        return {"snapshot": snapshot(user, meeting), **_sections(user, meeting)}
    rows = db.session.scalars(select(MeetingEvent).where(MeetingEvent.meeting_id == meeting.id,
                                                         MeetingEvent.seq > last_seq)
                              .order_by(MeetingEvent.seq)).all()
    events = []
    for row in rows:
        full = _event_dict(row, json.loads(row.payload))
        events.append(full if policy.can_see_item(user, meeting, row.item_id) else redact(full))
    return {"events": events, **_sections(user, meeting)}


def _sections(user: User, meeting: Meeting) -> dict[str, Any]:
    """What the domains above the room add to a catch-up (the open ballots' tallies: not numbered
    events, so a replay would not bring them)."""
    return {name: build(user, meeting) for name, build in hooks.catch_up_sections.items()}


# --- the chair's actions -------------------------------------------------------------------------

def _meeting(meeting_id: int) -> Meeting:
    meeting = meetings.get_meeting(meeting_id)
    if meeting is None:
        raise LiveError("Unknown meeting.")
    return meeting


def _require_in_session(meeting: Meeting) -> None:
    if meeting.status is not MeetingStatus.IN_SESSION:
        raise LiveError("The meeting is not in session.")


def start(actor: Actor, meeting: Meeting) -> None:
    meetings.start_meeting(actor, meeting)


def adjourn(actor: Actor, meeting: Meeting) -> None:
    audit.lock_chain()
    state = _locked_state(meeting.id)
    _end_floor(state)
    state.paused = False
    meetings.adjourn_meeting(actor, meeting)


def set_paused(actor: Actor, meeting: Meeting, paused: bool) -> None:
    _require_in_session(meeting)
    audit.lock_chain()
    state = _locked_state(meeting.id)
    if state.paused == paused:
        raise LiveError("The meeting is already paused." if paused else "The meeting is not paused.")
    state.paused = paused
    action = "live.pause" if paused else "live.resume"
    audit.record(actor, action, object_type="meeting", object_id=meeting.id, meeting_id=meeting.id)
    domain_events.publish(meeting.id, action)


def set_item(actor: Actor, meeting: Meeting, item_id: int | None) -> None:
    """Move the meeting to an item: every tablet that follows the chair moves with it."""
    item = meetings.get_item(meeting, item_id) if item_id is not None else None
    if item_id is not None and item is None:
        raise LiveError("Unknown agenda item.")
    audit.lock_chain()
    state = _locked_state(meeting.id)
    if item is not None:
        _prefill_queue(actor, meeting, item)
    _end_floor(state)
    state.item_started_at = utcnow() if item is not None else None
    meetings.set_current_item(actor, meeting, item)  # records and publishes, with the changes above


def adopt_consent_block(actor: Actor, meeting: Meeting) -> list[MeetingItem]:
    return meetings.adopt_consent_block(actor, meeting)


def _prefill_queue(actor: Actor, meeting: Meeting, item: MeetingItem) -> None:
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


def _publish_floor(kind: str, request: SpeakerRequest) -> None:
    domain_events.publish(request.meeting_id, kind, item_id=request.item_id, item=request.item_id,
                          request_id=request.id, user=request.user_id)


def _next_rank(item_id: int) -> int:
    return (db.session.scalar(select(func.max(SpeakerRequest.rank)).where(SpeakerRequest.item_id == item_id))
            or 0) + 1


def _end_floor(state: LiveState) -> SpeakerRequest | None:
    if state.floor_request_id is None:
        return None
    request = db.session.get(SpeakerRequest, state.floor_request_id)
    if request is not None and request.status is SpeakerStatus.SPEAKING:
        request.status = SpeakerStatus.DONE
        request.ended_at = utcnow()
    state.floor_request_id = None
    state.floor_started_at = None
    return request


def _request(meeting: Meeting, request_id: Any) -> SpeakerRequest:
    request = db.session.get(SpeakerRequest, request_id) if isinstance(request_id, int) else None
    if request is None or request.meeting_id != meeting.id:
        raise LiveError("Unknown request for the floor.")
    return request


def grant_floor(actor: Actor, meeting: Meeting, request_id: Any) -> None:
    _require_in_session(meeting)
    audit.lock_chain()
    request = _request(meeting, request_id)
    if request.status is not SpeakerStatus.WAITING:
        raise LiveError("This request is no longer waiting.")
    state = _locked_state(meeting.id)
    _end_floor(state)
    request.status = SpeakerStatus.SPEAKING
    request.granted_at = utcnow()
    state.floor_request_id = request.id
    state.floor_started_at = request.granted_at
    audit.record(actor, "floor.grant", object_type="speaker_request", object_id=request.id, meeting_id=meeting.id,
                 details={"item": request.item_id, "user": request.user_id})
    _publish_floor("floor.grant", request)


def end_floor(actor: Actor, meeting: Meeting) -> None:
    audit.lock_chain()
    state = _locked_state(meeting.id)
    request = _end_floor(state)
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
    audit.lock_chain()
    for rank, request_id in enumerate(request_ids, start=1):
        db.session.get(SpeakerRequest, request_id).rank = rank
    audit.record(actor, "floor.reorder", object_type="speaker_request", object_id=None, meeting_id=meeting.id,
                 details={"item": item.id, "order": request_ids})
    domain_events.publish(meeting.id, "floor.reorder", item_id=item.id, item=item.id, order=request_ids)


# --- members' actions ----------------------------------------------------------------------------

def request_floor(actor: Actor, meeting: Meeting, item_id: int) -> SpeakerRequest:
    _require_in_session(meeting)
    item = meetings.get_item(meeting, item_id)
    if item is None:
        raise LiveError("Unknown agenda item.")
    audit.lock_chain()
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
    audit.lock_chain()
    request.status = SpeakerStatus.WITHDRAWN
    request.ended_at = utcnow()
    audit.record(actor, "floor.withdraw", object_type="speaker_request", object_id=request.id,
                 meeting_id=meeting.id, details={"item": request.item_id})
    _publish_floor("floor.withdraw", request)


def post_comment(actor: Actor, meeting: Meeting, item_id: int, body: Any, client_id: Any) -> Comment:
    if meeting.status not in (MeetingStatus.PUBLISHED, MeetingStatus.IN_SESSION):
        raise LiveError("Comments are open while the meeting is published or in session.")
    item = meetings.get_item(meeting, item_id)
    if item is None:
        raise LiveError("Unknown agenda item.")
    if not isinstance(body, str) or not body.strip():
        raise LiveError("The comment is empty.")
    if len(body) > MAX_COMMENT_LENGTH:
        raise LiveError("The comment is longer than %(n)s characters.", n=MAX_COMMENT_LENGTH)
    if not isinstance(client_id, str) or not 8 <= len(client_id) <= 64:
        raise LiveError("The comment has no valid client id.")
    existing = db.session.scalar(select(Comment).where(Comment.author_id == actor.user_id,
                                                       Comment.client_id == client_id))
    if existing is not None:
        return existing  # a retry after a dropped connection: already stored
    comment = Comment(meeting_id=meeting.id, item_id=item.id, author_id=actor.user_id, client_id=client_id,
                      body=body.strip())
    db.session.add(comment)
    db.session.flush()
    audit.record(actor, "comment.post", object_type="live_comment", object_id=comment.id, meeting_id=meeting.id,
                 details={"item": item.id})
    domain_events.publish(meeting.id, "comment.post", item_id=item.id, item=item.id, comment_id=comment.id)
    return comment


def hide_comment(actor: Actor, meeting: Meeting, comment_id: Any) -> None:
    comment = db.session.get(Comment, comment_id) if isinstance(comment_id, int) else None
    if comment is None or comment.meeting_id != meeting.id:
        raise LiveError("Unknown comment.")
    if comment.hidden_at is not None:
        raise LiveError("The comment is already hidden.")
    comment.hidden_at = utcnow()
    comment.hidden_by_id = actor.user_id
    audit.record(actor, "comment.hide", object_type="live_comment", object_id=comment.id, meeting_id=meeting.id,
                 details={"item": comment.item_id})
    domain_events.publish(meeting.id, "comment.hide", item_id=comment.item_id, item=comment.item_id,
                          comment_id=comment.id)


def check_in(actor: Actor, meeting: Meeting, mode: Any) -> None:
    try:
        check_mode = CheckInMode(mode)
    except ValueError as exc:
        raise LiveError("Unknown attendance mode.") from exc
    participant = meetings.participant_of(meeting, actor.user)
    if participant is None:
        raise LiveError("You are not a participant of this meeting.")
    meetings.check_in(actor, meeting, participant, check_mode)


def get_meeting_or_none(meeting_id: Any) -> Meeting | None:
    if not isinstance(meeting_id, int) or isinstance(meeting_id, bool):
        return None
    return meetings.get_meeting(meeting_id)


def speakers_in_order(meeting_id: int, item_id: int) -> list[tuple[User, Any]]:
    """Who spoke on an item, in the order they were given the floor (for the minutes)."""
    rows = db.session.scalars(select(SpeakerRequest).where(
        SpeakerRequest.meeting_id == meeting_id, SpeakerRequest.item_id == item_id,
        SpeakerRequest.granted_at.is_not(None)).order_by(SpeakerRequest.granted_at, SpeakerRequest.id))
    return [(r.user, r.granted_at) for r in rows]
