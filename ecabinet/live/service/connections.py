"""Connections and presence: the sockets of sign-in sessions, who is online in a meeting, and a
member's check-in."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from ecabinet.accounts.service import session_revoked
from ecabinet.core import uow
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db, socketio
from ecabinet.live.models import LiveConnection
from ecabinet.live.service.shared import LiveError
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import CheckInMode, Meeting

# One id per process: rows left by a crashed instance can be told apart.
INSTANCE_ID = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def register_connection(sid: str, user_id: int, session_id: int) -> None:
    """Record a socket of a sign-in session. Written by the commit (``_write_new_connections``), so that
    a join in the same unit of work (the one a handshake carries) sets its meeting in the same INSERT."""
    uow.pending(db.session, "live_connections").append(
        {"sid": sid, "user_id": user_id, "session_id": session_id, "instance": INSTANCE_ID, "meeting_id": None,
         "connected_at": utcnow()})


@uow.before_commit_hook
def _write_new_connections(session: Session) -> None:
    # A plain INSERT, not the ORM's flush of new objects: after an instance dies, each survivor writes a
    # thousand of these at once, and the flush's bookkeeping cost more than the statement (profiled).
    rows = uow.take_pending(session, "live_connections")
    if rows:
        session.execute(insert(LiveConnection.__table__), rows)


def unregister_connection(sid: str) -> int | None:
    """Forget a socket; returns the meeting it was in, whose presence changed."""
    meeting_id = db.session.scalar(select(LiveConnection.meeting_id).where(LiveConnection.sid == sid))
    db.session.execute(delete(LiveConnection).where(LiveConnection.sid == sid))
    return meeting_id


def enter_meeting(sid: str, meeting_id: int) -> None:
    for new in uow.pending(db.session, "live_connections"):
        if new["sid"] == sid:  # registered in this unit of work: its INSERT carries the meeting
            new["meeting_id"] = meeting_id
            return
    # One statement, not a read and a write: every tablet of a meeting sends it at once when the room opens.
    db.session.execute(update(LiveConnection).where(LiveConnection.sid == sid,
                                                    LiveConnection.meeting_id.is_distinct_from(meeting_id))
                       .values(meeting_id=meeting_id).execution_options(synchronize_session=False))


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


# An instance that has not said it is alive for this long has ended (killed, its host or container gone):
# three missed heartbeats of the sweep (ecabinet/live/presence.py).
HEARTBEAT_SECONDS = 90


def sweep_connections(local_sids: Callable[[], set[str]],
                      alive: Callable[[set[str]], set[str] | None] | None = None) -> set[int]:
    """Forget sockets that no process holds any more: those of an ended process on this host (killed
    before its disconnect handlers ran), this process's own sockets that ``local_sids()`` no longer knows
    (a disconnect that could not reach the database), and, when ``alive`` can tell (the instances'
    heartbeats in Redis), those of an instance on another host that stopped beating: a host or a
    container that went away takes its disconnect handlers with it. ``alive(instances)`` returns which
    of them are alive, or None when it cannot tell; a row younger than a heartbeat's life is never
    judged by it. Returns the meetings whose presence changed."""
    here = socket.gethostname() + "-"
    rows = db.session.execute(select(LiveConnection.sid, LiveConnection.instance, LiveConnection.meeting_id,
                                     LiveConnection.connected_at)).all()
    known_sids = local_sids()  # read after the rows: a socket registered meanwhile is known by now
    # Workers forked after import (gunicorn --preload) would share one id: then none judges the id's rows.
    mine = f"-{os.getpid()}-" in INSTANCE_ID
    old_enough = utcnow() - timedelta(seconds=HEARTBEAT_SECONDS)
    elsewhere = {instance for _, instance, _, at in rows if not instance.startswith(here) and at < old_enough}
    living = alive(elsewhere) if alive is not None and elsewhere else None
    gone = elsewhere - living if living is not None else set()
    stale = [(sid, meeting_id) for sid, instance, meeting_id, _ in rows
             if (instance.startswith(here)
                 and ((mine and instance == INSTANCE_ID and sid not in known_sids) or _ended_instance(instance)))
             or instance in gone]
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


def check_in(actor: Actor, meeting: Meeting, mode: Any) -> None:
    """A member checks in from their tablet (the meetings domain records attendance and the quorum)."""
    try:
        check_mode = CheckInMode(mode)
    except ValueError as exc:
        raise LiveError("Unknown attendance mode.") from exc
    participant = meetings.participant_of(meeting, actor.user)
    if participant is None:
        raise LiveError("You are not a participant of this meeting.")
    meetings.check_in(actor, meeting, participant, check_mode)
