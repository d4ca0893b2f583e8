"""Settings from the environment reach what they configure."""

from __future__ import annotations


def test_database_pool_settings_reach_the_engine(monkeypatch):
    from ecabinet import create_app

    monkeypatch.setenv("DATABASE_POOL_SIZE", "40")
    monkeypatch.setenv("DATABASE_MAX_OVERFLOW", "60")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://ecabinet@127.0.0.1:5432/unused"})
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert (options["pool_size"], options["max_overflow"]) == (40, 60)


def test_sqlite_keeps_one_connection_per_process(monkeypatch, tmp_path):
    from ecabinet import create_app

    monkeypatch.setenv("DATABASE_POOL_SIZE", "40")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'one.sqlite3'}"})
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 1


def test_postgresql_keeps_a_fixed_pool_by_default(monkeypatch):
    """No overflow unless asked: in a burst, overflow connections were opened and closed for nearly
    every event (docs/voting.md, "Meeting both targets")."""
    from ecabinet import create_app

    monkeypatch.delenv("DATABASE_POOL_SIZE", raising=False)
    monkeypatch.delenv("DATABASE_MAX_OVERFLOW", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://ecabinet@127.0.0.1:5432/unused"})
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert (options["pool_size"], options["max_overflow"]) == (20, 0)
    # A connection is checked before use once it has rested (ecabinet/core/pool.py), not at every checkout.
    assert not options.get("pool_pre_ping")
