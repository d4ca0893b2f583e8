"""Real concurrency: threads, each with its own app context, session and connection. On PostgreSQL
they run in parallel; on SQLite the database serialises the writers, and the outcome must be the same."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from ecabinet.voting import service
from ecabinet.voting.models import Ballot, BallotParticipation, BallotVote
from ecabinet.voting.service import VotingError
from tests.voting.conftest import cvid


def _run_in_threads(app, functions):
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def worker(i, fn):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = ("ok", fn())
            except VotingError as exc:
                results[i] = ("refused", str(exc))
            except Exception as exc:  # noqa: BLE001 - reported by the assertion
                results[i] = ("error", repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(functions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _counts(ballot_id):
    db.session.rollback()
    votes = db.session.scalar(select(func.count()).select_from(BallotVote).where(BallotVote.ballot_id == ballot_id))
    parts = db.session.scalar(select(func.count()).select_from(BallotParticipation)
                              .where(BallotParticipation.ballot_id == ballot_id))
    cast = db.session.scalar(select(Ballot.votes_cast).where(Ballot.id == ballot_id))
    return votes, parts, cast


def test_twenty_concurrent_identical_casts_are_one_vote(app, live_open, cabinet):
    user_id, ballot_id, key = cabinet["member"].id, live_open.id, cvid()

    def cast():
        from ecabinet.accounts.models import User

        return service.cast_vote(Actor(db.session.get(User, user_id), "127.0.0.1"), ballot_id, "approve", key).code

    results = _run_in_threads(app, [cast] * 20)
    assert all(kind == "ok" for kind, _ in results), results
    assert len({code for _, code in results}) == 1
    assert _counts(ballot_id) == (1, 1, 1)


def test_votes_racing_the_close_are_counted_or_refused_never_lost(app, live_open, cabinet):
    """Three members vote while the chair closes: every acknowledged vote is in the result; every other
    one was refused with a message."""
    ballot_id = live_open.id
    voters = {role: cabinet[role].id for role in ("member", "member2", "member3")}
    chair_id = cabinet["chair"].id

    def cast(user_id):
        def run():
            from ecabinet.accounts.models import User

            return service.cast_vote(Actor(db.session.get(User, user_id)), ballot_id, "approve", cvid()).code
        return run

    def close():
        from ecabinet.accounts.models import User

        result = service.close_ballot(Actor(db.session.get(User, chair_id)), db.session.get(Ballot, ballot_id))
        db.session.commit()  # the close's boundary (a request would commit it)
        return result

    for _ in range(3):
        results = _run_in_threads(app, [cast(uid) for uid in voters.values()] + [close])
        assert all(kind in ("ok", "refused") for kind, _ in results), results
        if results[-1][0] == "ok":
            break
    acknowledged = [code for kind, code in results[:-1] if kind == "ok"]
    refused = [msg for kind, msg in results[:-1] if kind == "refused"]
    assert all("closed" in msg for msg in refused)
    db.session.rollback()
    ballot = db.session.get(Ballot, ballot_id)
    published = {r["receipt"] for r in service.published_receipts(ballot)}
    assert set(acknowledged) == published
    assert ballot.result_data["voted"] == len(acknowledged)
    assert len(acknowledged) + len(refused) == 3


def test_concurrent_votes_of_different_members_all_count(app, live_open, cabinet):
    ids = [cabinet[r].id for r in ("chair", "member", "member2", "member3")]

    def cast(user_id):
        def run():
            from ecabinet.accounts.models import User

            return service.cast_vote(Actor(db.session.get(User, user_id)), live_open.id, "approve", cvid()).code
        return run

    results = _run_in_threads(app, [cast(u) for u in ids])
    assert all(kind == "ok" for kind, _ in results), results
    assert _counts(live_open.id) == (4, 4, 4)
