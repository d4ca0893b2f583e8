"""Real-time load benchmark: N real Socket.IO clients in one meeting, served as in production.

The app runs under ``gunicorn -k gevent -w 1`` on a loopback port, on a database this tool builds
(a temporary SQLite file, or with ``--postgres`` a fresh schema that is dropped at the end; with
``--redis`` the Socket.IO rooms go through Redis as in a multi-instance deployment). It creates a
meeting in session with N members, signs each socket in over real HTTP (every socket has its own
sign-in session), opens N Socket.IO connections over WebSockets and joins them to the meeting: by
default with bench/lean_socket.py, a client that speaks the same protocol at a fraction of the CPU per
message (``--client python-socketio`` uses python-socketio's ``AsyncClient`` instead; 2,000 of those
kept this process busy for 250-300 ms per broadcast, on the cores the server needs).
Then the chair moves the meeting to another item (``chair.set_item``) a number of times, and the tool
measures when the ``agenda.current_item`` event reaches every client.

Measured: chair action → every client latency (p50, p99, max over all rounds; clients reached per
round), the gunicorn worker's memory (VmRSS) with N clients connected, and connection setup time.

    .venv/bin/python bench/live_load.py                         # 2,000 clients on SQLite
    .venv/bin/python bench/live_load.py --clients 200 --rounds 3
    .venv/bin/python bench/live_load.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        --redis redis://127.0.0.1:6379/14 --json
    .venv/bin/python bench/live_load.py --profile /tmp/prof     # py-spy the worker: joins, rounds

Password hashing uses the test suite's cheap argon2 profile (ECABINET_FAST_PASSWORD_HASH_FOR_TESTS=1)
so that creating and signing in thousands of accounts does not dominate the setup; it does not take
part in what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-2026"  # noqa: S105 - a throwaway account in a throwaway database
USER_AGENT = "ecabinet-bench/1.0"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')

STARTED = time.perf_counter()
TARGET_CLIENTS = 2000
TARGET_P99_MS = 250.0
TARGET_RSS_MIB = 1024.0


def log(message: str) -> None:
    print(f"[live_load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def raise_nofile(want: int = 65536) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


GC_LOG_HOOK = """
import gc, sys, time

def post_fork(server, worker):
    started = {}

    def log_pause(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
        elif 0 in started:
            ms = (time.perf_counter() - started.pop(0)) * 1000
            if ms >= 5:
                # After a full collection: how many objects it went through (frozen ones are skipped).
                count = len(gc.get_objects(2)) if info["generation"] == 2 else 0
                sys.stderr.write(f"GCPAUSE {time.time():.3f} {info['generation']} {ms:.1f} {count}\\n")

    gc.callbacks.append(log_pause)
"""


class GcPauses:
    """This (client) process's own garbage-collection pauses: (wall-clock time at the end, ms)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float]] = []
        self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            ms = (time.perf_counter() - self._started) * 1000
            if ms >= 5:
                self.pauses.append((time.time(), round(ms, 1)))

    def between(self, since: float, until: float) -> list[float]:
        return [ms for at, ms in self.pauses if since - ms / 1000 <= at <= until]


class LoopLag:
    """How late this (client) process's event loop wakes up: the load tool's own queueing."""

    def __init__(self, tick: float = 0.005) -> None:
        self.tick = tick
        self.samples: list[tuple[float, float]] = []  # (wall-clock time, lateness in seconds)
        self.task: asyncio.Task | None = None

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.tick)
            self.samples.append((time.time(), time.perf_counter() - before - self.tick))

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    def worst(self, since: float, until: float) -> float | None:
        lags = [lag for at, lag in self.samples if since <= at <= until]
        return max(lags) if lags else None


# --- the server ----------------------------------------------------------------------------------

def read_status(pid: int, key: str) -> int | None:
    """A kB field of /proc/<pid>/status (VmRSS, VmHWM), in kB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the fields after it are fixed.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


class Server:
    """``python -m gunicorn -k gevent -w 1 wsgi:app`` on 127.0.0.1, as in production."""

    def __init__(self, env: dict[str, str], workdir: Path, worker_connections: int) -> None:
        self.worker_connections = worker_connections
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log_path = workdir / "server.log"
        self.proc: subprocess.Popen | None = None
        self.worker_pid: int | None = None
        # Instruments only: the worker logs each garbage collection that pauses it for 5 ms or more.
        self.config_path = workdir / "gunicorn_bench.py"
        self.config_path.write_text(GC_LOG_HOOK)

    def start(self, timeout: float = 60) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1", "-b", f"127.0.0.1:{self.port}",
             "--worker-connections", str(self.worker_connections), "--graceful-timeout", "3", "--timeout", "120",
             "--backlog", "4096", "--config", str(self.config_path), "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=self.log_path.open("wb"), stderr=subprocess.STDOUT,
            start_new_session=True)  # Ctrl-C reaches this tool, which then stops the server itself
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:  # noqa: S310 - loopback
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"server did not start: {self.tail()}")
        workers = children_of(self.proc.pid)
        if len(workers) != 1:
            raise RuntimeError(f"expected one gunicorn worker, found {workers}")
        self.worker_pid = workers[0]

    def tail(self, n: int = 3000, instruments: bool = False) -> str:
        """The end of the server's log; without the GC hook's lines unless ``instruments``."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        if not instruments:
            text = "\n".join(line for line in text.splitlines() if not line.startswith("GCPAUSE "))
        return text[-n:]

    def rss_mib(self) -> float | None:
        kb = read_status(self.worker_pid, "VmRSS") if self.worker_pid else None
        return kb / 1024 if kb is not None else None

    def cpu_s(self) -> float | None:
        """The worker's CPU time so far (user + system), seconds."""
        try:
            stat = Path(f"/proc/{self.worker_pid}/stat").read_text()
        except (OSError, TypeError):
            return None
        fields = stat[stat.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def gc_pauses(self) -> list[tuple[float, int, float]]:
        """(wall-clock time at the end, generation, milliseconds) of each collection the worker logged."""
        found = []
        for line in self.tail(10_000_000, instruments=True).splitlines():
            if line.startswith("GCPAUSE "):
                _, at, gen, ms, _objects = line.split()
                found.append((float(at), int(gen), float(ms)))
        return found

    def hwm_mib(self) -> float | None:
        kb = read_status(self.worker_pid, "VmHWM") if self.worker_pid else None
        return kb / 1024 if kb is not None else None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        log("stopping the server")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


# --- the database --------------------------------------------------------------------------------

class Database:
    """A throwaway database: a SQLite file in the work folder, or a PostgreSQL schema."""

    def __init__(self, workdir: Path, postgres: str | None) -> None:
        self.postgres = postgres
        self.schema: str | None = None
        if postgres:
            self.schema = f"bench_{uuid.uuid4().hex[:12]}"
            sep = "&" if "?" in postgres else "?"
            self.url = f"{postgres}{sep}options=-csearch_path%3D{self.schema}"
        else:
            self.url = f"sqlite:///{workdir / 'bench.sqlite3'}"

    def _admin(self):  # noqa: ANN202
        import sqlalchemy as sa

        return sa.create_engine(self.postgres, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 5})

    def create(self, env: dict[str, str]) -> None:
        if self.schema:
            import sqlalchemy as sa

            engine = self._admin()
            with engine.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
            engine.dispose()
        subprocess.run([sys.executable, "-m", "ecabinet", "db", "upgrade"], cwd=ROOT,
                       env={**env, "DATABASE_URL": self.url}, check=True, capture_output=True, timeout=180)

    def drop(self) -> None:
        if self.schema:
            import sqlalchemy as sa

            engine = self._admin()
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            engine.dispose()


def populate(n_users: int) -> dict[str, Any]:
    """A chair, a secretary and ``n_users`` members; a meeting of all of them, in session, with 3 items.

    Runs in this process, through the services, in an app context (env already set).
    """
    from ecabinet import create_app
    from ecabinet.accounts import service as accounts
    from ecabinet.accounts.models import Role
    from ecabinet.core.actor import Actor
    from ecabinet.extensions import db
    from ecabinet.meetings import service as meetings

    app = create_app()
    system = Actor.system("bench")
    with app.app_context():
        def user(email: str, name: str, role: Role):  # noqa: ANN202
            return accounts.create_user(system, accounts.UserData(email=email, name=name, role=role,
                                                                  organisation="Bộ Thử tải"), PASSWORD)

        chair = user("chair@bench.gov.vn", "Chủ tọa", Role.CHAIR)
        secretary = user("secretary@bench.gov.vn", "Thư ký", Role.SECRETARY)
        members = []
        for i in range(n_users):
            members.append(user(f"member{i:05d}@bench.gov.vn", f"Thành viên {i:05d}", Role.MEMBER).email)
            if (i + 1) % 500 == 0:
                log(f"  {i + 1} members created")
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
        sec = Actor(user=secretary, ip="127.0.0.1")
        meeting = meetings.create_meeting(sec, meetings.MeetingData(
            title="Phiên họp thử tải", starts_at=start, ends_at=start + timedelta(hours=3), place="Phòng họp 1",
            chair_id=chair.id))
        for n in range(3):
            meetings.add_item(sec, meeting, meetings.ItemData(title=f"Tờ trình {n + 1}", duration_minutes=20))
        meetings.publish(sec, meeting)
        meetings.start_meeting(Actor(user=chair, ip="127.0.0.1"), meeting)
        db.session.commit()  # the services only stage: this setup is their boundary
        result = {"meeting_id": meeting.id, "item_ids": [i.id for i in meeting.items], "chair": chair.email,
                  "members": members, "participants": len(meeting.participants)}
        db.session.remove()
        db.engine.dispose()
    return result


# --- the clients ---------------------------------------------------------------------------------

async def sign_in(http, base_url: str, email: str) -> str:  # noqa: ANN001
    """A real sign-in over HTTP; returns the Cookie header of the new sign-in session."""
    cookies: dict[str, str] = {}
    async with http.get(base_url + "/login") as r:
        html = await r.text()
        cookies.update({k: m.value for k, m in r.cookies.items()})
    match = CSRF_RE.search(html)
    if match is None:
        raise RuntimeError("no CSRF token on the sign-in page")
    header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    async with http.post(base_url + "/login", data={"email": email, "password": PASSWORD,
                                                    "csrf_token": match.group(1) or match.group(2)},
                         headers={"Cookie": header}, allow_redirects=False) as r:
        await r.read()
        if r.status != 302:
            raise RuntimeError(f"sign-in of {email} answered {r.status}")
        cookies.update({k: m.value for k, m in r.cookies.items()})
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


CLIENTS = ("lean", "python-socketio")


class BenchSocket:
    """One benchmark socket: the lean client (bench/lean_socket.py, the default) or python-socketio's.

    Both speak the real protocol to the real server; the lean one costs this process a fraction of the
    CPU per message, which matters when 2,000 of them share 2 cores with the server they measure.
    """

    def __init__(self, client: str, http, cookie: str) -> None:  # noqa: ANN001
        self.client = client
        self.cookie = cookie
        if client == "lean":
            from lean_socket import LeanSocket

            self.sio: Any = LeanSocket()
        else:
            import socketio

            # engine.io moves a Cookie passed to connect() into the shared session's cookie jar; headers in
            # websocket_extra_options go to this socket's handshake only.
            self.sio = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=http,
                                            request_timeout=30,
                                            websocket_extra_options={"headers": {"Cookie": cookie}})

    def on(self, event: str, handler: Any) -> None:
        self.sio.on(event, handler)

    @property
    def connected(self) -> bool:
        return bool(self.sio.connected)

    async def call(self, event: str, data: Any, timeout: float = 60) -> Any:
        return await self.sio.call(event, data, timeout=timeout)

    async def disconnect(self) -> None:
        await self.sio.disconnect()

    async def open(self, base_url: str, meeting_id: int) -> None:
        """Connect over a WebSocket and join the meeting's room."""
        headers = {"Origin": base_url, "User-Agent": USER_AGENT}
        if self.client == "lean":
            await self.sio.connect(base_url, headers={**headers, "Cookie": self.cookie}, timeout=60)
        else:
            await self.sio.connect(base_url, headers=headers, transports=["websocket"], wait_timeout=60)
        ack = await self.sio.call("join", {"meeting_id": meeting_id, "last_seq": None}, timeout=120)
        if not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack}")


class Tablet:
    """One participant's socket; keeps the arrival time of each ``agenda.current_item`` event."""

    def __init__(self, http, cookie: str, counts: dict[int, int], target: list,  # noqa: ANN001
                 done: asyncio.Event, client: str = "lean", watch_presence: bool = False) -> None:
        self.arrivals: dict[int, float] = {}
        self.counts = counts
        self.target = target  # [expected count]
        self.done = done
        self.sio = BenchSocket(client, http, cookie)
        self.sio.on("event", self._on_event)
        if watch_presence:  # the chair's console only: a presence list of 2,000 is not free to decode
            self.sio.on("presence", self._on_presence)
        self.online = 0
        self.sio.on("disconnect", self._on_disconnect)
        self.joined = False
        self.dropped: str | None = None

    def _on_disconnect(self, reason: Any = None) -> None:
        self.dropped = f"{reason} at +{time.perf_counter() - STARTED:.0f}s"

    def _on_presence(self, data: dict[str, Any]) -> None:
        self.online = len(data.get("online") or [])

    def _on_event(self, data: dict[str, Any]) -> None:
        if data.get("type") == "agenda.current_item":
            now = time.perf_counter()
            seq = data["seq"]
            self.arrivals[seq] = now
            count = self.counts[seq] = self.counts.get(seq, 0) + 1
            if count >= self.target[0]:
                self.done.set()

    async def open(self, base_url: str, meeting_id: int) -> None:
        await self.sio.open(base_url, meeting_id)
        self.joined = True


async def run_clients(args: argparse.Namespace, server: Server, setup: dict[str, Any],
                      result: dict[str, Any]) -> None:
    import aiohttp

    n = args.clients
    members = setup["members"]
    meeting_id = setup["meeting_id"]
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    http = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                 headers={"User-Agent": USER_AGENT}, timeout=aiohttp.ClientTimeout(total=120))
    counts: dict[int, int] = {}
    target = [n]
    done = asyncio.Event()
    tablets: list[Tablet] = []
    lag = LoopLag()
    lag.start()
    client_gc = GcPauses()
    try:
        # Sign-ins: one sign-in session per socket.
        sem = asyncio.Semaphore(args.concurrency)
        t0 = time.perf_counter()

        async def login_one(i: int) -> str:
            async with sem:
                return await sign_in(http, server.url, members[i % len(members)])

        cookies = await asyncio.gather(*(login_one(i) for i in range(n)))
        chair_cookie = await sign_in(http, server.url, setup["chair"])
        result["setup"]["sign_in_s"] = round(time.perf_counter() - t0, 2)
        log(f"{n} sign-ins in {result['setup']['sign_in_s']} s")
        result["server_rss_mib"]["before_connect"] = server.rss_mib()

        # Sockets: connect and join, a bounded number at a time.
        t1 = time.perf_counter()
        wall_joins, cpu_joins, server_cpu_joins = time.time(), time.process_time(), server.cpu_s()
        connect_times: list[float] = []
        failures: list[str] = []

        connect_sem = asyncio.Semaphore(args.connect_concurrency)

        async def open_one(i: int) -> None:
            tablet = Tablet(http, cookies[i], counts, target, done, args.client)
            tablets.append(tablet)
            async with connect_sem:
                start = time.perf_counter()
                try:
                    await tablet.open(server.url, meeting_id)
                    connect_times.append(time.perf_counter() - start)
                except Exception as exc:  # noqa: BLE001 - counted and reported, not fatal
                    failures.append(f"{type(exc).__name__}: {exc}"[:200])

        async def progress() -> None:
            while True:
                await asyncio.sleep(5)
                # Kept in the result, so that a run cut short by the time limit says how far it got.
                result["setup"]["joined_so_far"] = {"joined": len(connect_times), "failed": len(failures),
                                                    "after_s": round(time.perf_counter() - t1)}
                log(f"  {len(connect_times)} joined, {len(failures)} failed, "
                    f"{time.perf_counter() - t1:.0f} s, worker RSS {server.rss_mib():.0f} MiB")

        reporter = asyncio.create_task(progress())
        join_profiler = start_profiler(args, server, "joins", int(args.time_limit)) if args.profile else None
        try:
            await asyncio.gather(*(open_one(i) for i in range(n)))
        finally:
            reporter.cancel()
            if join_profiler is not None:
                result.setdefault("profile", {})["joins"] = stop_profiler(join_profiler, args, "joins")
        chair = Tablet(http, chair_cookie, {}, [1 << 30], asyncio.Event(), args.client, watch_presence=True)
        await asyncio.wait_for(chair.open(server.url, meeting_id), timeout=90)
        joined = sum(1 for t in tablets if t.joined and t.sio.connected)
        setup_s = time.perf_counter() - t1
        result["setup"].update({
            "connect_and_join_s": round(setup_s, 2),
            "per_client_ms": {"p50": _ms(percentile(connect_times, 50)), "p99": _ms(percentile(connect_times, 99)),
                              "max": _ms(max(connect_times) if connect_times else None)},
            "failures": len(failures), "failure_samples": sorted(set(failures))[:5]})
        result["connected"] = joined
        server_cpu = server.cpu_s()
        result["setup"]["joins_cpu_s"] = {
            "server": round(server_cpu - server_cpu_joins, 1) if server_cpu_joins is not None else None,
            "client": round(time.process_time() - cpu_joins, 1)}
        result["setup"]["joins_client_loop_lag_ms"] = _ms(lag.worst(wall_joins, time.time()))
        log(f"joins: CPU {result['setup']['joins_cpu_s']} s, worst client loop lag "
            f"{result['setup']['joins_client_loop_lag_ms']} ms")
        drops: dict[str, int] = {}
        for t in tablets:
            if t.dropped:
                key = t.dropped.split(" at ")[0]
                drops[key] = drops.get(key, 0) + 1
        if drops:
            times = sorted(t.dropped for t in tablets if t.dropped)
            log(f"clients dropped by then: {drops}; first {times[:3]}, last {times[-3:]}")
        result["setup"]["dropped"] = drops
        log(f"{joined}/{n} clients connected and joined in {setup_s:.1f} s ({len(failures)} failures)")
        # The clients' objects live until the end: out of this tool's own full collections, which
        # otherwise stopped its event loop for 0.5-1 s in some rounds (the server was not the slow one).
        # Done well before the first round: the collection itself takes a few hundred ms.
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 5, 10)  # as the worker (wsgi.py): fewer objects reach the old generations
        # Let the presence flush of the joins go out before measuring (it is coalesced, less often in a
        # large meeting): until the chair's tablet sees everyone online, or 30 s.
        t_presence = time.perf_counter()
        while chair.online < joined + 1 and time.perf_counter() - t_presence < 30:
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.5)
        result["setup"]["presence_settled_s"] = round(time.perf_counter() - t_presence, 1)
        log(f"presence settled: the chair sees {chair.online} online after "
            f"{result['setup']['presence_settled_s']} s")
        result["server_rss_mib"]["connected"] = server.rss_mib()

        # Rounds: the chair moves the meeting; every tablet must get agenda.current_item.
        profiler = start_profiler(args, server, "rounds", int(args.rounds * (args.interval + 0.5) + 5)) \
            if args.profile else None
        rounds = []
        windows: list[tuple[dict[str, Any], float, float]] = []
        all_latencies: list[float] = []
        target[0] = joined
        items = setup["item_ids"]
        for r in range(args.rounds):
            done.clear()
            item_id = items[r % len(items)]
            wall0, cpu0, server_cpu0 = time.time(), time.process_time(), server.cpu_s()
            t_emit = time.perf_counter()
            ack = await chair.sio.call("chair.set_item", {"meeting_id": meeting_id, "item_id": item_id},
                                       timeout=60)
            t_ack = time.perf_counter()
            if not ack.get("ok"):
                raise RuntimeError(f"chair.set_item refused: {ack}")
            seq = ack["seq"]
            if counts.get(seq, 0) < joined:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_wait_seq(done, counts, seq, joined), timeout=args.round_timeout)
            latencies = [t.arrivals[seq] - t_emit for t in tablets if seq in t.arrivals]
            all_latencies.extend(latencies)
            wall1 = wall0 + (max(latencies) if latencies else time.perf_counter() - t_emit)
            server_cpu1 = server.cpu_s()
            row = {"round": r + 1, "seq": seq, "received": len(latencies), "expected": joined,
                   "ack_ms": _ms(t_ack - t_emit), "p50_ms": _ms(percentile(latencies, 50)),
                   "p99_ms": _ms(percentile(latencies, 99)), "max_ms": _ms(max(latencies) if latencies else None),
                   # Where the time went: CPU of the worker and of this tool until the round was over,
                   # the tool's worst event-loop lateness, and the worker's garbage-collection pauses.
                   "server_cpu_ms": _ms(server_cpu1 - server_cpu0) if server_cpu0 is not None else None,
                   "client_cpu_ms": _ms(time.process_time() - cpu0),
                   "client_loop_lag_ms": _ms(lag.worst(wall0, wall1)),
                   "client_gc_ms": client_gc.between(wall0, wall1)}
            rounds.append(row)
            log(f"round {r + 1}: {row['received']}/{joined} received, ack {row['ack_ms']} ms, "
                f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, max {row['max_ms']} ms; CPU server "
                f"{row['server_cpu_ms']} ms, client {row['client_cpu_ms']} ms; client loop lag "
                f"{row['client_loop_lag_ms']} ms, client GC {row['client_gc_ms']} ms")
            windows.append((row, wall0, wall1))
            result["server_rss_mib"]["peak_during_rounds"] = max(
                result["server_rss_mib"].get("peak_during_rounds") or 0, server.rss_mib() or 0)
            await asyncio.sleep(args.interval)
        if profiler is not None:
            result.setdefault("profile", {})["rounds"] = stop_profiler(profiler, args, "rounds")
        pauses = server.gc_pauses()
        for row, since, until in windows:
            row["server_gc_ms"] = [ms for at, _gen, ms in pauses if since - ms / 1000 <= at <= until]
        result["server_gc_pauses"] = {"count": len(pauses), "max_ms": max((p[2] for p in pauses), default=None),
                                      "gen2": sum(1 for p in pauses if p[1] == 2)}
        log(f"worker GC pauses >= 5 ms: {result['server_gc_pauses']}; during the rounds: "
            f"{[row['server_gc_ms'] for row in rounds]}")
        result["rounds"] = rounds
        result["latency_ms"] = {"p50": _ms(percentile(all_latencies, 50)), "p99": _ms(percentile(all_latencies, 99)),
                                "max": _ms(max(all_latencies) if all_latencies else None),
                                "samples": len(all_latencies)}
        result["all_rounds_complete"] = all(r["received"] == n for r in rounds) and joined == n
        result["server_rss_mib"]["after_rounds"] = server.rss_mib()
        result["server_rss_mib"]["worker_peak_hwm"] = server.hwm_mib()
    finally:
        # Bounded: after a timeout the server may be too busy to close 2,000 sockets politely.
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.gather(*(t.sio.disconnect() for t in tablets if t.sio.connected),
                                                  return_exceptions=True), timeout=10)
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(http.close(), timeout=5)


async def _wait_seq(done: asyncio.Event, counts: dict[int, int], seq: int, expected: int) -> None:
    while counts.get(seq, 0) < expected:
        await done.wait()
        done.clear()


def _ms(seconds: float | None) -> float | None:
    return round(seconds * 1000, 1) if seconds is not None else None


# --- profiling -----------------------------------------------------------------------------------

def start_profiler(args: argparse.Namespace, server: Server, phase: str, duration: int) -> subprocess.Popen | None:
    """py-spy on the worker into DIR/<phase>.folded ("joins": the connect + join phase; "rounds")."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        log("py-spy is not installed (.venv/bin/pip install py-spy); no profile taken")
        return None
    out = Path(args.profile)
    out.mkdir(parents=True, exist_ok=True)
    log(f"py-spy recording the worker {server.worker_pid} ({phase}) for up to {duration} s into {out}")
    # Without --nonblocking py-spy pauses the worker for every sample; with it, a few samples fail.
    return subprocess.Popen([spy, "record", "-p", str(server.worker_pid), "-r", "200", "-d", str(duration),
                             "--format", "raw", "-o", str(out / f"{phase}.folded"), "--nonblocking"],
                            stdout=(out / f"py-spy-{phase}.log").open("wb"), stderr=subprocess.STDOUT)


def stop_profiler(proc: subprocess.Popen | None, args: argparse.Namespace, phase: str) -> dict[str, Any]:
    if proc is None:
        return {}
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    folded = Path(args.profile) / f"{phase}.folded"
    return {"folded": str(folded), "top": summarise_profile(folded) if folded.exists() else []}


def summarise_profile(folded: Path, top: int = 25) -> list[dict[str, Any]]:
    """Inclusive share of samples per function (file:function), from py-spy's folded stacks."""
    totals: dict[str, int] = {}
    all_samples = 0
    for line in folded.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        all_samples += samples
        seen = set()
        for frame in stack.split(";"):
            name = re.sub(r":\d+\)?$", "", frame.split(" (")[0] + " (" + frame.split(" (")[-1]) \
                if " (" in frame else frame
            if name not in seen:
                seen.add(name)
                totals[name] = totals.get(name, 0) + samples
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    return [{"frame": k, "share": round(v / all_samples, 3)} for k, v in ranked] if all_samples else []


# --- the report ----------------------------------------------------------------------------------

def verdicts(result: dict[str, Any], n: int) -> list[dict[str, Any]]:
    lat = result.get("latency_ms") or {}
    rss = (result.get("server_rss_mib") or {}).get("connected")
    rounds = result.get("rounds") or []
    complete = sum(1 for r in rounds if r["received"] == r["expected"])
    rows = [
        {"what": "clients connected in one meeting", "target": f"{TARGET_CLIENTS}",
         "measured": result.get("connected"), "unit": "",
         "pass": (result.get("connected") or 0) >= TARGET_CLIENTS},
        {"what": "rounds reaching every connected client", "target": f"{len(rounds)}/{len(rounds)}",
         "measured": f"{complete}/{len(rounds)}", "unit": "", "pass": bool(rounds) and complete == len(rounds)},
        {"what": "chair action → every client, p50", "target": "", "measured": lat.get("p50"), "unit": "ms",
         "pass": None},
        {"what": "chair action → every client, p99", "target": f"≤ {TARGET_P99_MS:.0f}", "measured": lat.get("p99"),
         "unit": "ms", "pass": lat.get("p99") is not None and lat["p99"] <= TARGET_P99_MS},
        {"what": "chair action → every client, max", "target": "", "measured": lat.get("max"), "unit": "ms",
         "pass": None},
        {"what": f"server memory (worker RSS) at {result.get('connected')} clients", "target":
         f"≤ {TARGET_RSS_MIB:.0f}", "measured": round(rss, 1) if rss else None, "unit": "MiB",
         "pass": rss is not None and rss <= TARGET_RSS_MIB},
        {"what": "connection setup (connect + join, all clients)", "target": "",
         "measured": (result.get("setup") or {}).get("connect_and_join_s"), "unit": "s", "pass": None},
        {"what": "sign-in of all clients over HTTP", "target": "",
         "measured": (result.get("setup") or {}).get("sign_in_s"), "unit": "s", "pass": None},
    ]
    return rows


def print_table(result: dict[str, Any]) -> None:
    print(f"\nlive_load: {result['clients']} clients, database {result['database']}"
          f"{', Redis' if result['redis'] else ''}; {result['note']}")
    print(f"{'what':<52} {'target':>10} {'measured':>12}  verdict")
    for row in result["verdicts"]:
        verdict = "" if row["pass"] is None else ("PASS" if row["pass"] else "MISS")
        target = f"{row['target']} {row['unit']}".strip() if row["target"] else ""
        measured = f"{row['measured']} {row['unit']}".strip() if row["measured"] is not None else "—"
        print(f"{row['what']:<52} {target:>10} {measured:>12}  {verdict}")
    if result.get("error"):
        print(f"error: {result['error']}")


# --- main ----------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=2000, help="sockets in the meeting (default 2000)")
    p.add_argument("--users", type=int, default=None,
                   help="member accounts (default: one per client); fewer means several sign-ins per user")
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--interval", type=float, default=1.0, help="seconds between chair actions")
    p.add_argument("--round-timeout", type=float, default=20.0, help="how long a round waits for every client")
    # 30 = the PostgreSQL pool of one worker (10 + 20 overflow): with 100 in flight, sign-ins waited for a
    # connection longer than pool_timeout (10 s) on a loaded machine and were answered 503.
    p.add_argument("--concurrency", type=int, default=30, help="sign-ins in flight at once")
    p.add_argument("--connect-concurrency", type=int, default=20, help="connect + join in flight at once")
    p.add_argument("--worker-connections", type=int, default=4096,
                   help="gunicorn's --worker-connections; its default of 1000 caps a gevent worker at 1000 sockets")
    p.add_argument("--postgres", metavar="URL", help="run on a fresh schema in this PostgreSQL database")
    p.add_argument("--redis", metavar="URL", help="set REDIS_URL (Socket.IO message queue, throttle)")
    p.add_argument("--client", choices=CLIENTS, default="lean",
                   help="the clients' Socket.IO implementation (default: lean, see bench/lean_socket.py)")
    p.add_argument("--time-limit", type=float, default=600.0, help="hard limit for the whole run, seconds")
    p.add_argument("--profile", metavar="DIR", help="py-spy the worker during the joins and the rounds")
    p.add_argument("--keep", action="store_true", help="keep the work folder (server log, database)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    return p.parse_args(argv)


def server_environment(workdir: Path, database: Database, redis_url: str | None, channel_prefix: str) -> dict:
    """The environment of the server a benchmark starts, also applied to this process (which builds the
    meeting through the app): its database, no Redis unless asked, cheap test password hashing."""
    env = {**os.environ, "DATABASE_URL": database.url, "SESSION_COOKIE_SECURE": "0",
           "ECABINET_INSTANCE_DIR": str(workdir / "instance"), "LOGIN_RATE_LIMIT": "100000 per minute",
           "ECABINET_FAST_PASSWORD_HASH_FOR_TESTS": "1", "PYTHONUNBUFFERED": "1", "SECRET_KEY": uuid.uuid4().hex,
           # A pub/sub channel of its own: Redis channels ignore the database number, and a test run or
           # another server on the same Redis must never receive this run's events (or send it theirs).
           "SOCKETIO_CHANNEL": f"{channel_prefix}-{uuid.uuid4().hex[:12]}"}
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONUNBUFFERED"})
    if not redis_url:
        os.environ.pop("REDIS_URL", None)
    return env


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for url in filter(None, (args.postgres, args.redis)):
        if not re.search(r"@?(127\.0\.0\.1|localhost|\[::1\])[:/]", url):
            raise SystemExit(f"only loopback addresses: {url}")
    nofile = raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="ecabinet-bench-"))
    database = Database(workdir, args.postgres)
    env = server_environment(workdir, database, args.redis, "ecabinet-bench")
    sys.path.insert(0, str(ROOT))

    result: dict[str, Any] = {
        "benchmark": "live_load", "clients": args.clients, "users": args.users or args.clients,
        "rounds_requested": args.rounds, "database": "postgresql" if args.postgres else "sqlite",
        "redis": bool(args.redis), "client": args.client, "open_file_limit": nofile,
        "worker_connections": args.worker_connections, "setup": {}, "server_rss_mib": {},
        "note": "accounts use the cheap test argon2 profile (ECABINET_FAST_PASSWORD_HASH_FOR_TESTS=1) "
                "so that thousands of sign-ins do not dominate setup; hashing is not measured",
    }
    server: Server | None = None
    stopped = threading.Event()

    def cleanup() -> None:
        if stopped.is_set():
            return
        stopped.set()
        if server is not None:
            server.stop()
        with contextlib.suppress(Exception):
            database.drop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    def watchdog() -> None:
        log(f"time limit of {args.time_limit:.0f} s reached: stopping")
        cleanup()
        result["error"] = result.get("error") or f"time limit of {args.time_limit:.0f} s reached"
        with contextlib.suppress(Exception):
            result["verdicts"] = verdicts(result, args.clients)
            print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else result, flush=True)
        os._exit(3)

    timer = threading.Timer(args.time_limit, watchdog)
    timer.daemon = True
    timer.start()
    started = time.perf_counter()
    try:
        log(f"work folder {workdir}; open-file limit {nofile}; database {result['database']}"
            f"{' + Redis' if args.redis else ''}")
        log(result["note"])
        database.create(env)
        t0 = time.perf_counter()
        setup = populate(args.users or args.clients)
        result["setup"]["populate_s"] = round(time.perf_counter() - t0, 2)
        result["participants"] = setup["participants"]
        log(f"meeting {setup['meeting_id']} in session with {setup['participants']} participants "
            f"({result['setup']['populate_s']} s)")
        server = Server(env, workdir, args.worker_connections)
        server.start()
        result["server_rss_mib"]["idle"] = server.rss_mib()
        log(f"server {server.url}, gunicorn master {server.proc.pid}, worker {server.worker_pid}")
        remaining = args.time_limit - (time.perf_counter() - started) - 45
        asyncio.run(asyncio.wait_for(run_clients(args, server, setup, result), timeout=remaining))
        if server.proc.poll() is not None:
            result["error"] = "the server exited during the run"
    except KeyboardInterrupt:
        result["error"] = "interrupted"
    except Exception as exc:  # noqa: BLE001 - reported in the output
        result["error"] = f"{type(exc).__name__}: {exc}"
        log(f"error: {result['error']}")
        if server is not None:
            log("server log tail:\n" + server.tail(1500))
    finally:
        timer.cancel()
        cleanup()
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    result["verdicts"] = verdicts(result, args.clients)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print_table(result)
    return 0 if not result.get("error") else 2


if __name__ == "__main__":
    sys.exit(main())
