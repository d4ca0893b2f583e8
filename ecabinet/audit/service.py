"""Recording and verifying the audit chain. Every domain records through ``record``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from ecabinet.audit.checkpoints import Checkpoint, Problem, verify_checkpoints
from ecabinet.audit.models import GENESIS_HASH, AuditEntry
from ecabinet.core import uow
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db

# Any constant: the advisory lock that serialises appends to the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 0x65436162  # "eCab"
_COLUMNS = ("created_at", "actor_id", "actor_label", "action", "object_type", "object_id", "meeting_id", "ip",
            "details", "prev_hash", "hash")

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


_INSERT = insert(AuditEntry.__table__)
_HEAD = select(AuditEntry.__table__.c.hash).order_by(AuditEntry.__table__.c.id.desc()).limit(1)


def head_hash() -> str:
    last = db.session.scalar(_HEAD)
    return last or GENESIS_HASH


@dataclass(frozen=True)
class Record:
    """One entry to append, with the actor already reduced to plain values (``record_many`` may append
    entries for several callers from one transaction)."""

    actor_id: int | None
    actor_label: str
    ip: str | None
    action: str
    object_type: str | None = None
    object_id: Any = None
    meeting_id: int | None = None
    details: dict[str, Any] | None = None


def record(
    actor: Actor,
    action: str,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    meeting_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record an entry in the caller's unit of work; it is appended to the chain inside the commit (or
    dropped with a rollback), with the change it records."""
    return record_many([Record(actor.user_id, actor.display, actor.ip, action, object_type, object_id,
                               meeting_id, details)])[0]


def record_many(records: list[Record]) -> list[AuditEntry]:
    """Record several entries, chained in the given order when the unit of work commits.

    The entries returned get their time, links and id in the commit (``_append``). Not inside a
    savepoint that may roll back: the entries are kept for the transaction, not for the savepoint."""
    entries = [AuditEntry(actor_id=r.actor_id, actor_label=r.actor_label, action=r.action,
                          object_type=r.object_type,
                          object_id=None if r.object_id is None else str(r.object_id),
                          meeting_id=r.meeting_id, ip=r.ip,
                          details=json.dumps(r.details or {}, sort_keys=True, ensure_ascii=False, default=str))
               for r in records]
    uow.pending(db.session(), _PENDING).extend(entries)
    return entries


_PENDING = "audit_entries"


@uow.before_commit_hook(rank=uow.LAST)
def _append(session: Session) -> None:
    """Append the transaction's entries to the chain: its lock, its head, the rows, then the commit.

    The last step of every commit, after every other hook and the flush of every staged change: the
    chain's lock (PostgreSQL; serialising every audited transaction of every instance) is then the
    last lock a transaction takes, held for two statements and the commit rather than for all of the
    transaction's work. Nothing that holds it ever waits for another lock, so it cannot deadlock with
    row locks taken in any order. (At 50 chair actions a second across three instances, holding it
    for the whole action kept a dozen transactions waiting for it: bench/bench_scaleout.py.)"""
    if session.in_nested_transaction():
        return  # a savepoint's release: the entries wait for the transaction's own commit
    entries = uow.take_pending(session, _PENDING)
    if not entries:
        return
    session.flush()  # every other row lock first (see above)
    _lock_chain(session)
    prev = head_hash()
    now = utcnow()
    for entry in entries:
        entry.created_at = now
        entry.prev_hash = prev
        entry.hash = prev = entry_hash(prev, entry)
    # A Core insert, in order: cheaper than the unit of work, and the next head_hash() sees the rows.
    ids = session.scalars(_INSERT.returning(AuditEntry.__table__.c.id, sort_by_parameter_order=True),
                          [{c: getattr(e, c) for c in _COLUMNS} for e in entries]).all()
    for entry, entry_id in zip(entries, ids, strict=True):
        entry.id = entry_id


def _lock_chain(session: Session) -> None:
    """The chain's lock (PostgreSQL; held until the commit). SQLite has one writer at a time already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})


@dataclass(frozen=True)
class ChainReport:
    """The verification's outcome. ``first_broken_id`` and ``problem`` name the first finding;
    ``problems`` holds them all, the chain's own first, then those of the checkpoints."""

    ok: bool
    entries: int
    head: str
    first_broken_id: int | None = None
    problem: str | None = None
    problems: tuple[Problem, ...] = ()
    # False when the walk stopped at an entry whose link or content does not check out.
    linked: bool = True
    checkpoints: int = 0
    last_checkpoint: Checkpoint | None = None


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


def verify_chain(*, checkpoint_file: Path | None = None, public_key: Path | None = None) -> ChainReport:
    """Walk the chain from the start and name the first entry whose link or content does not check out;
    then hold it against the signed checkpoints of its head (``checkpoints.verify_checkpoints``), which
    show entries deleted from the end or rewritten with every later link recomputed."""
    problems: list[Problem] = []
    prev = GENESIS_HASH
    count = 0
    for entry in iter_entries():
        count += 1
        if entry.prev_hash != prev:
            problems.append(Problem(entry.id, "link to the previous entry is broken"))
            break
        if entry_hash(prev, entry) != entry.hash:
            problems.append(Problem(entry.id, "content does not match its hash"))
            break
        prev = entry.hash
    linked = not problems
    anchored = verify_checkpoints(checkpoint_file, public_key)
    problems.extend(anchored.problems)
    first = problems[0] if problems else None
    return ChainReport(not problems, count, prev, first.entry_id if first else None, first.message if first else None,
                       tuple(problems), linked, anchored.checkpoints, anchored.last)


# --- reading the log -------------------------------------------------------------------------------

@dataclass(frozen=True)
class LogFilter:
    """What the reader narrowed the log to: a meeting, a person (the actor), a family of actions
    (``ballot``) or one action (``ballot.open``)."""

    meeting_id: int | None = None
    actor_id: int | None = None
    action: str | None = None


def read_entries(where: LogFilter, *, before: int | None = None, limit: int = 50) -> list[AuditEntry]:
    """The newest entries matching ``where``, older than entry ``before`` when given (keyset pages)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if where.meeting_id is not None:
        query = query.where(AuditEntry.meeting_id == where.meeting_id)
    if where.actor_id is not None:
        query = query.where(AuditEntry.actor_id == where.actor_id)
    if where.action:
        if "." in where.action:
            query = query.where(AuditEntry.action == where.action)
        else:  # a family: the code itself ("logout") or any code under it ("ballot.open")
            query = query.where((AuditEntry.action == where.action)
                                | AuditEntry.action.startswith(where.action + ".", autoescape=True))
    if before is not None:
        query = query.where(AuditEntry.id < before)
    return list(db.session.scalars(query.limit(limit)))


def actors_in_log() -> list[int]:
    """The people who have acted, for the person filter."""
    return list(db.session.scalars(select(AuditEntry.actor_id).where(AuditEntry.actor_id.is_not(None)).distinct()))


def meetings_in_log() -> list[int]:
    return list(db.session.scalars(select(AuditEntry.meeting_id).where(AuditEntry.meeting_id.is_not(None))
                                   .distinct().order_by(AuditEntry.meeting_id.desc())))


def actions_in_log() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
