"""kill -9 of the app server in the middle of a live ballot, with thirty tablets voting over real sockets.

Proves: every vote acknowledged before the kill is stored; after a restart the tablets reconnect, resync
from their last event number without a gap, retry their unacknowledged votes with the same client vote
id (a vote stored whose acknowledgement was lost is recognised, not counted twice); the chair closes
the ballot and its result is exactly the acknowledged votes, as ``verify_ballot`` and
``flask ecabinet verify-ballot`` confirm; a tablet that never comes back is not shown online (the new
instance forgets the dead one's connections).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from ecabinet.extensions import db
from ecabinet.live.models import LiveConnection
from ecabinet.voting import service as voting
from ecabinet.voting.models import BallotParticipation
from tests.conftest import ROOT, LiveServer
from tests.faults.conftest import kill_hard
from tests.live.conftest import RoomClient

pytestmark = pytest.mark.timeout(150)

CALL_TIMEOUT = 5


def _last_seq(client: RoomClient, joined: dict) -> int:
    seqs = [e["seq"] for e in client.received]
    if "snapshot" in joined:
        seqs.append(joined["snapshot"]["seq"])
    seqs.extend(e["seq"] for e in joined.get("events", []))
    return max(seqs)


def _voted_ids(ballot_id: int) -> set[int]:
    db.session.rollback()
    return set(db.session.scalars(select(BallotParticipation.voter_id)
                                  .where(BallotParticipation.ballot_id == ballot_id)))


def test_kill_9_during_a_live_ballot(app, db_url, tmp_path, voting_meeting):
    meeting, ballot, people = voting_meeting
    meeting_id, ballot_id = meeting.id, ballot.id
    voter_ids = {e: u.id for e, u in people.items()}
    members = sorted(e for e in people if e.startswith("member"))
    choices = {e: ("reject" if i % 3 == 0 else "approve") for i, e in enumerate(members)}
    keys = {e: uuid.uuid4().hex for e in members}
    server = LiveServer(db_url, tmp_path).start()
    clients: dict[str, RoomClient] = {}
    joined: dict[str, dict] = {}
    try:
        def enter(email: str) -> None:
            clients[email] = RoomClient(server.url, email, meeting_id).connect()
            joined[email] = clients[email].join()

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(enter, members))

        acked: dict[str, str] = {}
        lock = threading.Lock()
        go = threading.Event()

        def vote(email: str) -> None:
            go.wait()
            time.sleep(random.uniform(0, 1.5))
            try:
                ack = clients[email].sio.call("vote.cast", {"meeting_id": meeting_id, "ballot_id": ballot_id,
                                                            "choice": choices[email],
                                                            "client_vote_id": keys[email]}, timeout=CALL_TIMEOUT)
            except Exception:  # noqa: BLE001 - the server died under this call: not acknowledged
                return
            if ack.get("ok"):
                with lock:
                    acked[email] = ack["receipt"]

        threads = [threading.Thread(target=vote, args=(e,)) for e in members]
        for t in threads:
            t.start()
        go.set()
        deadline = time.monotonic() + 20
        while len(acked) < 10 and time.monotonic() < deadline:
            time.sleep(0.005)
        kill_hard(server)
        for t in threads:
            t.join(CALL_TIMEOUT + 5)
        acked_before_kill = dict(acked)
        assert 10 <= len(acked_before_kill) < len(members), "the kill must land in the middle of the vote"

        # With the server dead: every acknowledged vote is in the database.
        stored = _voted_ids(ballot_id)
        assert {voter_ids[e] for e in acked_before_kill} <= stored

        # One tablet never comes back; the others reconnect to the restarted server and resync.
        leaver = sorted(acked_before_kill)[0]
        clients.pop(leaver).close()
        server.log = tmp_path / "server-restarted.log"
        server.start()
        back = sorted(clients)
        resumed: dict[str, dict] = {}

        def rejoin(email: str) -> None:
            client = clients[email]
            last = _last_seq(client, joined[email])
            client.close()
            client.connect()
            answer = client.join(last_seq=last)
            seqs = [e["seq"] for e in answer.get("events", [])]
            assert seqs == list(range(last + 1, last + 1 + len(seqs))), (last, seqs)  # no gap, no repeat
            resumed[email] = answer

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(rejoin, back))

        # Unacknowledged votes are retried with the same client vote id: stored ones are recognised.
        receipts = {e: acked_before_kill[e] for e in acked_before_kill}
        for email in back:
            ack = clients[email].call("vote.cast", ballot_id=ballot_id, choice=choices[email],
                                      client_vote_id=keys[email])
            assert ack["ok"], ack
            if email in acked_before_kill:
                assert ack["repeated"] and ack["receipt"] == acked_before_kill[email]
            elif voter_ids[email] in stored:
                assert ack["repeated"]  # committed just before the kill; only its acknowledgement was lost
            receipts[email] = ack["receipt"]

        chair = RoomClient(server.url, "chair@example.gov.vn", meeting_id).connect()
        clients["chair@example.gov.vn"] = chair
        chair.join()
        closed = chair.call("chair.close_vote", ballot_id=ballot_id)
        assert closed["ok"], closed
        counts = closed["ballot"]["result"]["questions"][0]["counts"]
        expected = {"approve": 0, "reject": 0, "abstain": 0}
        for email in receipts:
            expected[choices[email]] += 1
        assert counts == expected

        db.session.rollback()
        closed_ballot = voting.get_ballot(ballot_id)
        assert {r["receipt"] for r in voting.published_receipts(closed_ballot)} == set(receipts.values())
        report = voting.verify_ballot(ballot_id)
        assert report.ok, report.lines
        cli = subprocess.run([sys.executable, "-m", "ecabinet", "ecabinet", "verify-ballot", str(ballot_id)],
                             cwd=ROOT, env={**os.environ, "DATABASE_URL": db_url}, capture_output=True, text=True,
                             timeout=60)
        assert cli.returncode == 0 and "verified" in cli.stdout, cli.stdout + cli.stderr

        # The dead instance's connections are forgotten: the leaver is not shown online.
        leaver_id = voter_ids[leaver]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            db.session.rollback()
            if db.session.scalar(select(LiveConnection.sid).where(LiveConnection.user_id == leaver_id)) is None:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the killed instance's connection of the leaver was never removed")
        watcher, present = clients[back[0]], {voter_ids[e] for e in back}

        def latest() -> set[int]:
            seen = [p for p in watcher.presence if p["meeting_id"] == meeting_id]
            return set(seen[-1]["online"]) if seen else set()

        deadline = time.monotonic() + 5
        while not latest() >= present and time.monotonic() < deadline:
            time.sleep(0.1)
        assert latest() >= present and leaver_id not in latest()
    finally:
        for client in clients.values():
            client.close()
        server.stop()
