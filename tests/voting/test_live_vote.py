"""A live vote over real sockets, against the gevent server: the chair opens it, members vote (ack after
commit, with a receipt), the participation tally (``ballot.tally``) reaches the other tablets, the chair closes it, and
everyone receives the result."""

from __future__ import annotations

import queue
import uuid

from tests.voting.conftest import make_live


def _typed(kind):
    return lambda e: e["type"] == kind


def test_live_vote_over_sockets(quorate, cabinet, room_client):
    ballot = make_live(quorate, cabinet)
    mid = quorate.id
    chair = room_client("chair@example.gov.vn", mid)
    member = room_client("member@example.gov.vn", mid)
    member2 = room_client("member2@example.gov.vn", mid)
    tallies = queue.Queue()
    member2.sio.on("ballot.tally", tallies.put)

    listed = member.call("vote.list")
    assert listed["ok"] and listed["ballots"] == []  # a draft is not shown to members
    assert [b["ballot_id"] for b in chair.call("vote.list")["ballots"]] == [ballot.id]

    assert member.call("chair.open_vote", ballot_id=ballot.id)["error"] == "not_found"  # a draft is hidden
    opened = chair.call("chair.open_vote", ballot_id=ballot.id)
    assert opened["ok"] and opened["ballot"]["status"] == "open"
    event = member2.wait_for(_typed("ballot.open"))
    assert event["payload"]["ballot"] == {**event["payload"]["ballot"], "status": "open", "voted": 0, "eligible": 4}
    assert "title" not in event["payload"]["ballot"]

    key = uuid.uuid4().hex
    ack = member.call("vote.cast", ballot_id=ballot.id, choice="approve", client_vote_id=key)
    assert ack["ok"] and len(ack["receipt"]) == 9 and ack["seq"] == event["seq"]  # a vote is not a room event
    tally = tallies.get(timeout=10)
    assert (tally["ballot_id"], tally["voted"], tally["eligible"], tally["version"]) == (ballot.id, 1, 4, 1)
    assert tally["running"] is None  # not configured: participation only

    retry = member.call("vote.cast", ballot_id=ballot.id, choice="approve", client_vote_id=key)
    assert retry["ok"] and retry["receipt"] == ack["receipt"] and retry["repeated"]

    refused = member2.call("vote.cast", ballot_id=ballot.id, choice="maybe", client_vote_id=uuid.uuid4().hex)
    assert refused["ok"] is False and refused["error"] == "refused" and refused["message"]
    assert member2.call("vote.cast", ballot_id=ballot.id, choice="reject", client_vote_id=uuid.uuid4().hex)["ok"]

    closed = chair.call("chair.close_vote", ballot_id=ballot.id)
    assert closed["ok"] and closed["ballot"]["status"] == "closed"
    for client in (member, member2):
        result = client.wait_for(_typed("ballot.close"))["payload"]["ballot"]
        assert result["result"]["outcome"] == "rejected"  # 1 to 1: a tie does not adopt
        assert result["result"]["questions"][0]["counts"] == {"approve": 1, "reject": 1, "abstain": 0}
        assert result["item_outcome"] == "rejected_by_vote"

    # The server cached this ballot's facts while it was open: the policy still admits the ballot exists
    # (closing does not change who may see it) and the vote is refused with a message, not lost.
    late = member.call("vote.cast", ballot_id=ballot.id, choice="approve", client_vote_id=uuid.uuid4().hex)
    assert late["ok"] is False and late["error"] == "refused" and late["message"]


def test_forged_ballot_id_over_socket(quorate, cabinet, room_client):
    member = room_client("member@example.gov.vn", quorate.id)
    ack = member.call("vote.cast", ballot_id=987654, choice="approve", client_vote_id=uuid.uuid4().hex)
    assert ack == {"ok": False, "error": "not_found"}


def test_secret_live_vote_is_counted_by_the_chair_and_the_secretariat(quorate, cabinet, room_client):
    """The chair's close opens the chair's layer with the key the chair's session carries; the room sees
    the ballot being counted; the secretariat's one tap on the ballot page opens the last layer, and
    the result reaches every tablet."""
    from tests.helpers import csrf_from

    ballot = make_live(quorate, cabinet, secret=True)
    chair = room_client("chair@example.gov.vn", quorate.id)
    member = room_client("member@example.gov.vn", quorate.id)
    secretary = room_client("secretary@example.gov.vn", quorate.id)
    assert chair.call("chair.open_vote", ballot_id=ballot.id)["ok"]
    for client, choice in ((member, "reject"), (chair, "approve")):
        assert client.call("vote.cast", ballot_id=ballot.id, choice=choice, client_vote_id=uuid.uuid4().hex)["ok"]

    closed = chair.call("chair.close_vote", ballot_id=ballot.id)
    assert closed["ok"] and closed["ballot"]["status"] == "counting" and closed["ballot"]["result"] is None
    assert closed["ballot"]["counting"] == {"layers": 2, "opened": 1, "next": "secretariat"}
    unsealed = member.wait_for(_typed("ballot.unseal"))["payload"]["ballot"]
    assert unsealed["status"] == "counting" and unsealed["result"] is None

    page = secretary.http.get(f"{secretary.base_url}/ballots/{ballot.id}", timeout=10).text
    r = secretary.http.post(f"{secretary.base_url}/ballots/{ballot.id}/open-seal",
                            data={"csrf_token": csrf_from(page)}, timeout=10, allow_redirects=False)
    assert r.status_code == 302
    result = member.wait_for(_typed("ballot.close"))["payload"]["ballot"]
    assert result["status"] == "closed"
    assert result["result"]["questions"][0]["counts"] == {"approve": 1, "reject": 1, "abstain": 0}


def test_a_join_answer_lists_the_ballots_the_reader_may_see(quorate, cabinet, room_client):
    """The room takes the ballots list from the join's answer (no ``vote.list`` round trip per tablet):
    the same list, for the same reader, as ``vote.list`` gives, after a snapshot and after a replay."""
    ballot = make_live(quorate, cabinet)
    mid = quorate.id
    chair = room_client("chair@example.gov.vn", mid, join=False)
    member = room_client("member@example.gov.vn", mid, join=False)

    first = member.join()
    assert first["ballots"] == [] == member.call("vote.list")["ballots"]  # a draft is not shown to members
    chair_join = chair.join()
    assert [b["ballot_id"] for b in chair_join["ballots"]] == [ballot.id]
    assert chair_join["ballots"] == chair.call("vote.list")["ballots"]

    assert chair.call("chair.open_vote", ballot_id=ballot.id)["ok"]
    assert member.call("vote.cast", ballot_id=ballot.id, choice="approve", client_vote_id=uuid.uuid4().hex)["ok"]
    replayed = member.join(last_seq=first["snapshot"]["seq"])
    assert "events" in replayed and "snapshot" not in replayed
    [seen] = replayed["ballots"]
    assert (seen["ballot_id"], seen["status"], seen["voted_me"]) == (ballot.id, "open", True)
    assert replayed["ballots"] == member.call("vote.list")["ballots"]
