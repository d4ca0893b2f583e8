"""The live room scaled out: real Socket.IO clients through HAProxy in front of several instances.

A skeleton with a small default: the production shape of deploy/ (deploy/haproxy.cfg rendered by
deploy/cluster.py, ``--instances`` gunicorn gevent instances on PostgreSQL and Redis), N tablets
(python-socketio clients, each signed in over HTTP through the proxy with its own cookies, long-polling
then upgrading) spread by the proxy, and the chair's ``chair.set_item`` timed to every tablet. With
``--kill`` one instance (not the chair's) is killed with SIGKILL after the rounds, and the time until
every tablet has reconnected through the proxy, rejoined by event number and received the next action
is reported.

    .venv/bin/python bench/bench_scaleout.py                       # 30 tablets, 3 instances, 5 rounds
    .venv/bin/python bench/bench_scaleout.py --clients 60 --kill --json

PostgreSQL and Redis are required (instances share rooms through Redis): ``--postgres`` (default the
test server's ``test`` database, in a schema of its own, dropped at the end) and ``--redis``. Nothing
asserts; the targets are printed next to the numbers. One python-socketio client costs this process
about 150 µs per message received (bench/README.md), so hundreds of tablets measure the tool: for
large N use bench/live_load.py's lean clients instead.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from live_load import PASSWORD, Database, log, percentile, populate, server_environment  # noqa: E402

TARGET_P99_MS = 150.0
TARGET_RECOVERY_S = 10.0
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
COOKIE = "ECSERVER"


def load_cluster():  # noqa: ANN201
    spec = importlib.util.spec_from_file_location("ecabinet_deploy_cluster", ROOT / "deploy" / "cluster.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def sign_in(url: str, email: str):  # noqa: ANN201 - a requests.Session
    import requests
    from urllib3.util import SKIP_HEADER

    session = requests.Session()
    # Sessions are held to their User-Agent; the socket client sends none, so neither does this.
    session.headers["User-Agent"] = SKIP_HEADER
    page = session.get(url + "/login", timeout=10)
    match = CSRF_RE.search(page.text)
    answer = session.post(url + "/login", data={"email": email, "password": PASSWORD,
                                                "csrf_token": match.group(1) or match.group(2)},
                          timeout=10, allow_redirects=False)
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in of {email} failed: {answer.status_code}")
    session.headers["Origin"] = url
    return session


class Tablet:
    """Keeps ``last_seq``; after losing its socket, reconnects through the proxy and joins with it."""

    def __init__(self, url: str, email: str, meeting_id: int) -> None:
        import socketio

        self.url, self.email, self.meeting_id = url, email, meeting_id
        self.http = sign_in(url, email)
        self.sio = socketio.Client(reconnection=False, http_session=self.http, websocket_extra_options={"origin": url})
        self.sio.on("event", self._on_event)
        self.sio.on("disconnect", self._on_disconnect)
        self.last_seq = 0
        self.arrivals: dict[int, float] = {}
        self.closing = False
        self.lock = threading.Lock()

    def server(self) -> str | None:
        return self.http.cookies.get(COOKIE)

    def start(self) -> Tablet:
        self.sio.connect(self.url, transports=["polling", "websocket"], wait_timeout=10)
        self.join()
        return self

    def join(self) -> None:
        ack = self.sio.call("join", {"meeting_id": self.meeting_id, "last_seq": self.last_seq or None}, timeout=15)
        if not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack}")
        now = time.perf_counter()
        with self.lock:
            if "snapshot" in ack:
                self.last_seq = max(self.last_seq, ack["snapshot"]["seq"])
            for event in ack.get("events", []):
                self.arrivals.setdefault(event["seq"], now)
                self.last_seq = max(self.last_seq, event["seq"])

    def _on_event(self, event: dict[str, Any]) -> None:
        now = time.perf_counter()
        with self.lock:
            self.arrivals.setdefault(event["seq"], now)
            if event["seq"] == self.last_seq + 1:
                self.last_seq = event["seq"]

    def _on_disconnect(self, *_: Any) -> None:
        if not self.closing:
            threading.Thread(target=self._reconnect, daemon=True).start()

    def _reconnect(self) -> None:
        delay = 0.5 + (hash(self.email) % 1000) / 1000  # socket.io-client: 1 s ± 50 %
        for _ in range(20):
            time.sleep(delay)
            try:
                if not self.sio.connected:
                    self.sio.connect(self.url, transports=["polling", "websocket"], wait_timeout=10)
                self.join()
                return
            except Exception:  # noqa: BLE001 - the next attempt follows
                try:
                    self.sio.disconnect()
                except Exception:  # noqa: BLE001, S110
                    pass
                delay = min(delay * 2, 5)

    def close(self) -> None:
        self.closing = True
        if self.sio.connected:
            self.sio.disconnect()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=30, help="member tablets (default 30)")
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5, help="chair actions timed to every tablet")
    parser.add_argument("--kill", action="store_true", help="then kill -9 one instance and time the recovery")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (config and logs)")
    return parser.parse_args(argv)


def kill_instance(proc) -> None:  # noqa: ANN001 - a Popen of gunicorn's master
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    workers = [int(p) for p in children.read_text().split()] if children.exists() else []
    for pid in [*workers, proc.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(10)


def main(argv: list[str] | None = None) -> int:  # noqa: C901, PLR0915 - one linear run
    args = parse_args(argv)
    cluster = load_cluster()
    if cluster.haproxy_binary() is None:
        raise SystemExit("haproxy is not installed (apt-get install haproxy)")
    workdir = Path(tempfile.mkdtemp(prefix="ecabinet-scaleout-"))
    database = Database(workdir, args.postgres)
    env = server_environment(workdir, database, args.redis, "ecabinet-scaleout")
    env["TRUSTED_PROXIES"] = "1"
    result: dict[str, Any] = {"benchmark": "bench_scaleout", "clients": args.clients, "instances": args.instances,
                              "rounds": args.rounds}
    procs: list[Any] = []
    proxy = None
    chair: Tablet | None = None
    tablets: list[Tablet] = []
    try:
        database.create(env)
        setup = populate(args.clients)
        meeting_id = setup["meeting_id"]
        ports = [_free_port() for _ in range(args.instances)]
        names = {cluster.server_name(p): i for i, p in enumerate(ports)}
        for port in ports:
            log_path = workdir / f"web-{port}.log"
            procs.append(cluster.start_instance(port, env, log_path))
            cluster.wait_http(f"http://127.0.0.1:{port}/healthz", 60, procs[-1], log_path)
        proxy_port = _free_port()
        proxy = cluster.Haproxy(cluster.render_haproxy_config(proxy_port, ports), workdir, proxy_port).start()
        url = f"http://127.0.0.1:{proxy_port}"

        started = time.perf_counter()
        chair = Tablet(url, setup["chair"], meeting_id).start()
        with ThreadPoolExecutor(8) as pool:
            tablets = list(pool.map(lambda e: Tablet(url, e, meeting_id).start(), setup["members"]))
        result["connect_join_s"] = round(time.perf_counter() - started, 2)
        result["tablets_per_instance"] = dict(Counter(t.server() for t in tablets))
        log(f"{len(tablets)} tablets joined in {result['connect_join_s']} s: {result['tablets_per_instance']}")

        def act(n: int) -> tuple[int, float]:
            sent = time.perf_counter()
            ack = chair.sio.call("chair.set_item", {"meeting_id": meeting_id,
                                                    "item_id": setup["item_ids"][n % len(setup["item_ids"])]},
                                 timeout=15)
            if not ack.get("ok"):
                raise RuntimeError(f"chair action refused: {ack}")
            return ack["seq"], sent

        latencies: list[float] = []
        for n in range(args.rounds):
            seq, sent = act(n)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not all(seq in t.arrivals for t in tablets):
                time.sleep(0.005)
            latencies += [(t.arrivals[seq] - sent) * 1000 for t in tablets if seq in t.arrivals]
            result.setdefault("missed", 0)
            result["missed"] += sum(1 for t in tablets if seq not in t.arrivals)
            time.sleep(0.5)
        result["action_to_tablet_ms"] = {"p50": _round(percentile(latencies, 50)),
                                         "p99": _round(percentile(latencies, 99)),
                                         "max": _round(max(latencies, default=None))}

        if args.kill:
            victim = max((n for n in names if n != chair.server()),
                         key=lambda n: result["tablets_per_instance"].get(n, 0))
            moved = sum(1 for t in tablets if t.server() == victim)
            killed = time.perf_counter()
            kill_instance(procs[names[victim]])
            seq, _ = act(args.rounds)  # an action made during the failover
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not all(t.last_seq >= seq for t in tablets):
                time.sleep(0.01)
            recovered = all(t.last_seq >= seq for t in tablets)
            result["failover"] = {"killed": victim, "tablets_moved": moved, "recovered": recovered,
                                  "recovery_s": round(time.perf_counter() - killed, 2) if recovered else None}
        p99 = result["action_to_tablet_ms"]["p99"]
        result["verdicts"] = [{"what": "chair action -> every tablet p99", "target": f"<= {TARGET_P99_MS} ms",
                               "measured": p99, "ok": p99 is not None and p99 <= TARGET_P99_MS}]
        if "failover" in result:
            rec = result["failover"]["recovery_s"]
            result["verdicts"].append({"what": "kill -9 -> every tablet current", "target": f"<= {TARGET_RECOVERY_S} s",
                                       "measured": rec, "ok": rec is not None and rec <= TARGET_RECOVERY_S})
    finally:
        for tablet in [*tablets, *([chair] if chair else [])]:
            tablet.close()
        if proxy is not None:
            proxy.stop()
        for proc in procs:
            cluster.stop_process(proc)
        try:
            database.drop()
        except Exception as exc:  # noqa: BLE001 - reported, the result still printed
            log(f"could not drop the benchmark schema: {exc!r}")
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


if __name__ == "__main__":
    sys.exit(main())
