"""Recording and verifying the audit chain. Every domain records through ``record``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from blinker import signal
from sqlalchemy import select, text

from ecabinet.audit.models import GENESIS_HASH, AuditEntry
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db

# Any constant: the advisory lock that serialises appends to the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 0x65436162  # "eCab"

# Sent with each new entry, inside the transaction that records it. The live domain numbers every
# entry that names a meeting as one event of that meeting.
audit_recorded = signal("ecabinet.audit.recorded")


def canonical(entry: Any) -> str:
    """The bytes that are hashed: every recorded field, in a fixed order and format."""
    return json.dumps(
        {
            "at": entry.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor_id": entry.actor_id,
            "actor": entry.actor_label,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "meeting_id": entry.meeting_id,
            "ip": entry.ip,
            "details": json.loads(entry.details),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def entry_hash(prev_hash: str, entry: Any) -> str:
    return hashlib.sha256((prev_hash + canonical(entry)).encode("utf-8")).hexdigest()


def head_hash() -> str:
    last = db.session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    return last or GENESIS_HASH


def record(
    actor: Actor,
    action: str,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    meeting_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction; it commits (or rolls back) with the change it records.

    Call it as the last step before commit: on PostgreSQL it holds the chain lock until then.
    """
    session = db.session
    lock_chain()
    session.flush()
    entry = AuditEntry(
        created_at=utcnow(),
        actor_id=actor.user_id,
        actor_label=actor.display,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        meeting_id=meeting_id,
        ip=actor.ip,
        details=json.dumps(details or {}, sort_keys=True, ensure_ascii=False, default=str),
    )
    entry.prev_hash = head_hash()
    entry.hash = entry_hash(entry.prev_hash, entry)
    session.add(entry)
    audit_recorded.send(entry)
    return entry


def lock_chain() -> None:
    """Take the chain's lock now (PostgreSQL; held until commit). A transaction that will both lock
    other rows and record calls this first, so every transaction takes its locks in the same order."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    head: str
    first_broken_id: int | None = None
    problem: str | None = None


def iter_entries(batch: int = 1000) -> Iterator[Any]:
    """Rows straight from the table (not ORM objects, which the session may hold in a cached state)."""
    columns = [c for c in AuditEntry.__table__.c]
    last_id = 0
    while True:
        rows = db.session.execute(
            select(*columns).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def verify_chain() -> ChainReport:
    """Walk the chain from the start; name the first entry whose link or content does not check out."""
    prev = GENESIS_HASH
    count = 0
    for entry in iter_entries():
        count += 1
        if entry.prev_hash != prev:
            return ChainReport(False, count, prev, entry.id, "link to the previous entry is broken")
        if entry_hash(prev, entry) != entry.hash:
            return ChainReport(False, count, prev, entry.id, "content does not match its hash")
        prev = entry.hash
    return ChainReport(True, count, prev)
