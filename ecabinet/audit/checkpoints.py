"""Checkpoints of the audit chain: its head, signed with the audit log's own key.

The chain shows an entry edited in place, but not entries deleted from its end, nor the last entries
rewritten with every hash and link recomputed: what remains still links. A checkpoint states "entry N
was the newest, with hash H, at time T", signed (Ed25519) with a key the database does not hold.
``service.verify_chain`` then reports a checkpointed entry that is missing or different.

Each checkpoint is kept twice, where the app's database role cannot rewrite it: one signed JSON line
appended to the checkpoint file (opened O_APPEND, fsync'd), and one row of ``audit_checkpoint``, whose
triggers refuse UPDATE and DELETE. Checkpoints are taken every few minutes (``tasks.py``), after the
commit that adjourns or closes a meeting or makes its minutes final, and by ``flask ecabinet
audit-checkpoint``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecabinet.audit.models import AuditCheckpoint, AuditEntry
from ecabinet.core import domain_events, uow
from ecabinet.core.types import utcnow
from ecabinet.extensions import db

log = logging.getLogger(__name__)

# The meeting changes after whose commit the head is checkpointed: the moments a record is settled.
CHECKPOINT_EVENTS = frozenset({"meeting.adjourn", "meeting.close", "minutes.final"})
DEFAULT_INTERVAL_MINUTES = 10
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# Signed before the JSON, so that a checkpoint's signature can never pass for a signature of anything else.
_DOMAIN = b"e-Cabinet audit checkpoint v1\n"


class CheckpointKeyError(Exception):
    """The signing key or a public key cannot be read."""


# -- settings -----------------------------------------------------------------------------------------

def _setting(name: str) -> str | None:
    """The app's setting, else the environment's (the job worker and the CLI read the same names)."""
    value = current_app.config.get(name) if has_app_context() else None
    return str(value) if value else os.environ.get(name) or None


def _instance_dir() -> Path:
    if has_app_context():
        return Path(current_app.instance_path)
    from ecabinet.config import INSTANCE_DIR

    return INSTANCE_DIR


def key_path() -> Path:
    return Path(_setting("AUDIT_SIGNING_KEY_FILE") or _instance_dir() / "audit-signing-key.pem")


def public_key_path(private: Path | None = None) -> Path:
    private = private or key_path()
    return private.with_name(private.name.removesuffix(".pem") + ".pub.pem")


def checkpoint_path() -> Path:
    return Path(_setting("AUDIT_CHECKPOINT_FILE") or _instance_dir() / "audit-checkpoints.jsonl")


def interval() -> timedelta:
    return timedelta(minutes=int(_setting("AUDIT_CHECKPOINT_MINUTES") or DEFAULT_INTERVAL_MINUTES))


# -- the key --------------------------------------------------------------------------------------------

def signing_key() -> Ed25519PrivateKey:
    """The audit log's private key, generated (0600) on first use; its public key is written beside it."""
    path = key_path()
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        pem = _create_key(path)
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CheckpointKeyError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointKeyError(f"{path} is not an Ed25519 key")
    public = public_key_path(path)
    if not public.exists():
        _write_atomically(public, public_pem(key.public_key()), 0o644)
    return key


def _create_key(path: Path) -> bytes:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    if not _write_atomically(path, pem, 0o600, replace_existing=False):
        return path.read_bytes()  # another process made it first: use theirs
    log.warning("Generated the audit signing key %s. Keep a copy of its public key (flask ecabinet "
                "audit-public-key) off this machine.", path)
    return pem


def _write_atomically(path: Path, data: bytes, mode: int, *, replace_existing: bool = True) -> bool:
    """Write under a temporary name, then move into place: no reader ever sees half a key. Without
    ``replace_existing``, an existing file wins and False is returned."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace_existing:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)  # fails if the name exists, unlike a rename
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(key: Ed25519PublicKey) -> str:
    """A short fingerprint of the public key, recorded in each checkpoint."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CheckpointKeyError(f"cannot read the public key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointKeyError(f"{path} is not an Ed25519 public key")
    return key


def verification_key(path: Path | None = None) -> Ed25519PublicKey | None:
    """The key checkpoints are checked against: the one given (a copy kept off this machine), else the
    public key beside the signing key, else the signing key's own; None when there is none yet."""
    if path is not None:
        return load_public_key(path)
    public = public_key_path()
    if public.exists():
        return load_public_key(public)
    if key_path().exists():
        return signing_key().public_key()
    return None


# -- one checkpoint ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    entry_id: int
    entry_hash: str
    at: str
    reason: str
    meeting_id: int | None
    key_id: str
    signature: str
    # Where it was read ("line 3 of …", "table row 7"): not part of what is compared.
    where: str = field(default="", compare=False)

    def payload(self) -> dict[str, Any]:
        return {"v": 1, "entry": self.entry_id, "hash": self.entry_hash, "at": self.at, "reason": self.reason,
                "meeting": self.meeting_id, "key": self.key_id}

    def signed_bytes(self) -> bytes:
        return _DOMAIN + _canonical(self.payload()).encode("utf-8")

    def line(self) -> str:
        return _canonical({**self.payload(), "sig": self.signature})

    def signature_problem(self, key: Ed25519PublicKey) -> str | None:
        if self.key_id != key_id(key):
            return f"is signed by key {self.key_id}, not by the audit key {key_id(key)}"
        try:
            key.verify(base64.b64decode(self.signature, validate=True), self.signed_bytes())
        except (InvalidSignature, ValueError):
            return "has a signature that does not verify"
        return None

    def describe(self) -> str:
        return f"the checkpoint of entry {self.entry_id} signed at {self.at} ({self.where})"

    @classmethod
    def from_line(cls, text: str, where: str) -> Checkpoint:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("v") != 1:
            raise ValueError("not a version 1 checkpoint")
        values = (data.get("entry"), data.get("hash"), data.get("at"), data.get("reason"), data.get("meeting"),
                  data.get("key"), data.get("sig"))
        types = (int, str, str, str, (int, type(None)), str, str)
        if any(not isinstance(v, t) or isinstance(v, bool) for v, t in zip(values, types, strict=True)):
            raise ValueError("a field is missing or of the wrong type")
        return cls(*values, where=where)  # type: ignore[arg-type]

    @classmethod
    def from_row(cls, row: Any) -> Checkpoint:
        return cls(row.entry_id, row.entry_hash, row.signed_at.strftime(_TIME_FORMAT), row.reason, row.meeting_id,
                   row.key_id, row.signature, where=f"audit_checkpoint row {row.id}")


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# -- taking checkpoints -------------------------------------------------------------------------------------

def _head() -> Any:
    # Appends are serialised (and on PostgreSQL hold the chain lock until they commit), so the newest
    # committed entry always ends an unbroken prefix of the chain.
    return db.session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()


def take_checkpoint(reason: str, meeting_id: int | None = None) -> Checkpoint | None:
    """Sign the chain's head; append it to the file and stage its row. None when the chain is empty.

    The line is written (and fsync'd) before the boundary commits the row: a crash in between leaves a
    line the table lacks, which ``verify_chain`` reports as a disagreement, never a silent gap.
    """
    head = _head()
    if head is None:
        return None
    key = signing_key()
    now = utcnow()
    unsigned = Checkpoint(head.id, head.hash, now.strftime(_TIME_FORMAT), reason[:64], meeting_id,
                          key_id(key.public_key()), "")
    checkpoint = replace(unsigned, signature=base64.b64encode(key.sign(unsigned.signed_bytes())).decode("ascii"))
    db.session.add(AuditCheckpoint(signed_at=now, entry_id=checkpoint.entry_id, entry_hash=checkpoint.entry_hash,
                                   reason=checkpoint.reason, meeting_id=meeting_id, key_id=checkpoint.key_id,
                                   signature=checkpoint.signature))
    db.session.flush()
    _append_line(checkpoint_path(), checkpoint.line())
    return checkpoint


def _append_line(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (line + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        # One write per line: appends from several processes never interleave within a line.
        if os.write(fd, data) != len(data):
            raise OSError(f"short write to {path}")
        os.fsync(fd)
    finally:
        os.close(fd)


def checkpoint_if_due(now: datetime | None = None) -> Checkpoint | None:
    """The periodic checkpoint: when the interval has passed since the last one and the head has moved."""
    now = now or utcnow()
    last = db.session.execute(
        select(AuditCheckpoint.signed_at, AuditCheckpoint.entry_id, AuditCheckpoint.entry_hash)
        .order_by(AuditCheckpoint.id.desc()).limit(1)).first()
    # Half a minute of slack: the job runs each minute, and should not slip a minute every time.
    if last is not None and now - last.signed_at < interval() - timedelta(seconds=30):
        return None
    head = _head()
    if head is None or (last is not None and (last.entry_id, last.entry_hash) == (head.id, head.hash)):
        return None
    return take_checkpoint("periodic")


def checkpoint_after_commit(reason: str, meeting_id: int | None) -> None:
    """After-commit work, and so its own boundary: checkpoint the head the committed change ended with."""
    take_checkpoint(reason, meeting_id)
    uow.commit()


@domain_events.subscribe
def _checkpoint_settled_records(session: Session, changes: list[domain_events.MeetingChange]) -> None:
    for change in changes:
        if change.type in CHECKPOINT_EVENTS:
            uow.after_commit(checkpoint_after_commit, change.type, change.meeting_id)


# -- checking them ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One finding of the verification, naming the entry it concerns when there is one."""

    entry_id: int | None
    message: str


@dataclass(frozen=True)
class CheckpointReport:
    checkpoints: int
    last: Checkpoint | None
    problems: tuple[Problem, ...]


def read_file(path: Path) -> tuple[list[Checkpoint], list[Problem]]:
    found: list[Checkpoint] = []
    problems: list[Problem] = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                found.append(Checkpoint.from_line(text, f"line {number} of {path.name}"))
            except ValueError as exc:
                problems.append(Problem(None, f"line {number} of the checkpoint file {path} is not a checkpoint: "
                                              f"{exc}"))
    return found, problems


def read_table() -> list[Checkpoint]:
    # Rows straight from the table, not ORM objects the session may hold from before.
    rows = db.session.execute(select(*AuditCheckpoint.__table__.c).order_by(AuditCheckpoint.id)).all()
    return [Checkpoint.from_row(row) for row in rows]


def _entry_hashes(ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(ids))
    found: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        batch = ids[start:start + 500]
        rows = db.session.execute(select(AuditEntry.id, AuditEntry.hash).where(AuditEntry.id.in_(batch)))
        found.update((entry_id, entry_hash) for entry_id, entry_hash in rows)
    return found


def verify_checkpoints(file: Path | None = None, public_key: Path | None = None) -> CheckpointReport:
    """Check every checkpoint's signature, the file against the table, and the chain against them.

    The file is read when present: it survives a database owner rewriting the table. Checkpoints of
    either place whose signature verifies anchor the chain.
    """
    file = file or checkpoint_path()
    problems: list[Problem] = []
    table = read_table()
    in_file: list[Checkpoint] | None = None
    if file.exists():
        in_file, unreadable = read_file(file)
        problems.extend(unreadable)
    elif table:
        problems.append(Problem(None, f"the checkpoint file {file} is missing, but the audit_checkpoint table "
                                      f"holds {len(table)} checkpoints"))
    everything = (in_file or []) + table
    if not everything:
        return CheckpointReport(0, None, tuple(problems))

    try:
        key = verification_key(public_key)
    except CheckpointKeyError as exc:
        key = None
        problems.append(Problem(None, str(exc)))
    else:
        if key is None:
            problems.append(Problem(None, f"no public key to check the checkpoints' signatures: restore "
                                          f"{public_key_path()} or give the copy kept elsewhere"))
    anchors: dict[Checkpoint, None] = {}  # ordered, without duplicates
    for checkpoint in everything:
        wrong = checkpoint.signature_problem(key) if key is not None else None
        if wrong:
            problems.append(Problem(checkpoint.entry_id, f"{checkpoint.describe()} {wrong}"))
        else:
            anchors.setdefault(checkpoint)

    if in_file is not None:
        file_set, table_set = set(in_file), set(table)
        for checkpoint in in_file:
            if checkpoint not in table_set:
                problems.append(Problem(checkpoint.entry_id, f"{checkpoint.describe()} is in the checkpoint file "
                                                             "but not in the audit_checkpoint table"))
        for checkpoint in table:
            if checkpoint not in file_set:
                problems.append(Problem(checkpoint.entry_id, f"{checkpoint.describe()} is in the audit_checkpoint "
                                                             "table but not in the checkpoint file"))

    problems[:0] = _anchor_problems(list(anchors))
    last = max(anchors, key=lambda c: (c.entry_id, c.at), default=None)
    return CheckpointReport(len(set(everything)), last, tuple(problems))


def _anchor_problems(anchors: list[Checkpoint]) -> list[Problem]:
    """The entries the checkpoints name: each must still be there, with the hash that was signed."""
    hashes = _entry_hashes(c.entry_id for c in anchors)
    newest = db.session.scalar(select(func.max(AuditEntry.id))) or 0
    problems: dict[int, Problem] = {}
    for checkpoint in sorted(anchors, key=lambda c: (c.entry_id, c.at)):
        entry_id = checkpoint.entry_id
        if entry_id in problems:
            continue
        stored = hashes.get(entry_id)
        if stored is None and entry_id > newest:
            problems[entry_id] = Problem(entry_id, (
                f"missing: it was the head of the chain at {checkpoint.at} (signed checkpoint), but the chain now "
                f"ends at entry {newest}: entries have been deleted from its end"))
        elif stored is None:
            problems[entry_id] = Problem(entry_id, (
                f"missing: it was the head of the chain at {checkpoint.at} (signed checkpoint) and has been deleted"))
        elif stored != checkpoint.entry_hash:
            problems[entry_id] = Problem(entry_id, (
                f"rewritten: its hash is not the one signed in the checkpoint of {checkpoint.at}"))
    return list(problems.values())
