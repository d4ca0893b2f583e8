"""Connections: registering sockets, and closing every socket of a revoked sign-in session."""

from __future__ import annotations

import os
import socket
import uuid

from sqlalchemy import delete, select

from ecabinet.accounts.service import session_revoked
from ecabinet.extensions import db, socketio
from ecabinet.live.models import LiveConnection

# One id per process: rows left by a crashed instance can be told apart and swept.
INSTANCE_ID = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def register_connection(sid: str, user_id: int, session_id: int) -> None:
    db.session.add(LiveConnection(sid=sid, user_id=user_id, session_id=session_id, instance=INSTANCE_ID))
    db.session.commit()


def unregister_connection(sid: str) -> None:
    db.session.execute(delete(LiveConnection).where(LiveConnection.sid == sid))
    db.session.commit()


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
