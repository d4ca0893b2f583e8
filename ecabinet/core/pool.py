"""The database pool's check of a PostgreSQL connection before it is used.

SQLAlchemy's ``pool_pre_ping`` asks the server at every checkout, and every request, socket event and
commit checks a connection out: one round trip more for each of them (a tablet rejoining its meeting
made eight where seven do the work). A connection given back moments ago was answering then; the
one that needs asking has sat in the pool long enough for the server to have gone away meanwhile
(a restart, an idle timeout, a failover). If the server restarts while connections are in use, the
first statement on each one fails as a lost connection, SQLAlchemy then renews every connection of
the pool, and the request is answered "unavailable" for the client to try again (as it would be
while the database is down).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import Pool

# PostgreSQL's SQLSTATEs for a connection that is gone: class 08 (connection exception), and the server
# shutting down or starting (57P01-57P03). psycopg gives none when the socket itself failed.
_LOST_CLASS, _LOST_STATES = "08", ("57P01", "57P02", "57P03")
# How long a connection may rest in the pool and still be used without asking the server first.
PING_AFTER_IDLE_SECONDS = 5.0
_RESTED_SINCE = "ecabinet_rested_since"


def _psycopg(thing: Any) -> bool:
    """Whether a connection or an error comes from psycopg (PostgreSQL), not sqlite3."""
    return thing is not None and type(thing).__module__.startswith("psycopg")


@event.listens_for(Pool, "connect")
def _connected(dbapi_connection: Any, record: Any) -> None:
    record.info[_RESTED_SINCE] = time.monotonic()  # it has just answered


@event.listens_for(Pool, "checkin")
def _given_back(dbapi_connection: Any, record: Any) -> None:
    if dbapi_connection is not None:
        record.info[_RESTED_SINCE] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ask_if_rested(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    if not _psycopg(dbapi_connection):
        return  # SQLite: a file, nothing to lose in between
    since = record.info.get(_RESTED_SINCE)
    if since is not None and time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        # Outside a transaction, as SQLAlchemy's own ping: no BEGIN and no ROLLBACK round trips.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            dbapi_connection.execute("SELECT 1").close()
        finally:
            if not dbapi_connection.closed:
                dbapi_connection.autocommit = autocommit
    except Exception as exc:  # noqa: BLE001 - any failure means this connection is not usable
        # The pool throws this connection away and checks out a fresh one (or fails to connect, which
        # the caller answers as "unavailable").
        raise DisconnectionError(f"the pooled connection did not answer: {exc}") from exc


@event.listens_for(Engine, "handle_error")
def _lost_connection(context: Any) -> None:
    """A statement that failed because its connection is gone renews the pool, whatever words the
    driver used for it: SQLAlchemy recognises the usual messages; the SQLSTATE settles the rest, so no
    connection known to be dead is given out again without the check above."""
    error = context.original_exception
    if context.is_disconnect or not _psycopg(error):
        return
    import psycopg

    if not isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        return
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate is None or sqlstate.startswith(_LOST_CLASS) or sqlstate in _LOST_STATES:
        context.is_disconnect = True
