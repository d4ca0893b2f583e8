"""Live vote benchmark: N voters in one meeting vote over their sockets; how fast the tally reaches all.

The app runs as in production (``gunicorn -k gevent -w 1``, through bench/live_load.py's ``Server``), on
a temporary SQLite file or with ``--postgres`` a fresh schema (and ``--redis`` for the Socket.IO message
queue). The meeting is in session with N voters checked in (N - 1 members and the chair) and one open
live ballot; N clients sign in over HTTP, connect and join, each with its own cookie. By default the
clients are the tablets' own: socket.io-client 4.8.1 in Node (bench/realclient/tally.mjs, the version
the app serves to browsers) over the websocket transport, offering WebSocket compression as a browser
does (the app declines it), with the app's Origin, joining as static/js/live.js does (``join``).
``--client lean`` (bench/lean_socket.py) and ``--client python-socketio`` (its ``AsyncClient``, see
bench/live_load.py) are Python clients in this process. The presence flush of the joins goes out before
the votes (at least 2.5 s, and until the chair's console sees every voter online). Then every client
casts its vote over its socket at a random moment within ``--spread`` seconds.

Measured:
- votes acknowledged (``{"ok": true}`` after the commit) and the time from the first cast to the last
  acknowledgement (target: all N within 10 s);
- the tally latency, honestly: for vote k (the k-th acknowledgement, by time) and each client, the time
  until that client holds a ``ballot.tally`` with ``voted >= k`` — N × N samples; p50 / p99 / max
  (target p99 <= 250 ms). A client that never holds k counts as missing;
- emit → arrival of each tally message (its ``sent_at``, same machine clock), and tallies per client;
- that the closing event (numbered, with the final counts) reaches every client;
- the worker's garbage-collection pauses of 5 ms or more during the votes (one long pause delays every
  tally in flight: see bench/README.md), and its memory (VmRSS) with the N voters connected.

Every client records the same raw times (each tally's arrival, voted and sent_at; cast, acknowledgement,
the closing event's arrival), on the wall clock of its own process; the figures above are computed
from them here, by the same code for every client, so the clients compare. The real client's Node
process reports its records as JSON.

    .venv/bin/python bench/bench_tally.py --clients 300
    .venv/bin/python bench/bench_tally.py                       # 2,000 voters on SQLite, socket.io-client
    .venv/bin/python bench/bench_tally.py --client lean         # the same with the lean Python client
    .venv/bin/python bench/bench_tally.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        --redis redis://127.0.0.1:6379/14 --json
    .venv/bin/python bench/bench_tally.py --clients 500 --profile /tmp/prof   # py-spy the worker

Setup shortcuts (not measured): the cheap test argon2 profile, and the check-in of the voters written
straight to the database instead of N audited check-ins. The real client needs Node 20+
(bench/realclient, ``npm ci`` on the first run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from live_load import (  # noqa: E402 - the same production-like server and sign-in as the live load test
    CLIENTS,
    ROOT,
    USER_AGENT,
    BenchSocket,
    Database,
    LoopLag,
    Server,
    percentile,
    populate,
    raise_nofile,
    server_environment,
    sign_in,
    start_profiler,
    stop_profiler,
)

CLIENT_CHOICES = ("real", *CLIENTS)

TARGET_VOTERS = 2000
TARGET_SECONDS = 10.0
TARGET_P99_MS = 250.0
PRESENCE_MIN_S = 2.5  # the wait for the joins' presence flush before the votes: at least this long,
PRESENCE_TIMEOUT_S = 30.0  # and until the chair's console sees every voter online, at most this long
CLOSE_WAIT_S = 15.0  # how long the closing event may take to reach every client


def log(message: str) -> None:
    print(f"[bench_tally {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _ms(seconds: float | None) -> float | None:
    return round(seconds * 1000, 1) if seconds is not None else None


def _mib(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def open_ballot(meeting_id: int) -> int:
    """Check every voter in (straight to the database: setup), then the chair opens a live vote."""
    from sqlalchemy import update

    from ecabinet import create_app
    from ecabinet.core.actor import Actor
    from ecabinet.core.types import utcnow
    from ecabinet.extensions import db
    from ecabinet.meetings import service as meetings
    from ecabinet.meetings.models import CheckInMode, MeetingParticipant
    from ecabinet.voting import service as voting

    app = create_app()
    with app.app_context():
        db.session.execute(update(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting_id)
                           .values(checked_in_at=utcnow(), checked_in_mode=CheckInMode.ROOM))
        db.session.commit()
        meeting = meetings.get_meeting(meeting_id)
        chair = Actor(meeting.chair, "127.0.0.1")
        ballot = voting.create_ballot(chair, voting.BallotData(title="Thông qua Nghị quyết thử tải", kind="live",
                                                               meeting_id=meeting_id))
        voting.open_ballot(chair, ballot)
        db.session.commit()
        ballot_id, eligible = ballot.id, ballot.eligible_count
        db.session.remove()
        db.engine.dispose()
    log(f"ballot {ballot_id} open with {eligible} eligible voters")
    return ballot_id


class VoterTimes(Protocol):
    """What every client records of one tablet (wall-clock seconds): the figures are computed from it."""

    tallies: list[tuple[float, int, float]]  # each ballot.tally: arrival, voted, sent_at (the server's)
    closed_at: float | None  # arrival of the ballot.close event
    cast_at: float | None
    ack_at: float | None
    ack: dict[str, Any] | None


@dataclass(eq=False)  # one tablet is one voter, whatever it recorded
class RecordedVoter:
    """One tablet of the Node client, as bench/realclient/tally.mjs reports it."""

    tallies: list[tuple[float, int, float]] = field(default_factory=list)
    closed_at: float | None = None
    cast_at: float | None = None
    ack_at: float | None = None
    ack: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecordedVoter:
        return cls(tallies=[(float(a), int(v), float(s)) for a, v, s in data.get("tallies") or []],
                   closed_at=data.get("closed_at"), cast_at=data.get("cast_at"), ack_at=data.get("ack_at"),
                   ack=data.get("ack"))


class Voter:
    """One tablet (a Python client): keeps every tally it receives (arrival time, voted, sent_at) and the
    closing event."""

    def __init__(self, http, cookie: str, client: str, watch_presence: bool = False) -> None:  # noqa: ANN001
        self.tallies: list[tuple[float, int, float]] = []
        self.closed_at: float | None = None
        self.ack: dict[str, Any] | None = None
        self.ack_at: float | None = None
        self.cast_at: float | None = None
        self.online = 0
        self.sio = BenchSocket(client, http, cookie)
        self.sio.on("ballot.tally", self._on_tally)
        self.sio.on("event", self._on_event)
        if watch_presence:  # the chair's console only: a presence list of 2,000 is not free to decode
            self.sio.on("presence", self._on_presence)

    def _on_presence(self, data: dict[str, Any]) -> None:
        self.online = len(data.get("online") or [])

    def _on_tally(self, data: dict[str, Any]) -> None:
        self.tallies.append((time.time(), data["voted"], data.get("sent_at") or 0.0))

    def _on_event(self, data: dict[str, Any]) -> None:
        if data.get("type") == "ballot.close" and self.closed_at is None:
            self.closed_at = time.time()

    async def open(self, base_url: str, meeting_id: int) -> None:
        await self.sio.open(base_url, meeting_id)

    async def vote(self, meeting_id: int, ballot_id: int, delay: float) -> None:
        await asyncio.sleep(delay)
        self.cast_at = time.time()
        try:
            self.ack = await self.sio.call("vote.cast", {"meeting_id": meeting_id, "ballot_id": ballot_id,
                                                         "choice": random.choice(["approve", "reject", "abstain"]),
                                                         "client_vote_id": uuid.uuid4().hex}, timeout=60)
        except Exception as exc:  # noqa: BLE001 - counted as not acknowledged
            self.ack = {"ok": False, "error": type(exc).__name__}
        self.ack_at = time.time()


def tally_latencies(voters: list[VoterTimes], ack_times: list[float]) -> tuple[list[float], int]:
    """For vote k (acknowledged at ack_times[k-1]) and each client: when it first held voted >= k."""
    samples: list[float] = []
    missing = 0
    n = len(ack_times)
    for v in voters:
        arrivals = sorted(v.tallies)
        held, i = 0, 0
        for k in range(1, n + 1):
            while held < k and i < len(arrivals):
                held = max(held, arrivals[i][1])
                at = arrivals[i][0]
                i += 1
            if held >= k:
                # The tally can beat the voter's own acknowledgement to another tablet: that is 0 wait.
                samples.append(max(0.0, at - ack_times[k - 1]))
            else:
                missing += n - k + 1
                break
    return samples, missing


def figures(voters: list[VoterTimes], closed: dict[str, Any] | None, server: Server, wall0: float, wall1: float,
            result: dict[str, Any]) -> None:
    """The measured figures, from what the clients recorded; the same for every client."""
    ok = [v for v in voters if v.ack and v.ack.get("ok")]
    casts = [v.cast_at for v in voters if v.cast_at is not None]
    acks = [v.ack_at for v in voters if v.ack_at is not None]
    ack_times = sorted(v.ack_at for v in ok)
    # The worker's collections during the votes: one long pause delays every tally in flight.
    pauses = [(gen, ms) for at, gen, ms in server.gc_pauses() if wall0 - ms / 1000 <= at <= wall1]
    samples, missing = tally_latencies(voters, ack_times)
    transit = [at - sent for v in voters for at, _voted, sent in v.tallies if sent]
    per_client = [len(v.tallies) for v in voters]
    vote_ms = [v.ack_at - v.cast_at for v in ok]
    result.update({
        "votes_acknowledged": len(ok), "votes_refused": len(voters) - len(ok),
        "refusal_samples": sorted({json.dumps(v.ack)[:120] for v in voters if v not in ok})[:3],
        "all_votes_s": round(max(acks) - min(casts), 2) if acks and casts else None,
        "vote_ack_ms": {"p50": _ms(percentile(vote_ms, 50)), "p99": _ms(percentile(vote_ms, 99)),
                        "max": _ms(max(vote_ms) if vote_ms else None)},
        "tally_latency_ms": {"p50": _ms(percentile(samples, 50)), "p99": _ms(percentile(samples, 99)),
                             "max": _ms(max(samples) if samples else None), "samples": len(samples),
                             "missing": missing},
        "emit_to_arrival_ms": {"p50": _ms(percentile(transit, 50)), "p99": _ms(percentile(transit, 99)),
                               "max": _ms(max(transit) if transit else None)},
        "tallies_per_client": {"min": min(per_client, default=0), "max": max(per_client, default=0),
                               "mean": round(sum(per_client) / len(per_client), 1) if per_client else 0},
        "final_tally_everywhere": all(max((t[1] for t in v.tallies), default=0) >= len(ok) for v in voters),
        "close_ok": bool((closed or {}).get("ok")), "close_voted": ((closed or {}).get("ballot") or {}).get("voted"),
        "close_reached": sum(1 for v in voters if v.closed_at is not None),
        "server_gc_pauses_during_votes": {
            "count": len(pauses), "max_ms": max((ms for _g, ms in pauses), default=None),
            "by_generation": [sum(1 for g, _ms in pauses if g == n) for n in range(3)]},
        "wall_s": round(wall1 - wall0, 2),
    })
    log(f"{len(ok)}/{len(voters)} votes acknowledged in {result['all_votes_s']} s; tally latency "
        f"{result['tally_latency_ms']}; emit→arrival {result['emit_to_arrival_ms']}; tallies per client "
        f"{result['tallies_per_client']}; close reached {result['close_reached']}/{len(voters)}; worker GC pauses "
        f">= 5 ms during the votes {result['server_gc_pauses_during_votes']}; worker RSS "
        f"{result.get('worker_rss_mib')}")


async def run(args: argparse.Namespace, server: Server, setup: dict[str, Any], ballot_id: int,
              result: dict[str, Any]) -> None:
    """The votes with a Python client (lean or python-socketio) in this process."""
    import aiohttp

    meeting_id = setup["meeting_id"]
    emails = [setup["chair"], *setup["members"]][:args.clients]
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar(),
                                 headers={"User-Agent": USER_AGENT}, timeout=aiohttp.ClientTimeout(total=120))
    voters: list[Voter] = []
    lag = LoopLag()
    lag.start()
    try:
        sem = asyncio.Semaphore(args.concurrency)

        async def login(email: str) -> str:
            async with sem:
                return await sign_in(http, server.url, email)

        t0 = time.perf_counter()
        cookies = await asyncio.gather(*(login(e) for e in emails))
        chair_cookie = await sign_in(http, server.url, setup["chair"])
        connect_sem = asyncio.Semaphore(20)
        failures: list[str] = []

        async def connect(cookie: str) -> None:
            voter = Voter(http, cookie, args.client)
            async with connect_sem:
                try:
                    await voter.open(server.url, meeting_id)
                    voters.append(voter)
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    failures.append(f"{type(exc).__name__}: {exc}"[:200])

        await asyncio.gather(*(connect(c) for c in cookies))
        chair = Voter(http, chair_cookie, args.client, watch_presence=True)  # the chair's console: closes the vote
        await chair.open(server.url, meeting_id)
        result["setup"] = {"sign_in_and_join_s": round(time.perf_counter() - t0, 1), "failures": len(failures),
                           "failure_samples": sorted(set(failures))[:3]}
        result["connected"] = len(voters)
        log(f"{len(voters)}/{len(emails)} voters connected and joined ({len(failures)} failures)")
        # The presence flush of the joins goes out before measuring (coalesced: at 2,000 online every
        # 8 s): at least PRESENCE_MIN_S, and until the chair's console sees every voter online.
        settle0 = time.monotonic()
        await asyncio.sleep(PRESENCE_MIN_S)
        while chair.online < len(voters) and time.monotonic() - settle0 < PRESENCE_TIMEOUT_S:
            await asyncio.sleep(0.1)
        result["setup"]["presence_settled_s"] = round(time.monotonic() - settle0, 1)
        rss_connected = server.rss_mib()

        server_cpu0, wall0 = server.cpu_s(), time.time()
        load0 = os.getloadavg()
        profiler = start_profiler(args, server, "votes", int(args.spread + 20)) if args.profile else None
        await asyncio.gather(*(v.vote(meeting_id, ballot_id, random.uniform(0, args.spread)) for v in voters))
        ok = sum(1 for v in voters if v.ack and v.ack.get("ok"))
        # Wait for the last tally to reach everyone (bounded), then close: the final state, numbered.
        deadline = time.monotonic() + args.settle
        while time.monotonic() < deadline and any(max((t[1] for t in v.tallies), default=0) < ok for v in voters):
            await asyncio.sleep(0.1)
        wall1, server_cpu1 = time.time(), server.cpu_s()
        if profiler is not None:
            result["profile"] = stop_profiler(profiler, args, "votes")
        result.update({
            "server_cpu_s": round(server_cpu1 - server_cpu0, 2) if server_cpu0 is not None else None,
            "client_loop_lag_ms": _ms(lag.worst(wall0, wall1)),
            "load_avg_before": [round(x, 2) for x in load0], "load_avg_after": [round(x, 2) for x in os.getloadavg()],
            "worker_rss_mib": {"connected": _mib(rss_connected), "peak": _mib(server.hwm_mib())},
        })
        closed = await chair.sio.call("chair.close_vote", {"meeting_id": meeting_id, "ballot_id": ballot_id},
                                      timeout=60)
        close_deadline = time.monotonic() + CLOSE_WAIT_S
        while time.monotonic() < close_deadline and any(v.closed_at is None for v in voters):
            await asyncio.sleep(0.1)
        figures(list(voters), closed, server, wall0, wall1, result)
    finally:
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.gather(*(v.sio.disconnect() for v in voters if v.sio.connected),
                                                  return_exceptions=True), timeout=10)
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(http.close(), timeout=5)


def run_real(args: argparse.Namespace, server: Server, setup: dict[str, Any], ballot_id: int,
             result: dict[str, Any], workdir: Path, children: list[subprocess.Popen]) -> None:
    """The votes with socket.io-client in Node (bench/realclient/tally.mjs): the tablets' own client.

    The sign-ins are done here over HTTP; the cookies go to Node in a JSON file that is deleted as soon
    as Node has read it. Node prints ``@votes`` when the votes begin and ``@settled`` when the last tally
    has reached everyone (the profiler's start and stop), then its records as one JSON object.
    """
    from bench_live_real import REALCLIENT, node_ready, sign_in_all

    node = node_ready()
    result["node"] = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    version = json.loads((REALCLIENT / "node_modules" / "socket.io-client" / "package.json").read_text())["version"]
    result["client_library"] = f"socket.io-client {version} (Node, websocket transport, compression offered)"
    emails = [setup["chair"], *setup["members"]][:args.clients]
    t0 = time.perf_counter()
    cookies = asyncio.run(sign_in_all(server.url, emails, args.concurrency))
    chair_cookie = asyncio.run(sign_in_all(server.url, [setup["chair"]], 1))[0]
    sign_in_s = round(time.perf_counter() - t0, 1)
    log(f"{len(cookies)} sign-ins in {sign_in_s} s; node {result['node']}")
    config = workdir / f"tally-{uuid.uuid4().hex[:8]}.json"
    config.write_text(json.dumps({
        "url": server.url, "serverPid": server.worker_pid, "clkTck": os.sysconf("SC_CLK_TCK"),
        "meetingId": setup["meeting_id"], "ballotId": ballot_id, "cookies": cookies, "chairCookie": chair_cookie,
        "userAgent": USER_AGENT, "offer": "browser", "spread": args.spread, "settle": args.settle,
        "closeWait": CLOSE_WAIT_S, "connectConcurrency": 20, "presenceMin": PRESENCE_MIN_S,
        "presenceTimeout": PRESENCE_TIMEOUT_S}))
    profiler = None
    report: dict[str, Any] | None = None
    try:
        proc = subprocess.Popen([node, str(REALCLIENT / "tally.mjs"), str(config)], cwd=REALCLIENT,
                                stdout=subprocess.PIPE, text=True)  # its stderr (progress) goes through to ours
        children.append(proc)
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("@votes"):
                config.unlink(missing_ok=True)  # it holds N sign-in cookies; Node has read it
                if args.profile:
                    profiler = start_profiler(args, server, "votes", int(args.spread + 20))
            elif line.startswith("@settled"):
                if profiler is not None:
                    result["profile"] = stop_profiler(profiler, args, "votes")
                    profiler = None
            elif line.startswith("{"):
                report = json.loads(line)
        proc.wait()
    finally:
        config.unlink(missing_ok=True)
        if profiler is not None:
            result["profile"] = stop_profiler(profiler, args, "votes")
    if report is None:
        raise RuntimeError(f"tally.mjs printed no result (exit code {proc.returncode})")
    setup_figures = report.get("setup") or {}
    result["setup"] = {"sign_in_s": sign_in_s, "connect_and_join_s": setup_figures.get("connect_and_join_s"),
                       **{k: v for k, v in setup_figures.items() if k != "connect_and_join_s"}}
    result["connected"] = report.get("connected")
    if report.get("error"):
        result["error"] = report["error"]
    if report.get("wall0") is None or report.get("wall1") is None:
        return  # the votes did not begin: nothing to compute
    result.update({
        "server_cpu_s": report.get("server_cpu_s"), "client_loop_lag_ms": report.get("client_loop_lag_ms"),
        "client_cpu_s_votes": report.get("client_cpu_s"), "bytes_read_per_client": report.get("bytes_read_per_client"),
        "load_avg_before": report.get("load_avg_before"), "load_avg_after": report.get("load_avg_after"),
        "worker_rss_mib": {"connected": report.get("rss_connected_mib"), "peak": report.get("rss_peak_mib")},
        "dropped": report.get("dropped") or {},
    })
    voters = [RecordedVoter.from_json(v) for v in report.get("voters") or []]
    figures(list(voters), report.get("close"), server, report["wall0"], report["wall1"], result)


def verdicts(result: dict[str, Any], n: int) -> list[dict[str, Any]]:
    lat = result.get("tally_latency_ms") or {}
    acked = result.get("votes_acknowledged") or 0
    seconds = result.get("all_votes_s")
    return [
        {"what": "voters connected and voting", "target": f"{TARGET_VOTERS}", "measured": result.get("connected"),
         "unit": "", "pass": (result.get("connected") or 0) >= TARGET_VOTERS},
        {"what": "votes acknowledged (one per connected voter)", "target": f"{result.get('connected') or n}",
         "measured": acked, "unit": "", "pass": acked == (result.get("connected") or n)},
        {"what": "all votes, first cast → last acknowledgement", "target": f"≤ {TARGET_SECONDS:.0f}",
         "measured": seconds, "unit": "s", "pass": seconds is not None and seconds <= TARGET_SECONDS},
        {"what": "tally latency (vote k acked → client holds ≥ k), p50", "target": "", "measured": lat.get("p50"),
         "unit": "ms", "pass": None},
        {"what": "tally latency, p99", "target": f"≤ {TARGET_P99_MS:.0f}", "measured": lat.get("p99"), "unit": "ms",
         "pass": lat.get("p99") is not None and lat["p99"] <= TARGET_P99_MS and not lat.get("missing")},
        {"what": "tally latency, max", "target": "", "measured": lat.get("max"), "unit": "ms", "pass": None},
        {"what": "closing event reached every client", "target": f"{result.get('connected')}",
         "measured": result.get("close_reached"), "unit": "",
         "pass": result.get("close_reached") == result.get("connected")},
        {"what": "worker RSS with the voters connected", "target": "",
         "measured": (result.get("worker_rss_mib") or {}).get("connected"), "unit": "MiB", "pass": None},
    ]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=TARGET_VOTERS, help="voters, each with one socket (default 2000)")
    p.add_argument("--spread", type=float, default=5.0, help="votes are cast at random within this many seconds")
    p.add_argument("--settle", type=float, default=10.0, help="how long to wait for the last tally, seconds")
    p.add_argument("--postgres", metavar="URL", help="run on a fresh schema in this PostgreSQL database")
    p.add_argument("--redis", metavar="URL", help="set REDIS_URL (Socket.IO message queue)")
    p.add_argument("--client", choices=CLIENT_CHOICES, default="real",
                   help="the clients: real (default: socket.io-client 4.8.1 in Node, bench/realclient/tally.mjs), "
                        "lean (bench/lean_socket.py) or python-socketio, in this process")
    p.add_argument("--concurrency", type=int, default=30,
                   help="sign-ins in flight at once (default 30, as bench_live_real.py; 100 at once sometimes had "
                        "a sign-in's connection closed or reset on a loaded machine)")
    p.add_argument("--time-limit", type=float, default=600.0, help="hard limit for the whole run, seconds")
    p.add_argument("--profile", metavar="DIR", help="py-spy the worker while the votes are cast")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="ecabinet-bench-tally-"))
    database = Database(workdir, args.postgres)
    env = server_environment(workdir, database, args.redis, "ecabinet-bench-tally")
    result: dict[str, Any] = {"benchmark": "bench_tally", "clients": args.clients, "spread_s": args.spread,
                              "database": "postgresql" if args.postgres else "sqlite", "redis": bool(args.redis),
                              "client": args.client}
    server: Server | None = None
    children: list[subprocess.Popen] = []  # the real client's Node process
    done = threading.Event()

    def cleanup() -> None:
        if done.is_set():
            return
        done.set()
        for child in children:
            if child.poll() is None:
                child.kill()
        if server is not None:
            server.stop()
        with contextlib.suppress(Exception):
            database.drop()
        shutil.rmtree(workdir, ignore_errors=True)

    def watchdog() -> None:
        log(f"time limit of {args.time_limit:.0f} s reached: stopping")
        result["error"] = f"time limit of {args.time_limit:.0f} s reached"
        cleanup()
        result["verdicts"] = verdicts(result, args.clients)
        print(json.dumps(result, ensure_ascii=False, indent=1), flush=True)
        os._exit(3)

    timer = threading.Timer(args.time_limit, watchdog)
    timer.daemon = True
    timer.start()
    try:
        database.create(env)
        setup = populate(args.clients - 1)  # N - 1 members and the chair: N voters
        ballot_id = open_ballot(setup["meeting_id"])
        server = Server(env, workdir, worker_connections=max(4096, args.clients * 2))
        server.start()
        log(f"server {server.url}, worker {server.worker_pid}")
        if args.client == "real":
            run_real(args, server, setup, ballot_id, result, workdir, children)
        else:
            asyncio.run(run(args, server, setup, ballot_id, result))
    except Exception as exc:  # noqa: BLE001 - reported in the output
        result["error"] = f"{type(exc).__name__}: {exc}"
        log(f"error: {result['error']}")
        if server is not None:
            log("server log tail:\n" + server.tail(1500))
    finally:
        timer.cancel()
        cleanup()
    result["verdicts"] = verdicts(result, args.clients)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(f"\nbench_tally: {args.clients} voters, client {args.client}, database {result['database']}"
              f"{', Redis' if args.redis else ''}")
        for row in result["verdicts"]:
            verdict = "" if row["pass"] is None else ("PASS" if row["pass"] else "MISS")
            target = f"{row['target']} {row['unit']}".strip() if row["target"] else ""
            measured = f"{row['measured']} {row['unit']}".strip() if row["measured"] is not None else "—"
            print(f"{row['what']:<56} {target:>10} {measured:>12}  {verdict}")
    return 0 if all(r["pass"] is not False for r in result["verdicts"]) else 1


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
