"""Vote ingestion benchmark: votes per second through the service layer, each committed (and audited)
before its acknowledgement, spread over many ballots; on SQLite and, when reachable, on PostgreSQL.

Each vote is ``voting.service.cast_vote``: the chain lock, the guarded status update, the participation
row (unique per voter), the vote row, the audit entry, commit. Workers are threads, each with its own app
context, session and connection. Votes that arrive while a transaction of votes is in flight are stored
together in the next one (the group commit, docs/voting.md), so more concurrent voters give larger
batches; ``batch_mean`` reports the mean batch size. PostgreSQL runs in a database of its own.

    .venv/bin/python bench/bench_votes.py                      # SQLite, then PostgreSQL if reachable
    .venv/bin/python bench/bench_votes.py --voters 200 --ballots 20 --threads 1 8 32 --json
    .venv/bin/python bench/bench_votes.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Prints numbers; no assertions. The target is >= 500 votes/s on each database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ECABINET_FAST_PASSWORD_HASH_FOR_TESTS", "1")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("ECABINET_INSTANCE_DIR", tempfile.mkdtemp(prefix="ecab-bench-votes-"))
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def build_schema(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "ecabinet", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)


def make_app(url: str, pool: int):
    from ecabinet import create_app

    options = {"pool_size": pool, "max_overflow": 0, "pool_timeout": 60}
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30, "check_same_thread": False}
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options})


def setup(app, voters: int, ballots: int, secret: bool = False) -> tuple[list[int], list[int]]:
    from ecabinet.accounts import service as accounts
    from ecabinet.accounts.models import Role
    from ecabinet.core.actor import Actor
    from ecabinet.core.types import utcnow
    from ecabinet.extensions import db
    from ecabinet.voting import service

    system = Actor.system("bench")
    with app.app_context():
        secretary = accounts.create_user(system, accounts.UserData(email="sec@bench.gov.vn", name="Thư ký",
                                                                   role=Role.SECRETARY), "bench-password-2026")
        chair = accounts.create_user(system, accounts.UserData(email="chair@bench.gov.vn", name="Chủ tọa",
                                                               role=Role.CHAIR), "bench-password-2026")
        user_ids = [chair.id]
        for n in range(voters):
            user_ids.append(accounts.create_user(system, accounts.UserData(
                email=f"m{n}@bench.gov.vn", name=f"Thành viên {n}", role=Role.MEMBER), "bench-password-2026").id)
        ballot_ids = []
        for n in range(ballots):
            b = service.create_ballot(Actor(secretary), service.BallotData(
                title=f"Phiếu {n}", kind="written", questions=["Đồng ý?"], deadline=utcnow() + timedelta(days=2),
                secret=secret))
            service.approve_ballot(Actor(chair), b)
            service.send_ballot(Actor(secretary), b)
            ballot_ids.append(b.id)
        db.session.commit()  # the services only stage: this setup is their boundary
        return user_ids, ballot_ids


def run(app, user_ids: list[int], ballot_ids: list[int], threads: int, per_ballot: int) -> dict:
    """Every (ballot, voter) pair for ``per_ballot`` voters of each ballot, interleaved over the ballots."""
    from ecabinet.accounts.models import User
    from ecabinet.core.actor import Actor
    from ecabinet.core.types import utcnow
    from ecabinet.extensions import db
    from ecabinet.voting import service

    jobs = [(b, u) for u in user_ids[:per_ballot] for b in ballot_ids]
    chunks = [jobs[i::threads] for i in range(threads)]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)

    def worker(chunk):
        mine = []
        with app.app_context():
            # Signed in already, as a request's user is before it reaches the service: loaded once, then
            # detached, so that the session holds only what the vote itself reads.
            users = {u: db.session.get(User, u) for u in {u for _b, u in chunk}}
            db.session.expunge_all()
            db.session.rollback()
            barrier.wait()
            for ballot_id, user_id in chunk:
                t0 = time.perf_counter()
                try:
                    service.cast_vote(Actor(users[user_id]), ballot_id, "agree", uuid.uuid4().hex,
                                      authenticated_at=utcnow())
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    with lock:
                        errors.append(repr(exc)[:200])
                mine.append(time.perf_counter() - t0)
            db.session.remove()
        with lock:
            latencies.extend(mine)

    batcher = app.extensions.get("ecabinet.voting.batcher")
    before = (batcher.batches, batcher.votes) if batcher else (0, 0)
    pool = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    batcher = app.extensions.get("ecabinet.voting.batcher")
    batches, batched = (batcher.batches - before[0], batcher.votes - before[1]) if batcher else (0, 0)
    return {"threads": threads, "votes": len(jobs) - len(errors), "errors": len(errors), "seconds": round(elapsed, 3),
            "votes_per_s": round((len(jobs) - len(errors)) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
            "batch_mean": round(batched / batches, 1) if batches else None,
            "sample_error": errors[0] if errors else None}


def bench(kind: str, url: str, args) -> list[dict]:
    import sqlalchemy as sa

    results = []
    for threads in args.threads:
        database = None
        if kind == "postgresql":
            # A database of its own, not a schema: the audit chain's advisory lock is per database, so
            # tests running on the shared one would otherwise hold up (and be held up by) this run.
            database = f"bench_votes_{uuid.uuid4().hex[:10]}"
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
            db_url = sa.engine.make_url(url).set(database=database).render_as_string(hide_password=False)
        else:
            db_url = f"sqlite:///{tempfile.mkdtemp(prefix='ecab-votes-')}/bench.sqlite3"
        try:
            build_schema(db_url)
            app = make_app(db_url, pool=max(2, threads + 1))
            user_ids, ballot_ids = setup(app, args.voters, args.ballots, secret=args.secret)
            result = run(app, user_ids, ballot_ids, threads, per_ballot=args.voters)
            result["database"] = kind
            result["ballots"] = args.ballots
            result["secret"] = args.secret
            results.append(result)
            print(f"{kind:10s} threads={threads:2d}  {result['votes']} votes over {args.ballots} ballots in "
                  f"{result['seconds']} s: {result['votes_per_s']} votes/s  p50 {result['p50_ms']} ms  "
                  f"p99 {result['p99_ms']} ms  batch {result['batch_mean']}  errors {result['errors']}",
                  file=sys.stderr, flush=True)
            with app.app_context():
                from ecabinet.extensions import db

                db.session.remove()
                db.engine.dispose()
        finally:
            if database:
                with engine.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE "{database}" WITH (FORCE)'))
                engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=100, help="votes per ballot (members; the chair votes too)")
    parser.add_argument("--ballots", type=int, default=20)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument("--secret", action="store_true", help="secret ballots: each vote is sealed (two HPKE layers)")
    args = parser.parse_args()
    results = bench("sqlite", "", args)
    if not args.no_postgres:
        import sqlalchemy as sa

        try:
            with sa.create_engine(args.postgres, poolclass=sa.pool.NullPool,
                                  connect_args={"connect_timeout": 3}).connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            results += bench("postgresql", args.postgres, args)
        except sa.exc.OperationalError as exc:
            print(f"PostgreSQL not reachable ({type(exc).__name__}); skipped", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
