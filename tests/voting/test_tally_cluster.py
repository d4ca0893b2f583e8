"""Two instances behind one Redis: votes of one ballot come through both, and the room still gets at most
one ``ballot.tally`` per window (the window is claimed in Redis), the last counting every vote."""

from __future__ import annotations

import time

import pytest

from tests.conftest import LiveServer
from tests.live.conftest import RoomClient
from tests.voting.conftest import VOTERS, make_live
from tests.voting.test_tally import _burst, _drain, _tallies

WINDOW_S = 1.0


@pytest.fixture
def cluster(app, db_url, tmp_path, redis_url):
    servers = [LiveServer(db_url, tmp_path, REDIS_URL=redis_url, BALLOT_TALLY_SECONDS=str(WINDOW_S)).start()
               for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


def test_votes_through_two_instances_make_one_tally_per_window(quorate, cabinet, cluster):
    ballot = make_live(quorate, cabinet)
    clients: list[RoomClient] = []
    try:
        for n, role in enumerate([*VOTERS, "secretary"]):
            client = RoomClient(cluster[n % 2].url, f"{role}@example.gov.vn", quorate.id).connect()
            client.join()
            clients.append(client)
        voters, observer = clients[:-1], clients[-1]
        received = _tallies(observer)
        assert voters[0].call("chair.open_vote", ballot_id=ballot.id)["ok"]
        time.sleep(0.3)  # the open event reaches every socket first

        acks = _burst(voters, ballot.id)  # half of them through each instance, at the same moment
        assert all(a["ok"] for a in acks), acks
        got = _drain(received, lambda t: t["voted"] == len(voters), timeout=15)
        sent = [t["sent_at"] for t in got]
        gaps = [round(b - a, 3) for a, b in zip(sent, sent[1:], strict=False)]
        # Without the claim both instances would send within milliseconds of each other.
        assert all(gap >= 0.8 * WINDOW_S for gap in gaps), (gaps, got)
        assert got[-1]["voted"] == len(voters) and got[-1]["version"] == len(voters)
    finally:
        for client in clients:
            client.close()
