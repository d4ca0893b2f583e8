"""The participation tally over real sockets, against the gevent server: votes are not numbered room
events; a burst of votes becomes fewer ``ballot.tally`` messages, the last of which counts them all."""

from __future__ import annotations

import queue
import threading
import time
import uuid

import pytest

from tests.conftest import LiveServer
from tests.voting.conftest import VOTERS, make_live


@pytest.fixture
def live_server(app, db_url, tmp_path):
    """The gevent server, sending at most one tally per ballot per second, so a burst is surely coalesced
    (``room_client`` connects to it)."""
    server = LiveServer(db_url, tmp_path, BALLOT_TALLY_SECONDS="1").start()
    yield server
    server.stop()


@pytest.fixture
def clients(room_client, quorate):
    return lambda role: room_client(f"{role}@example.gov.vn", quorate.id)


def _tallies(client):
    received = queue.Queue()
    client.sio.on("ballot.tally", received.put)
    return received


def _drain(received, until, timeout=10):
    """Every tally until one satisfies ``until`` (and whatever else arrives just after it)."""
    got, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got.append(received.get(timeout=0.2))
        except queue.Empty:
            if got and until(got[-1]):
                return got
    raise AssertionError(f"no final tally within {timeout}s: {got}")


def _burst(voters, ballot_id):
    """Every voter casts at the same moment; returns the acknowledgements."""
    acks = [None] * len(voters)

    def cast(i, client):
        acks[i] = client.call("vote.cast", ballot_id=ballot_id, choice="approve", client_vote_id=uuid.uuid4().hex)

    threads = [threading.Thread(target=cast, args=(i, c)) for i, c in enumerate(voters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return acks


def test_a_burst_of_votes_becomes_fewer_tallies_and_the_last_counts_them_all(quorate, cabinet, clients):
    ballot = make_live(quorate, cabinet)
    chair = clients("chair")
    voters = [chair] + [clients(role) for role in VOTERS if role != "chair"]
    observer = clients("secretary")
    received = _tallies(observer)
    assert chair.call("chair.open_vote", ballot_id=ballot.id)["ok"]

    acks = _burst(voters, ballot.id)
    assert all(a["ok"] for a in acks), acks
    got = _drain(received, lambda t: t["voted"] == len(voters))
    assert len(got) < len(voters)
    assert got[-1] == {**got[-1], "ballot_id": ballot.id, "voted": len(voters), "eligible": len(voters),
                       "version": len(voters), "status": "open", "running": None}
    assert [t["version"] for t in got] == sorted({t["version"] for t in got})  # only grows


def test_votes_are_not_numbered_room_events(quorate, cabinet, clients):
    ballot = make_live(quorate, cabinet)
    chair, member = clients("chair"), clients("member")
    opened = chair.call("chair.open_vote", ballot_id=ballot.id)
    ack = member.call("vote.cast", ballot_id=ballot.id, choice="approve", client_vote_id=uuid.uuid4().hex)
    assert ack["ok"] and ack["seq"] == opened["seq"]
    closed = chair.call("chair.close_vote", ballot_id=ballot.id)
    assert closed["seq"] == opened["seq"] + 1  # the close follows the open directly
    assert closed["ballot"]["voted"] == 1


def test_joining_brings_the_current_tally_of_open_ballots(quorate, cabinet, clients):
    ballot = make_live(quorate, cabinet)
    chair = clients("chair")
    chair.call("chair.open_vote", ballot_id=ballot.id)
    assert chair.call("vote.cast", ballot_id=ballot.id, choice="reject", client_vote_id=uuid.uuid4().hex)["ok"]
    late = clients("member3")
    ack = late.call("join", last_seq=0)
    assert [(t["ballot_id"], t["voted"], t["version"]) for t in ack["tallies"]] == [(ballot.id, 1, 1)]
