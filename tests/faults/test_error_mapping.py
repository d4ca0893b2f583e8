"""Which failures count as "the database is unavailable" or "the disk is full", and what a request then gets."""

from __future__ import annotations

import errno
import sqlite3

import psycopg
import pytest
from sqlalchemy import exc as sa_exc

from ecabinet.core.errors import database_unavailable, disk_full


def _wrapped(orig: Exception, kind=sa_exc.OperationalError) -> Exception:
    return kind("SELECT 1", {}, orig)


@pytest.mark.parametrize(("error", "unavailable"), [
    (_wrapped(psycopg.OperationalError("connection refused")), True),  # no SQLSTATE: could not connect
    (_wrapped(psycopg.errors.AdminShutdown("terminating connection")), True),  # 57P01
    (_wrapped(psycopg.errors.QueryCanceled("statement timeout")), True),  # 57014
    (_wrapped(psycopg.errors.TooManyConnections("too many clients")), True),  # 53300
    (_wrapped(psycopg.errors.DeadlockDetected("deadlock")), False),  # 40P01: a conflict, not an outage
    (_wrapped(psycopg.errors.UniqueViolation("duplicate"), sa_exc.IntegrityError), False),
    (_wrapped(sqlite3.OperationalError("database is locked")), True),
    (_wrapped(sqlite3.OperationalError("no such table: meeting")), False),
    (sa_exc.TimeoutError("QueuePool limit reached"), True),
    (ValueError("not a database error"), False),
])
def test_database_unavailable(error, unavailable):
    assert database_unavailable(error) is unavailable


def test_a_dropped_connection_is_unavailable():
    error = _wrapped(psycopg.errors.UniqueViolation("x"), sa_exc.DBAPIError)
    error.connection_invalidated = True
    assert database_unavailable(error)


def test_disk_full():
    assert disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not disk_full(OSError(errno.EACCES, "Permission denied"))


def test_pages_and_json_say_what_failed(app, client):
    def down():
        raise _wrapped(psycopg.OperationalError("connection refused"))

    def full():
        raise OSError(errno.ENOSPC, "No space left on device")

    def no_redis():
        import redis

        raise redis.exceptions.ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    app.add_url_rule("/_test/down", "test_down", down)
    app.add_url_rule("/_test/full", "test_full", full)
    app.add_url_rule("/_test/no-redis", "test_no_redis", no_redis)
    page = client.get("/_test/down")
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "Cơ sở dữ liệu tạm thời không truy cập được" in page.get_data(as_text=True)
    as_json = client.get("/_test/down", headers={"Accept": "application/json"})
    assert as_json.status_code == 503 and as_json.json["status"] == 503 and as_json.json["error"]
    full_page = client.get("/_test/full", headers={"Accept": "application/json"})
    assert full_page.status_code == 507 and "hết dung lượng" in full_page.json["error"]
    assert client.get("/_test/no-redis", headers={"Accept": "application/json"}).status_code == 503
