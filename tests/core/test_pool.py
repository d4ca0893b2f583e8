"""The pool's check of a PostgreSQL connection (ecabinet/core/pool.py), tried against a real server whose
backends are ended from outside, as a restart or an idle timeout ends them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecabinet.core import pool
from ecabinet.core.errors import database_unavailable
from ecabinet.extensions import db


@pytest.fixture
def postgres(app, database):
    if database.kind != "postgresql":
        pytest.skip("PostgreSQL's connections only: SQLite's are a file")
    return app


def _backend() -> int:
    pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
    db.session.commit()  # gives the connection back to the pool
    return pid


def _end_backend(pid: int) -> None:
    """Another connection ends this backend, as an administrator or a restart would."""
    engine = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    engine.dispose()


def _last_statement_of(pid: int) -> str:
    engine = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        query = conn.scalar(sa.text("SELECT query FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
    engine.dispose()
    return query


def test_a_connection_given_back_just_now_is_used_without_asking_the_server(postgres):
    pid = _backend()
    assert db.session.scalar(sa.text("SELECT pg_backend_pid()")) == pid
    # The backend's last statement is this one's: no "SELECT 1" came before it.
    assert _last_statement_of(pid) == "SELECT pg_backend_pid()"


def test_a_rested_connection_is_asked_first_and_replaced_when_gone(postgres, monkeypatch):
    pid = _backend()
    _end_backend(pid)
    monkeypatch.setattr(pool, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has rested long enough
    # The check finds it gone: the pool connects afresh and the statement runs, with no error.
    assert db.session.scalar(sa.text("SELECT 42")) == 42
    assert _backend() != pid


def test_a_rested_connection_that_answers_is_kept(postgres, monkeypatch):
    pid = _backend()
    monkeypatch.setattr(pool, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend() == pid
    db.session.scalar(sa.text("SELECT pg_backend_pid()"))
    db.session.rollback()


def test_a_connection_lost_in_use_fails_as_unavailable_and_renews_the_pool(postgres):
    first = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
    with db.engine.connect() as conn:  # a second pooled connection, also from before the loss
        second = conn.scalar(sa.text("SELECT pg_backend_pid()"))
    db.session.commit()
    assert first != second
    _end_backend(first)
    _end_backend(second)
    with pytest.raises(sa.exc.DBAPIError) as failed:
        db.session.scalar(sa.text("SELECT 1"))
    db.session.rollback()
    # The caller answers "unavailable" (the client tries again), and no dead connection is given out again.
    assert database_unavailable(failed.value)
    assert failed.value.connection_invalidated
    for _ in range(3):
        assert _backend() not in (first, second)
