"""The audit chain: every entry links to the one before, the table refuses edits, tampering is detected."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from ecabinet.audit import service as audit
from ecabinet.audit.models import GENESIS_HASH, AuditEntry
from ecabinet.core.actor import Actor
from ecabinet.extensions import db


def _record_some(n: int = 3) -> list[AuditEntry]:
    entries = []
    for i in range(n):
        entries.append(audit.record(Actor.system("test"), "test.event", object_type="thing", object_id=i,
                                    details={"i": i, "text": "Nghị định số 1"}))
        db.session.commit()
    return entries


def test_entries_form_a_chain(app):
    entries = _record_some()
    assert entries[0].prev_hash == GENESIS_HASH
    assert entries[1].prev_hash == entries[0].hash
    assert entries[2].prev_hash == entries[1].hash
    report = audit.verify_chain()
    assert report.ok and report.entries == 3 and report.head == entries[-1].hash


def test_entry_rolls_back_with_its_change(app):
    _record_some(1)
    audit.record(Actor.system("test"), "test.rolled_back")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 1


def test_an_open_audited_transaction_does_not_hold_up_another(app):
    """The chain's lock is taken in the commit, not when the entry is recorded: a transaction that has
    recorded and written, and is still at work, holds up no other audited transaction (on PostgreSQL,
    where the lock serialises every instance's appends; SQLite has one writer at a time anyway)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL: SQLite's writers are serialised by the database itself")
    staged, go_on = threading.Event(), threading.Event()
    outcome: list[object] = []

    def slow_writer() -> None:
        with app.app_context():
            try:
                audit.record(Actor.system("test"), "test.slow")
                db.session.flush()  # its other writes, in the database, with their locks
                staged.set()
                go_on.wait(30)
                db.session.commit()
                outcome.append("committed")
            except Exception as exc:  # noqa: BLE001 - reported by the assertion
                outcome.append(repr(exc))
            finally:
                db.session.remove()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert staged.wait(30)
        db.session.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
        audit.record(Actor.system("test"), "test.quick")
        db.session.commit()  # would wait for the slow writer's commit, and time out, if it held the lock
    finally:
        go_on.set()
        thread.join(30)
    assert outcome == ["committed"]
    # Chained in the order of the commits, and the chain checks out.
    actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["test.quick", "test.slow"]
    assert audit.verify_chain().ok


def test_an_entry_gets_its_links_in_the_commit(app):
    entry = audit.record(Actor.system("test"), "test.event")
    assert entry.id is None and entry.hash is None  # staged only
    db.session.commit()
    assert entry.id is not None and entry.prev_hash == GENESIS_HASH and entry.hash == audit.head_hash()


def test_update_is_refused_by_the_database(app):
    entry = _record_some(1)[0]
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.update(AuditEntry).where(AuditEntry.id == entry.id).values(action="forged"))
        db.session.flush()
    db.session.rollback()


def test_delete_is_refused_by_the_database(app):
    entry = _record_some(1)[0]
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.delete(AuditEntry).where(AuditEntry.id == entry.id))
        db.session.flush()
    db.session.rollback()


def _tamper(entry_id: int, **values) -> None:
    """What an attacker with database-owner rights could do: lift the trigger, edit, put it back."""
    dialect = db.engine.dialect.name
    with db.engine.begin() as conn:
        if dialect == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_entry_no_update")
        conn.execute(sa.update(AuditEntry).where(AuditEntry.id == entry_id).values(**values))
        if dialect == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only")


def test_audit_verify_names_the_tampered_entry(app):
    entries = _record_some(4)
    _tamper(entries[2].id, details='{"i": 99}')
    result = CliRunner().invoke(app.cli, ["ecabinet", "audit-verify"])
    assert result.exit_code == 1
    assert f"BROKEN at entry {entries[2].id}" in result.output
    assert "content does not match its hash" in result.output


def test_audit_verify_detects_a_rewritten_hash(app):
    entries = _record_some(3)
    _tamper(entries[1].id, action="forged", hash="f" * 64)
    report = audit.verify_chain()
    assert not report.ok and report.first_broken_id == entries[1].id


def test_audit_verify_passes_on_a_clean_chain(app):
    _record_some(2)
    result = CliRunner().invoke(app.cli, ["ecabinet", "audit-verify"])
    assert result.exit_code == 0 and "Audit chain OK: 2 entries" in result.output


def test_admin_sees_chain_status_and_others_do_not(client, users):
    from tests.conftest import PASSWORD
    from tests.helpers import login

    login(client, "member@example.gov.vn", PASSWORD)
    assert client.get("/admin/audit/").status_code == 403
    client.post("/logout", data={"csrf_token": _token(client)})
    login(client, "admin@example.gov.vn", PASSWORD)
    page = client.get("/admin/audit/?action=login").get_data(as_text=True)
    assert "Chuỗi kiểm toán hợp lệ" in page and "login.success" in page


def _token(client) -> str:
    from tests.helpers import csrf_from

    return csrf_from(client.get("/").get_data(as_text=True))
