"""The live room scaled out: thousands of real-client tablets in many meetings through HAProxy.

The production shape of deploy/, on one machine, started by deploy/cluster.py's ``Cluster``:
deploy/haproxy.cfg (cookie stickiness, WebSocket upgrades) rendered for local ports in front of
``--instances`` gunicorn gevent instances, on a PostgreSQL schema of its own and Redis, with the job
worker. Then:

1. One plenary meeting of ``--plenary`` tablets and ``--meetings`` meetings of ``--per-meeting``
   tablets, each meeting with a chair of its own, all in session; every tablet is its own member,
   signed in over HTTP through the proxy (its own session cookie and HAProxy's ECSERVER cookie).
2. bench/realclient/scaleout.mjs drives them with socket.io-client, the browsers' client: long-polling
   first then the upgrade, the Origin header, a cookie jar kept across reconnections; every tablet joins
   with its last event number, applies events in order and joins again on a gap. The tablets are spread
   over ``--drivers`` Node processes, so that one process's queue does not become the latency measured.
3. Each round, every meeting's chair moves the current item (``chair.set_item``), the chairs staggered
   over the round; each tablet's ``agenda.current_item`` is timed from its chair's emit. Reported per
   meeting: p50/p99/max and events received against expected; per instance: tablets (HAProxy's
   spread), CPU seconds and RSS of its gunicorn worker (/proc).
4. ``--kill``: after the measured rounds one instance (not the plenary chair's) is killed with SIGKILL
   while the chairs keep acting; reported: the time until every tablet has reconnected through the
   proxy, rejoined by number and holds its meeting's current state, and that no event was missed.

    .venv/bin/python bench/bench_scaleout.py --plenary 150 --meetings 5 --per-meeting 20 --rounds 3
    .venv/bin/python bench/bench_scaleout.py --kill --json           # the full run: 3,000 + 100 x 30

Targets: chair action → every tablet p99 <= 150 ms (in every meeting); no event lost; recovery after
kill -9 of an instance <= 10 s. Nothing asserts: the table shows the numbers beside the targets.
Needs PostgreSQL (``--postgres``, default the test server's ``test`` database, a schema dropped at
the end), Redis (``--redis``), haproxy and Node 20+ (bench/realclient's packages are installed with
``npm ci`` when missing). Accounts use the cheap test argon2 profile, as in live_load.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from bench_live_real import node_ready, run_driver, sign_in_all  # noqa: E402 - the same Node driver packages
from live_load import (  # noqa: E402 - the same database, environment and sign-in as the live load test
    PASSWORD,
    USER_AGENT,
    Database,
    percentile,
    raise_nofile,
    server_environment,
)
from report import print_verdicts  # noqa: E402 - the result table every benchmark prints

TARGET_P99_MS = 150.0
TARGET_RECOVERY_S = 10.0
DEFAULT_POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DEFAULT_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def log(message: str) -> None:
    print(f"[bench_scaleout {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_cluster():  # noqa: ANN201 - deploy/cluster.py, a script rather than a package
    spec = importlib.util.spec_from_file_location("ecabinet_deploy_cluster", ROOT / "deploy" / "cluster.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


# --- the meetings --------------------------------------------------------------------------------

def populate(plenary: int, meetings: int, per_meeting: int) -> list[dict[str, Any]]:
    """The plenary and ``meetings`` meetings, each in session with 3 items, a chair and its members.

    A new meeting invites every active member, so the meetings are created first (with no members yet)
    and each member is then added to their own meeting only. Runs in this process, through the services."""
    from ecabinet import create_app
    from ecabinet.accounts import service as accounts
    from ecabinet.accounts.models import Role
    from ecabinet.core.actor import Actor
    from ecabinet.extensions import db
    from ecabinet.meetings import service as meetings_service
    from ecabinet.meetings.models import ParticipantRole

    app = create_app()
    system = Actor.system("bench")
    specs = [("plenary", plenary)] + [(f"m{n:03d}", per_meeting) for n in range(meetings)]
    out: list[dict[str, Any]] = []
    with app.app_context():
        def user(email: str, name: str, role: Role):  # noqa: ANN202
            return accounts.create_user(system, accounts.UserData(email=email, name=name, role=role,
                                                                  organisation="Bộ Thử tải"), PASSWORD)

        secretary = Actor(user=user("secretary@bench.gov.vn", "Thư ký", Role.SECRETARY), ip="127.0.0.1")
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
        created = []
        for n, (name, _size) in enumerate(specs):
            chair = user(f"chair-{name}@bench.gov.vn", f"Chủ tọa {name}", Role.CHAIR)
            meeting = meetings_service.create_meeting(secretary, meetings_service.MeetingData(
                title=f"Phiên họp thử tải {name}", starts_at=start, ends_at=start + timedelta(hours=3),
                place=f"Phòng họp {n + 1}", chair_id=chair.id))
            for i in range(3):
                meetings_service.add_item(secretary, meeting, meetings_service.ItemData(title=f"Tờ trình {i + 1}",
                                                                                      duration_minutes=20))
            created.append((meeting, chair))
        db.session.commit()
        total = 0
        for (name, size), (meeting, chair) in zip(specs, created, strict=True):
            members = []
            for i in range(size):
                member = user(f"{name}-{i:05d}@bench.gov.vn", f"Thành viên {name} {i:05d}", Role.MEMBER)
                meetings_service.add_participant(secretary, meeting, member, ParticipantRole.MEMBER)
                members.append(member.email)
                total += 1
                if total % 500 == 0:
                    log(f"  {total} members created")
            meetings_service.publish(secretary, meeting)
            meetings_service.start_meeting(Actor(user=chair, ip="127.0.0.1"), meeting)
            db.session.commit()  # the services only stage: this setup is their boundary
            out.append({"id": meeting.id, "name": name, "item_ids": [i.id for i in meeting.items],
                        "chair": chair.email, "members": members})
        db.session.remove()
        db.engine.dispose()
    return out


def warm_up(cluster: Any) -> None:  # noqa: ANN401 - deploy/cluster.py's Cluster
    """A few pages from each instance directly: a fresh worker's first requests load templates and
    modules, long enough for HAProxy's 1 s health check to take it out on a busy machine."""
    import urllib.request

    for instance in cluster.web:
        for _ in range(3):
            with contextlib.suppress(OSError), urllib.request.urlopen(  # noqa: S310 - loopback, ours
                    f"http://127.0.0.1:{instance.port}/login", timeout=30) as answer:
                answer.read()


def marked_down(haproxy_log: Path, killed: str | None) -> dict[str, int]:
    """How often HAProxy's health checks took each instance out (the killed one's own end not counted):
    an instance too busy to answer /healthz within a second loses its tablets to the others."""
    counts: dict[str, int] = {}
    try:
        lines = haproxy_log.read_text(errors="replace").splitlines()
    except OSError:
        return counts
    for line in lines:
        if line.startswith("Server ecabinet_web/") and " is DOWN" in line:
            name = line.split("/", 1)[1].split()[0]
            counts[name] = counts.get(name, 0) + 1
    if killed in counts:
        counts[killed] -= 1
    return {k: v for k, v in counts.items() if v}


# --- the verdicts --------------------------------------------------------------------------------

def verdicts(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of the table: each measured value beside its target (pass None: no target)."""
    run = result.get("run") or {}
    meetings = run.get("per_meeting") or []
    plenary = next((m for m in meetings if m["meeting"] == "plenary"), None)
    small = [m for m in meetings if m["meeting"] != "plenary"]
    small_p99 = [m["latency_ms"]["p99"] for m in small if m["latency_ms"]["p99"] is not None]
    worst = max(meetings, key=lambda m: m["latency_ms"]["p99"] or 0, default=None)
    expected = sum(m["expected"] for m in meetings)
    received = sum(m["received"] for m in meetings)
    setup = run.get("setup") or {}
    tablets = result.get("tablets")

    def p99_ok(value: float | None) -> bool | None:
        return None if value is None else value <= TARGET_P99_MS

    rows = [
        {"what": "tablets connected and joined through HAProxy", "target": f"{tablets}",
         "measured": setup.get("joined"), "unit": "", "pass": setup.get("joined") == tablets},
        {"what": "connect + join of all tablets", "target": "", "measured": setup.get("connect_and_join_s"),
         "unit": "s", "pass": None},
        {"what": "events received / expected (every tablet, every action)", "target": "all",
         "measured": f"{received}/{expected}", "unit": "", "pass": expected > 0 and received == expected},
    ]
    if plenary:
        lat = plenary["latency_ms"]
        rows.append({"what": f"plenary ({plenary['tablets']} tablets): chair action → tablet p50 / max",
                     "target": "", "measured": f"{lat['p50']} / {lat['max']}", "unit": "ms", "pass": None})
        rows.append({"what": "plenary: chair action → every tablet p99", "target": f"≤ {TARGET_P99_MS:.0f}",
                     "measured": lat["p99"], "unit": "ms", "pass": p99_ok(lat["p99"])})
    if small:
        rows.append({"what": f"{len(small)} meetings of {small[0]['tablets']}: p99, median meeting", "target": "",
                     "measured": percentile(small_p99, 50), "unit": "ms", "pass": None})
        rows.append({"what": f"{len(small)} meetings: p99 of the worst meeting", "target": f"≤ {TARGET_P99_MS:.0f}",
                     "measured": max(small_p99, default=None), "unit": "ms",
                     "pass": p99_ok(max(small_p99, default=None))})
    if worst is not None:
        rows.append({"what": "meetings within the p99 target", "target": f"{len(meetings)}",
                     "measured": sum(1 for m in meetings if p99_ok(m["latency_ms"]["p99"])), "unit": "",
                     "pass": all(p99_ok(m["latency_ms"]["p99"]) for m in meetings)})
    for name, inst in (run.get("instances") or {}).items():
        rows.append({"what": f"instance {name}: tablets, CPU s (joins / rounds), RSS", "target": "",
                     "measured": f"{inst['tablets']}, {inst['cpu_s_joins']} / {inst['cpu_s_rounds']} s, "
                                 f"{inst['rss_mib']} MiB", "unit": "", "pass": None})
    client = run.get("client") or {}
    rows.append({"what": f"load drivers (Node, {client.get('drivers')}): busiest's CPU per round, worst loop lag",
                 "target": "", "measured": f"{client.get('cpu_ms_per_round')} ms, {client.get('loop_lag_max_ms')} ms",
                 "unit": "", "pass": None})
    fo = run.get("failover")
    if fo:
        rows += [
            {"what": f"kill -9 of {fo.get('killed')} ({fo.get('tablets_on_it')} tablets, {fo.get('chairs_on_it')} "
                     "chairs): every tablet current", "target": f"≤ {TARGET_RECOVERY_S:.0f}",
             "measured": fo.get("recovery_s"), "unit": "s",
             "pass": fo.get("recovery_s") is not None and fo["recovery_s"] <= TARGET_RECOVERY_S},
            {"what": "moved tablets rejoined (p50 / max after the kill)", "target": f"{fo.get('tablets_on_it')}",
             "measured": f"{fo.get('moved_rejoined')} ({(fo.get('moved_rejoin_s') or {}).get('p50')} / "
                         f"{(fo.get('moved_rejoin_s') or {}).get('max')} s)", "unit": "",
             "pass": fo.get("moved_rejoined") == fo.get("tablets_on_it")},
            {"what": "events during the failover: received / expected (replayed)", "target": "all",
             "measured": f"{fo.get('received')}/{fo.get('expected')} ({fo.get('replayed')})", "unit": "",
             "pass": bool(fo.get("expected")) and fo.get("received") == fo.get("expected")},
        ]
    if "haproxy_marked_down" in result:
        down = result["haproxy_marked_down"]
        rows.append({"what": "instances taken out by HAProxy's health check (busy > 1 s)", "target": "0",
                     "measured": sum(down.values()), "unit": "", "pass": not down})
    final = run.get("final") or {}
    if final:
        rows.append({"what": "tablets holding the current state at the end", "target": f"{final.get('tablets')}",
                     "measured": final.get("tablets_current"), "unit": "",
                     "pass": final.get("tablets_current") == final.get("tablets")})
    return rows


def print_table(result: dict[str, Any]) -> None:
    print(f"\nbench_scaleout: {result['tablets']} tablets in {result['meetings']} meetings (plenary "
          f"{result['plenary']}, {result['small_meetings']} x {result['per_meeting']}), {result['instances']} "
          f"instances behind HAProxy, {result['rounds']} rounds{', kill -9' if result['kill'] else ''}")
    print_verdicts(result["verdicts"], measured_width=26)
    meetings = (result.get("run") or {}).get("per_meeting") or []
    if meetings:
        print(f"\n{'meeting':<10} {'tablets':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'received':>14}")
        shown = meetings if len(meetings) <= 12 else [meetings[0], *sorted(
            meetings[1:], key=lambda m: -(m["latency_ms"]["p99"] or 0))[:10]]
        for m in shown:
            lat = m["latency_ms"]
            print(f"{m['meeting']:<10} {m['tablets']:>7} {lat['p50']!s:>8} {lat['p99']!s:>8} {lat['max']!s:>8} "
                  f"{m['received']:>7}/{m['expected']:<6}")
        if len(meetings) > 12:
            print(f"(the plenary and the 10 meetings with the highest p99 of {len(meetings)}; all in --json)")
    if result.get("error"):
        print(f"error: {result['error']}")


# --- the run -------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--plenary", type=int, default=3000, help="tablets in the plenary meeting (default 3000)")
    p.add_argument("--meetings", type=int, default=100, help="other meetings at the same time (default 100)")
    p.add_argument("--per-meeting", type=int, default=30, help="tablets in each of them (default 30)")
    p.add_argument("--rounds", type=int, default=10, help="measured rounds: every chair acts once in each")
    p.add_argument("--interval", type=float, default=2.0, help="seconds per round (the chairs spread over it)")
    p.add_argument("--instances", type=int, default=3, help="app instances behind HAProxy (default 3)")
    p.add_argument("--kill", action="store_true", help="then SIGKILL one instance and time the recovery")
    p.add_argument("--failover-rounds", type=int, default=5, help="rounds acted during the failover (--kill)")
    p.add_argument("--round-timeout", type=float, default=20.0, help="how long deliveries are waited for")
    p.add_argument("--concurrency", type=int, default=10, help="sign-ins in flight at once")
    p.add_argument("--connect-concurrency", type=int, default=50, help="connect + join in flight at once")
    p.add_argument("--drivers", type=int, default=0,
                   help="Node processes holding the tablets (default: one per 1,500 tablets, at most 4)")
    p.add_argument("--polling-first", action="store_true",
                   help="tablets start with long-polling and upgrade (default: WebSocket first, as live.js)")
    p.add_argument("--no-worker", action="store_true", help="do not start the job worker")
    p.add_argument("--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL (a fresh schema in it, dropped after)")
    p.add_argument("--redis", default=DEFAULT_REDIS, help="Redis, shared by the instances")
    p.add_argument("--time-limit", type=float, default=3600.0, help="hard limit for the whole run, seconds")
    p.add_argument("--keep", action="store_true", help="keep the work folder (HAProxy's and the instances' logs)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = p.parse_args(argv)
    if args.plenary < 1 or args.meetings < 0 or args.per_meeting < 1 or args.rounds < 1 or args.instances < 1:
        p.error("--plenary, --per-meeting, --rounds and --instances take 1 or more, --meetings 0 or more")
    if args.kill and args.instances < 2:
        p.error("--kill needs 2 or more instances")
    return args


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - one linear run, easier to read whole
    args = parse_args(argv)
    cluster_module = load_cluster()
    nofile = raise_nofile()  # inherited by node and the instances
    workdir = Path(tempfile.mkdtemp(prefix="ecabinet-scaleout-"))
    database = Database(workdir, args.postgres)
    env = server_environment(workdir, database, args.redis, "ecabinet-scaleout")
    tablets = args.plenary + args.meetings * args.per_meeting
    result: dict[str, Any] = {
        "benchmark": "bench_scaleout", "tablets": tablets, "meetings": 1 + args.meetings, "plenary": args.plenary,
        "small_meetings": args.meetings, "per_meeting": args.per_meeting, "rounds": args.rounds,
        "interval_s": args.interval, "instances": args.instances, "kill": args.kill, "open_file_limit": nofile,
        "client": "socket.io-client 4.8.1 (Node): long-polling, then WebSocket; through HAProxy",
        "note": "accounts use the cheap test argon2 profile (ECABINET_FAST_PASSWORD_HASH_FOR_TESTS=1)",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    cluster = None
    stopped = threading.Event()
    started = time.perf_counter()

    def cleanup() -> None:
        if stopped.is_set():
            return
        stopped.set()
        if cluster is not None:
            cluster.stop()
        with contextlib.suppress(Exception):
            database.drop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    def finish() -> None:
        result["verdicts"] = verdicts(result)
        result["elapsed_s"] = round(time.perf_counter() - started, 1)

    def watchdog() -> None:
        log(f"time limit of {args.time_limit:.0f} s reached: stopping")
        result["error"] = result.get("error") or f"time limit of {args.time_limit:.0f} s reached"
        cleanup()
        with contextlib.suppress(Exception):
            finish()
            print(json.dumps(result, ensure_ascii=False) if args.json else result, flush=True)
        os._exit(3)

    timer = threading.Timer(args.time_limit, watchdog)
    timer.daemon = True
    timer.start()
    try:
        if cluster_module.haproxy_binary() is None:
            raise RuntimeError("haproxy is not installed (apt-get install haproxy)")
        node = node_ready()
        result["node"] = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()  # noqa: S603
        log(f"work folder {workdir}; {tablets} tablets in {1 + args.meetings} meetings")
        database.create(env)
        t0 = time.perf_counter()
        meetings = populate(args.plenary, args.meetings, args.per_meeting)
        result["populate_s"] = round(time.perf_counter() - t0, 1)
        log(f"{len(meetings)} meetings populated in {result['populate_s']} s")

        # Room for every tablet twice (its reconnection while the old connection closes), within the
        # descriptors HAProxy may open: two per connection, or it refuses to start.
        maxconn = min(max(4000, 2 * tablets + 500), (nofile - 200) // 2)
        result["haproxy_maxconn"] = maxconn
        cluster = cluster_module.Cluster(env, workdir, args.instances, job_worker=not args.no_worker,
                                         stats_port=cluster_module.free_port(), maxconn=maxconn)
        cluster.start()
        result["job_worker"] = cluster.worker is not None
        warm_up(cluster)
        cluster.wait_all_up()
        log(f"{args.instances} instances behind HAProxy at {cluster.url}")

        t0 = time.perf_counter()
        emails = [e for m in meetings for e in [m["chair"], *m["members"]]]
        # Through the proxy: an instance busy past HAProxy's health check is out for a moment (503).
        signed_in = asyncio.run(sign_in_all(cluster.url, emails, args.concurrency, attempts=5,
                                            progress=lambda done: log(f"  {done} signed in")))
        cookies = dict(zip(emails, signed_in, strict=True))
        result["sign_in_s"] = round(time.perf_counter() - t0, 1)
        log(f"{len(cookies)} sign-ins through the proxy in {result['sign_in_s']} s")

        config = {
            "url": cluster.url, "userAgent": USER_AGENT, "clkTck": os.sysconf("SC_CLK_TCK"),
            "meetings": [{"id": m["id"], "name": m["name"], "itemIds": m["item_ids"],
                          "chairCookie": cookies[m["chair"]], "cookies": [cookies[e] for e in m["members"]]}
                         for m in meetings],
            "instances": [{"name": i.name, "masterPid": i.proc.pid, "workerPid": i.worker_pid} for i in cluster.web],
            "haproxyPid": cluster.proxy.proc.pid, "rounds": args.rounds, "interval": args.interval,
            "drivers": args.drivers or min(4, -(-tablets // 1500)),
            "pollingFirst": args.polling_first,
            "warmupRounds": 1, "roundTimeout": args.round_timeout, "connectConcurrency": args.connect_concurrency,
            "kill": {"failoverRounds": args.failover_rounds, "recoveryTimeout": 60} if args.kill else None,
        }
        remaining = max(60.0, args.time_limit - (time.perf_counter() - started) - 30)
        result["load_average_before_driver"] = [round(x, 2) for x in os.getloadavg()]
        result["run"] = run_driver(node, config, workdir, remaining, script="scaleout.mjs")
        result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        if result["run"].get("error"):
            result["error"] = result["run"]["error"]
        result["haproxy_marked_down"] = marked_down(workdir / "haproxy.log", killed=(
            result["run"].get("failover") or {}).get("killed"))
        dead = [i.name for i in cluster.web if i.proc.poll() is not None]
        killed = (result["run"].get("failover") or {}).get("killed")
        if [d for d in dead if d != killed]:
            result["error"] = result.get("error") or f"instances exited during the run: {dead}"
    except KeyboardInterrupt:
        result["error"] = "interrupted"
    except Exception as exc:  # noqa: BLE001 - reported in the output
        result["error"] = f"{type(exc).__name__}: {exc}"
        log(f"error: {result['error']}")
    finally:
        timer.cancel()
        cleanup()
    finish()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print_table(result)
    return 0 if not result.get("error") else 2


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
