"""Admission to the live room (ecabinet/core/admission.py): a storm of connections waits at its gate,
not in the database pool, and one that waits too long is told to try again, never left hanging."""

from __future__ import annotations

import threading
import time

import pytest
import requests
import socketio
import sqlalchemy as sa

from ecabinet.core.admission import Busy, Gate
from ecabinet.extensions import db
from tests.conftest import PASSWORD, LiveServer
from tests.helpers import cookie_header, http_login


def test_a_gate_lets_in_its_size_and_refuses_after_its_wait():
    gate = Gate(2, wait=0.2)
    with gate.admitted(), gate.admitted():
        started = time.monotonic()
        with pytest.raises(Busy), gate.admitted():
            pass
        assert time.monotonic() - started >= 0.2
        assert gate.waiting == 0
    with gate.admitted():  # the places came back
        pass


def test_a_waiting_caller_gets_the_place_given_back():
    gate = Gate(1, wait=5)
    entered = threading.Event()
    order: list[str] = []

    def second() -> None:
        with gate.admitted():
            order.append("second")

    with gate.admitted():
        thread = threading.Thread(target=second)
        thread.start()
        while gate.waiting == 0:
            time.sleep(0.01)
        order.append("first")
        entered.set()
    thread.join(5)
    assert order == ["first", "second"]


@pytest.fixture
def gated_server(app, db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        # SQLite waits for its write lock inside the C library, which stops the whole gevent worker: the
        # gate cannot be held from outside without freezing the instance. (Its pool of one connection
        # admits one handler at a time anyway.)
        pytest.skip("PostgreSQL: a lock held from outside stops a SQLite instance altogether")
    server = LiveServer(db_url, tmp_path, LIVE_ADMISSION_SLOTS="1", LIVE_ADMISSION_WAIT="1").start()
    yield server
    server.stop()


class _TableLock:
    """Another client of the database holding the live room's connection table: a connection being
    registered waits for it, holding its place at the gate."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.conn = self.engine.connect()

    def __enter__(self) -> _TableLock:
        if self.engine.dialect.name == "postgresql":
            self.conn.exec_driver_sql("LOCK TABLE live_connection IN EXCLUSIVE MODE")
        else:
            self.conn.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite: the one writer
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.rollback()
        self.conn.close()
        self.engine.dispose()


def _client(url: str) -> socketio.Client:
    return socketio.Client(reconnection=False, websocket_extra_options={"origin": url})


def test_a_connection_storm_waits_at_the_gate_and_the_late_are_told_to_try_again(gated_server, db_url, in_session,
                                                                                  cabinet):
    url = gated_server.url
    db.session.commit()
    first_headers = {"Cookie": cookie_header(http_login(url, cabinet["member"].email, PASSWORD))}
    second_headers = {"Cookie": cookie_header(http_login(url, cabinet["chair"].email, PASSWORD))}
    first, second = _client(url), _client(url)
    refusals: list[object] = []
    second.on("connect_error", refusals.append)
    outcome: list[object] = []
    try:
        with _TableLock(db_url) as lock:
            def connect_first() -> None:
                try:
                    first.connect(url, headers=first_headers, transports=["websocket"], wait_timeout=30)
                    outcome.append("connected")
                except Exception as exc:  # noqa: BLE001 - reported by the assertion
                    outcome.append(repr(exc))

            thread = threading.Thread(target=connect_first)
            thread.start()
            time.sleep(1.0)  # the first connection now holds the gate's one place, waiting for the table
            assert outcome == []
            started = time.monotonic()
            with pytest.raises(socketio.exceptions.ConnectionError):
                second.connect(url, headers=second_headers, transports=["websocket"], wait_timeout=10)
            waited = time.monotonic() - started
            # Told at once after the gate's wait (1 s), with the reason the tablet retries on.
            assert 0.8 <= waited < 8, waited
            assert refusals and "unavailable" in str(refusals[-1]), refusals
            if lock.engine.dialect.name == "postgresql":
                # The rest of the pool is free: the health check answers while the storm waits.
                assert requests.get(url + "/healthz", timeout=5).status_code == 200
        thread.join(30)
        assert outcome == ["connected"]
        # Once the storm has passed, the refused tablet's next try gets in and joins.
        second.connect(url, headers=second_headers, transports=["websocket"], wait_timeout=10)
        assert second.call("join", {"meeting_id": in_session.id, "last_seq": None}, timeout=15)["ok"]
        assert first.call("join", {"meeting_id": in_session.id, "last_seq": None}, timeout=15)["ok"]
    finally:
        for client in (first, second):
            if client.connected:
                client.disconnect()
