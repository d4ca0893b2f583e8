"""Signed checkpoints anchor the audit chain's head.

The chain alone shows an entry edited in place. These tests take the part of a database owner who lifts
the append-only triggers and (a) deletes the newest entries, (b) rewrites the last checkpointed entry
and recomputes its hash and every later link, (c) deletes the checkpoints from the table: each still
linking chain is reported by ``audit-verify`` against the checkpoint file and the signing key, which that
owner does not control.
"""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ecabinet.audit import checkpoints
from ecabinet.audit import service as audit
from ecabinet.audit.models import AuditCheckpoint, AuditEntry
from ecabinet.core import uow
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from tests.meetings.conftest import actor

TABLES = ("audit_entry", "audit_checkpoint")


@pytest.fixture(autouse=True)
def audit_files(app, tmp_path) -> SimpleNamespace:
    """This test's own signing key and checkpoint file."""
    app.config["AUDIT_SIGNING_KEY_FILE"] = str(tmp_path / "keys" / "audit-signing-key.pem")
    app.config["AUDIT_CHECKPOINT_FILE"] = str(tmp_path / "audit-checkpoints.jsonl")
    return SimpleNamespace(key=tmp_path / "keys" / "audit-signing-key.pem",
                           public=tmp_path / "keys" / "audit-signing-key.pub.pem",
                           file=tmp_path / "audit-checkpoints.jsonl")


def _record_some(n: int) -> list[AuditEntry]:
    entries = []
    for i in range(n):
        entries.append(audit.record(Actor.system("test"), "test.event", object_type="thing", object_id=i,
                                    details={"i": i, "text": "Nghị quyết số 5"}))
        db.session.commit()
    return entries


def _checkpoint(reason: str = "manual") -> checkpoints.Checkpoint:
    checkpoint = checkpoints.take_checkpoint(reason)
    db.session.commit()
    assert checkpoint is not None
    return checkpoint


def _verify(app, *args: str):
    return CliRunner().invoke(app.cli, ["ecabinet", "audit-verify", *args])


@contextmanager
def _as_database_owner() -> Iterator[sa.Connection]:
    """What the database's owner can do and the app's code cannot prevent: drop the append-only triggers,
    change the rows, and (on PostgreSQL) put the triggers back so nothing looks amiss."""
    db.session.rollback()  # the test's own transaction would hold a lock the DROP TRIGGER waits for
    postgres = db.engine.dialect.name == "postgresql"
    with db.engine.begin() as conn:
        for table in TABLES:
            if postgres:
                conn.exec_driver_sql(f"DROP TRIGGER {table}_append_only ON {table}")
            else:
                conn.exec_driver_sql(f"DROP TRIGGER {table}_no_update")
                conn.exec_driver_sql(f"DROP TRIGGER {table}_no_delete")
        yield conn
        if postgres:  # the schema outlives this test on PostgreSQL
            for table in TABLES:
                conn.exec_driver_sql(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                                     f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")


def _rewrite_from(conn: sa.Connection, entry_id: int, **changes) -> None:
    """Rewrite one entry and recompute its hash and every later link, so that the chain still verifies."""
    table = AuditEntry.__table__
    rows = conn.execute(sa.select(*table.c).where(table.c.id >= entry_id).order_by(table.c.id)).all()
    prev = rows[0].prev_hash
    for number, row in enumerate(rows):
        forged = SimpleNamespace(**row._asdict())
        if number == 0:
            for name, value in changes.items():
                setattr(forged, name, value)
        forged.prev_hash = prev
        forged.hash = prev = audit.entry_hash(prev, forged)
        conn.execute(sa.update(table).where(table.c.id == row.id).values(
            prev_hash=forged.prev_hash, hash=forged.hash, **({k: getattr(forged, k) for k in changes})))


# -- taking checkpoints ------------------------------------------------------------------------------------

def test_checkpoint_is_signed_and_kept_in_the_file_and_the_table(app, audit_files):
    entries = _record_some(3)
    checkpoint = _checkpoint()
    assert (checkpoint.entry_id, checkpoint.entry_hash) == (entries[-1].id, entries[-1].hash)

    # The key pair is made on first use: the private key readable by its owner only, the public one beside it.
    assert stat.S_IMODE(audit_files.key.stat().st_mode) == 0o600
    public = checkpoints.load_public_key(audit_files.public)
    assert checkpoint.signature_problem(public) is None

    lines = audit_files.file.read_text().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["entry"] == entries[-1].id and line["hash"] == entries[-1].hash and line["reason"] == "manual"
    public.verify(base64.b64decode(line.pop("sig")),
                  b"e-Cabinet audit checkpoint v1\n" + json.dumps(line, sort_keys=True, separators=(",", ":")).encode())
    assert checkpoints.read_table() == [checkpoints.Checkpoint.from_line(lines[0], "")]

    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert f"Audit chain OK: 3 entries, head {entries[-1].hash}" in result.output
    assert f"anchored by 1 signed checkpoints (last: entry {entries[-1].id}" in result.output


def test_an_empty_chain_has_nothing_to_checkpoint(app, audit_files):
    assert checkpoints.take_checkpoint("manual") is None
    result = CliRunner().invoke(app.cli, ["ecabinet", "audit-checkpoint"])
    assert result.exit_code == 0 and "nothing to checkpoint" in result.output
    assert not audit_files.file.exists()


def test_cli_checkpoints_and_prints_the_public_key(app, audit_files):
    _record_some(2)
    result = CliRunner().invoke(app.cli, ["ecabinet", "audit-checkpoint"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["sig"] == checkpoints.read_table()[0].signature
    result = CliRunner().invoke(app.cli, ["ecabinet", "audit-public-key"])
    assert result.exit_code == 0
    assert audit_files.public.read_text() in result.output
    assert checkpoints.key_id(checkpoints.load_public_key(audit_files.public)) in result.output


def test_the_checkpoint_table_is_append_only(app):
    _record_some(1)
    _checkpoint()
    for statement in (sa.update(AuditCheckpoint).values(entry_hash="f" * 64), sa.delete(AuditCheckpoint)):
        with pytest.raises(sa.exc.DBAPIError, match="audit_checkpoint is append-only"):
            db.session.execute(statement)
            db.session.flush()
        db.session.rollback()


def test_untouched_chain_verifies_with_entries_after_the_last_checkpoint(app):
    _record_some(2)
    _checkpoint()
    _record_some(2)
    _checkpoint()
    entries = _record_some(2)
    report = audit.verify_chain()
    assert report.ok and report.entries == 6 and report.checkpoints == 2 and report.problems == ()
    assert report.last_checkpoint.entry_id == entries[0].id - 1
    assert _verify(app).exit_code == 0


# -- what a database owner can do, and what is reported ------------------------------------------------------

def test_deleting_the_newest_entries_is_reported(app):
    entries = _record_some(4)
    _checkpoint()
    with _as_database_owner() as conn:
        conn.execute(sa.delete(AuditEntry).where(AuditEntry.id >= entries[2].id))
    assert audit.verify_chain(checkpoint_file=None).linked  # what remains still links: the chain alone is silent

    result = _verify(app)
    assert result.exit_code == 1
    assert (f"BROKEN at entry {entries[3].id}: missing: it was the head of the chain at" in result.output
            and f"the chain now ends at entry {entries[1].id}: entries have been deleted from its end"
            in result.output)


def test_deleting_the_checkpointed_head_then_appending_is_reported(app):
    entries = _record_some(3)
    _checkpoint()
    with _as_database_owner() as conn:
        conn.execute(sa.delete(AuditEntry).where(AuditEntry.id == entries[2].id))
    _record_some(2)  # the app goes on: new entries link to what is left

    report = audit.verify_chain()
    assert not report.ok and report.linked
    assert report.first_broken_id == entries[2].id
    # PostgreSQL numbers on past the deleted id; SQLite hands it out again, to an entry of another hash.
    assert report.problem.startswith("missing: " if db.engine.dialect.name == "postgresql" else "rewritten: ")


def test_rewriting_the_last_checkpointed_entry_and_every_later_link_is_reported(app):
    entries = _record_some(3)
    checkpoint = _checkpoint()
    _record_some(2)
    with _as_database_owner() as conn:
        _rewrite_from(conn, entries[2].id, details=json.dumps({"i": 2, "text": "Nghị quyết số 6"}))

    report = audit.verify_chain()
    assert report.linked  # every link was recomputed: only the checkpoint tells
    assert not report.ok and report.first_broken_id == entries[2].id
    result = _verify(app)
    assert result.exit_code == 1
    assert (f"BROKEN at entry {entries[2].id}: rewritten: its hash is not the one signed in the checkpoint of "
            f"{checkpoint.at}") in result.output


def test_rewriting_an_entry_without_recomputing_its_hash_is_still_reported(app):
    entries = _record_some(3)
    _checkpoint()
    with _as_database_owner() as conn:
        conn.execute(sa.update(AuditEntry).where(AuditEntry.id == entries[1].id).values(action="forged"))
    result = _verify(app)
    assert result.exit_code == 1
    assert f"BROKEN at entry {entries[1].id}: content does not match its hash (after 1 good entries)" in result.output


def test_deleting_the_checkpoints_from_the_table_is_reported(app):
    _record_some(2)
    first = _checkpoint()
    _record_some(1)
    second = _checkpoint()
    with _as_database_owner() as conn:
        conn.execute(sa.delete(AuditCheckpoint))

    result = _verify(app)
    assert result.exit_code == 1
    for checkpoint in (first, second):
        assert (f"BROKEN at entry {checkpoint.entry_id}: the checkpoint of entry {checkpoint.entry_id} signed at "
                f"{checkpoint.at} (line ") in result.output
    assert result.output.count("is in the checkpoint file but not in the audit_checkpoint table") == 2


def test_truncating_entries_and_checkpoints_together_is_reported_from_the_file(app):
    entries = _record_some(3)
    _checkpoint()
    with _as_database_owner() as conn:
        conn.execute(sa.delete(AuditCheckpoint))
        conn.execute(sa.delete(AuditEntry).where(AuditEntry.id == entries[2].id))
    report = audit.verify_chain()
    assert not report.ok and report.first_broken_id == entries[2].id
    assert "deleted from its end" in report.problem


def test_a_forged_checkpoint_row_does_not_verify(app):
    entries = _record_some(3)
    _checkpoint()
    with _as_database_owner() as conn:
        # The owner rewrites the head and puts a matching checkpoint in the table, without the key.
        _rewrite_from(conn, entries[2].id, action="forged")
        forged_hash = conn.scalar(sa.select(AuditEntry.hash).where(AuditEntry.id == entries[2].id))
        conn.execute(sa.update(AuditCheckpoint).values(entry_hash=forged_hash))

    problems = [p.message for p in audit.verify_chain().problems]
    assert any(m.startswith("rewritten: ") for m in problems)  # the file's checkpoint still holds the old hash
    assert any("audit_checkpoint row 1) has a signature that does not verify" in m for m in problems)
    assert any("is in the audit_checkpoint table but not in the checkpoint file" in m for m in problems)
    assert any("is in the checkpoint file but not in the audit_checkpoint table" in m for m in problems)


def test_an_edited_checkpoint_line_does_not_verify(app, audit_files):
    entries = _record_some(2)
    _checkpoint()
    line = json.loads(audit_files.file.read_text())
    line["hash"] = "0" * 64
    audit_files.file.write_text(json.dumps(line) + "\n")

    result = _verify(app)
    assert result.exit_code == 1
    assert (f"BROKEN at entry {entries[1].id}: the checkpoint of entry {entries[1].id} signed at {line['at']} "
            f"(line 1 of audit-checkpoints.jsonl) has a signature that does not verify") in result.output


def test_a_missing_checkpoint_file_is_reported(app, audit_files):
    _record_some(1)
    _checkpoint()
    audit_files.file.unlink()
    result = _verify(app)
    assert result.exit_code == 1
    assert "the checkpoint file" in result.output and "is missing, but the audit_checkpoint table holds 1" in (
        result.output)


def test_an_attacker_with_the_file_and_the_key_is_caught_only_by_the_public_key_kept_elsewhere(
        app, audit_files, tmp_path):
    entries = _record_some(2)
    _checkpoint()
    kept_elsewhere = tmp_path / "kept-elsewhere.pub.pem"
    kept_elsewhere.write_text(audit_files.public.read_text())
    assert _verify(app, "--public-key", str(kept_elsewhere)).exit_code == 0

    # Someone who holds the database, the checkpoint file and the key folder rewrites the head, removes
    # every checkpoint, makes a key of their own and signs the forged head with it.
    with _as_database_owner() as conn:
        _rewrite_from(conn, entries[1].id, action="forged")
        conn.execute(sa.delete(AuditCheckpoint))
    audit_files.file.unlink()
    audit_files.key.unlink()
    audit_files.public.unlink()
    own = _checkpoint()
    assert _verify(app).exit_code == 0  # on the machine, nothing is left to tell
    result = _verify(app, "--public-key", str(kept_elsewhere))
    assert result.exit_code == 1
    expected = checkpoints.key_id(checkpoints.load_public_key(kept_elsewhere))
    assert f"is signed by key {own.key_id}, not by the audit key {expected}" in result.output


def test_another_public_key_refuses_every_checkpoint(app, tmp_path):
    entries = _record_some(1)
    _checkpoint()
    other = tmp_path / "other.pub.pem"
    other.write_bytes(checkpoints.public_pem(Ed25519PrivateKey.generate().public_key()))
    result = _verify(app, "--public-key", str(other))
    assert result.exit_code == 1 and f"BROKEN at entry {entries[0].id}: the checkpoint of entry" in result.output


def test_a_line_left_by_a_failed_commit_is_reported_as_a_disagreement(app, audit_files):
    _record_some(1)
    checkpoints.take_checkpoint("manual")
    db.session.rollback()  # the line is written before the boundary commits the row
    problems = audit.verify_chain().problems
    assert [p.message.endswith("is in the checkpoint file but not in the audit_checkpoint table") for p in problems] \
        == [True]


# -- when checkpoints are taken ----------------------------------------------------------------------------

def test_the_periodic_job_checkpoints_a_grown_chain_once_per_interval(app):
    from ecabinet.audit import tasks

    def count() -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditCheckpoint))

    tasks.audit_checkpoint.call_local()
    assert count() == 0  # an empty chain: nothing to sign
    _record_some(2)
    tasks.audit_checkpoint.call_local()
    assert count() == 1
    _record_some(1)
    tasks.audit_checkpoint.call_local()
    assert count() == 1  # the interval has not passed

    later = utcnow() + timedelta(minutes=10)
    assert checkpoints.checkpoint_if_due(now=later) is not None
    db.session.commit()
    assert count() == 2
    assert checkpoints.checkpoint_if_due(now=later + timedelta(minutes=10)) is None  # the head has not moved
    _record_some(1)
    app.config["AUDIT_CHECKPOINT_MINUTES"] = 60
    assert checkpoints.checkpoint_if_due(now=later + timedelta(minutes=30)) is None
    assert checkpoints.checkpoint_if_due(now=later + timedelta(minutes=60)) is not None
    db.session.commit()
    assert [c.reason for c in checkpoints.read_table()] == ["periodic"] * 3
    assert audit.verify_chain().ok


def test_adjourning_a_meeting_checkpoints_the_head_after_the_commit(app, published, cabinet):
    from ecabinet.meetings import service

    chair = actor(cabinet["chair"])
    service.start_meeting(chair, published)
    uow.commit()
    assert checkpoints.read_table() == []

    service.adjourn_meeting(chair, published)
    assert checkpoints.read_table() == []  # nothing before the commit
    uow.commit()
    adjourned = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "meeting.adjourn"))
    [checkpoint] = checkpoints.read_table()
    assert (checkpoint.reason, checkpoint.meeting_id) == ("meeting.adjourn", published.id)
    assert (checkpoint.entry_id, checkpoint.entry_hash) == (adjourned.id, adjourned.hash)
    assert audit.verify_chain().ok

    service.resume_meeting(chair, published)
    uow.commit()
    service.adjourn_meeting(chair, published)
    db.session.rollback()  # a rolled-back adjournment is not checkpointed
    assert len(checkpoints.read_table()) == 1

