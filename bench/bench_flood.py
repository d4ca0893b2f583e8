"""Floods held off: a real server (gunicorn + gevent, as bench/live_load.py starts it), 30 tablets in a
meeting, one member sending ``comment.post`` at full speed.

Measured:
- the chair's ``chair.set_item`` as the other tablets see it (emit to arrival of ``agenda.current_item``
  at each tablet), p50/p99, quiet and during the flood: target p99 during ≤ 2× quiet;
- what the flood got: answers ok / rate_limited, comments stored;
- the audit log's growth from 2,000 foreign-Origin handshakes from one address, spread over
  ``--handshake-seconds`` (default 70, past one 60 s aggregation interval): target a few entries per
  minute per source.

    .venv/bin/python bench/bench_flood.py [--postgres URL --redis URL] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from live_load import (
    ROOT,
    USER_AGENT,
    BenchSocket,
    Database,
    Server,
    log,
    percentile,
    populate,
    raise_nofile,
    server_environment,
    sign_in,
)

TABLETS = 30
ROUNDS = 15
FLOOD_CONCURRENCY = 20  # the flooder's calls in flight at once: as fast as the server answers


def _ms(values: list[float], p: float) -> float | None:
    found = percentile(values, p)
    return round(found * 1000, 1) if found is not None else None


async def chair_rounds(chair: BenchSocket, arrivals: dict[int, list[float]], meeting_id: int,
                       item_ids: list[int], rounds: int, n_tablets: int) -> list[float]:
    """Move the current item ``rounds`` times; the delays, emit to each tablet's arrival."""
    delays: list[float] = []
    for r in range(rounds):
        sent = time.perf_counter()
        ack = await chair.call("chair.set_item", {"meeting_id": meeting_id, "item_id": item_ids[r % len(item_ids)]})
        if not ack.get("ok"):
            raise RuntimeError(f"chair.set_item refused: {ack}")
        seq = ack["seq"]
        deadline = time.perf_counter() + 30
        while len(arrivals.get(seq, [])) < n_tablets and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        delays += [at - sent for at in arrivals.get(seq, [])]
        await asyncio.sleep(0.3)
    return delays


async def run(args: argparse.Namespace, server: Server, setup: dict[str, Any], result: dict[str, Any]) -> None:
    import aiohttp

    meeting_id, item_ids = setup["meeting_id"], setup["item_ids"]
    http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(), headers={"User-Agent": USER_AGENT},
                                 timeout=aiohttp.ClientTimeout(total=120))
    arrivals: dict[int, list[float]] = {}
    sockets: list[BenchSocket] = []
    try:
        cookies = [await sign_in(http, server.url, email) for email in setup["members"]]
        chair = BenchSocket("lean", http, await sign_in(http, server.url, setup["chair"]))
        await chair.open(server.url, meeting_id)
        flooder = BenchSocket("lean", http, cookies[0])
        await flooder.open(server.url, meeting_id)

        def arrived(data: dict[str, Any]) -> None:
            if data.get("type") == "agenda.current_item":
                arrivals.setdefault(data["seq"], []).append(time.perf_counter())

        for cookie in cookies[1:]:
            tablet = BenchSocket("lean", http, cookie)
            tablet.on("event", arrived)
            await tablet.open(server.url, meeting_id)
            sockets.append(tablet)
        n = len(sockets)
        log(f"{n} tablets, the chair and the flooder joined")

        quiet = await chair_rounds(chair, arrivals, meeting_id, item_ids, args.rounds, n)
        answers: dict[str, int] = {}
        stop = asyncio.Event()

        current = {"socket": flooder}
        reconnecting = asyncio.Lock()

        async def reconnect(closed: BenchSocket) -> None:
            """The server closes a socket that ignores retry_after; a hostile client opens another."""
            async with reconnecting:
                if current["socket"] is not closed:
                    return
                fresh = BenchSocket("lean", http, cookies[0])
                await fresh.open(server.url, meeting_id)
                current["socket"] = fresh
                answers["reconnected"] = answers.get("reconnected", 0) + 1

        async def flood(worker: int) -> None:
            k = 0
            while not stop.is_set():
                k += 1
                sock = current["socket"]
                try:
                    ack = await sock.call("comment.post", {
                        "meeting_id": meeting_id, "item_id": item_ids[0], "body": "flood",
                        "client_id": f"flood-{worker}-{k:08d}"}, timeout=5)
                    key = "ok" if ack.get("ok") else ack.get("error", "?")
                except Exception as exc:  # noqa: BLE001 - counted; a closed socket is opened again
                    key = type(exc).__name__
                    try:
                        await reconnect(sock)
                    except Exception as again:  # noqa: BLE001 - counted, and tried again shortly
                        answers[type(again).__name__] = answers.get(type(again).__name__, 0) + 1
                        await asyncio.sleep(0.5)
                answers[key] = answers.get(key, 0) + 1

        flood_started = time.perf_counter()
        flooders = [asyncio.create_task(flood(w)) for w in range(FLOOD_CONCURRENCY)]
        await asyncio.sleep(1.0)  # the flood is under way before the chair acts
        during = await chair_rounds(chair, arrivals, meeting_id, item_ids, args.rounds, n)
        stop.set()
        await asyncio.gather(*flooders)
        flood_s = time.perf_counter() - flood_started
        result["chair_action"] = {
            "quiet_p50_ms": _ms(quiet, 50), "quiet_p99_ms": _ms(quiet, 99),
            "flood_p50_ms": _ms(during, 50), "flood_p99_ms": _ms(during, 99), "samples": [len(quiet), len(during)]}
        q99, f99 = percentile(quiet, 99), percentile(during, 99)
        result["chair_action"]["ratio_p99"] = round(f99 / q99, 2) if q99 and f99 else None
        result["flood"] = {"seconds": round(flood_s, 1), "answers": answers,
                           "answers_per_s": round(sum(answers.values()) / flood_s)}
        log(f"chair action {result['chair_action']}; flood {result['flood']}")

        # Foreign-Origin handshakes, all from this address, spread over the interval.
        before = audit_count()
        spread = args.handshake_seconds / args.handshakes
        statuses: dict[int, int] = {}
        t0 = time.perf_counter()
        for i in range(args.handshakes):
            async with http.get(server.url + "/socket.io/?EIO=4&transport=polling",
                                headers={"Origin": "https://evil.example"}) as r:
                statuses[r.status] = statuses.get(r.status, 0) + 1
            await asyncio.sleep(max(0.0, t0 + (i + 1) * spread - time.perf_counter()))
        await asyncio.sleep(20)  # the flusher writes an ended interval within a quarter of it
        elapsed = time.perf_counter() - t0
        entries = audit_count() - before
        result["refused_handshakes"] = {"handshakes": args.handshakes, "statuses": statuses,
                                        "seconds": round(elapsed, 1), "audit_entries": entries,
                                        "entries_per_minute": round(entries / (elapsed / 60), 2),
                                        "counted": audit_counted()}
        log(f"refused handshakes {result['refused_handshakes']}")
        result["comments_stored"] = comments_stored()
        for sock in [chair, flooder, *sockets]:  # the flooder's last socket closes with the server
            with contextlib.suppress(Exception):
                await sock.disconnect()
    finally:
        await http.close()


def _engine():  # noqa: ANN202
    import os

    import sqlalchemy as sa

    return sa.create_engine(os.environ["DATABASE_URL"], poolclass=sa.pool.NullPool)


def audit_count() -> int:
    import sqlalchemy as sa

    with _engine().connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM audit_entry WHERE action = 'security.socket_refused'")
                            ).scalar_one()


def audit_counted() -> int:
    """The refusals the entries account for (their ``details.count``)."""
    import sqlalchemy as sa

    with _engine().connect() as conn:
        rows = conn.execute(sa.text("SELECT details FROM audit_entry WHERE action = 'security.socket_refused'"))
        return sum(json.loads(d).get("count", 1) for (d,) in rows)


def comments_stored() -> int:
    import sqlalchemy as sa

    with _engine().connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM live_comment")).scalar_one()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL (127.0.0.1); SQLite when absent")
    parser.add_argument("--redis", help="a Redis URL (127.0.0.1), the Socket.IO message queue")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--handshakes", type=int, default=2000)
    parser.add_argument("--handshake-seconds", type=float, default=70.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="ecabinet-flood-"))
    database = Database(workdir, args.postgres)
    env = server_environment(workdir, database, args.redis, "ecabinet-flood")
    sys.path.insert(0, str(ROOT))
    result: dict[str, Any] = {"benchmark": "bench_flood", "database": "postgresql" if args.postgres else "sqlite",
                              "redis": bool(args.redis), "tablets": TABLETS}
    server: Server | None = None
    try:
        database.create(env)
        setup = populate(TABLETS)
        server = Server(env, workdir, 1000)
        server.start()
        asyncio.run(run(args, server, setup, result))
    except Exception as exc:  # noqa: BLE001 - reported in the output
        result["error"] = f"{type(exc).__name__}: {exc}"
        if server is not None:
            log("server log tail:\n" + server.tail(1500))
    finally:
        if server is not None:
            server.stop()
        with contextlib.suppress(Exception):
            database.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    ratio = (result.get("chair_action") or {}).get("ratio_p99")
    result["verdicts"] = [
        {"what": "chair action p99, flood / quiet", "value": ratio, "target": "≤ 2", "met": ratio is not None
         and ratio <= 2},
        {"what": "audit entries per minute, one source", "target": "a few",
         "value": (result.get("refused_handshakes") or {}).get("entries_per_minute"),
         "met": ((result.get("refused_handshakes") or {}).get("entries_per_minute") or 99) <= 5},
    ]
    print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else result)
    return 0 if not result.get("error") else 2


if __name__ == "__main__":
    sys.exit(main())
