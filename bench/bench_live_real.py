"""The live room with the client real tablets run: socket.io-client (Node), against a bare Node baseline.

bench/live_load.py drives the room with a lean Python client that never offers WebSocket compression.
Browsers run socket.io-client, which offers ``permessage-deflate``; the server (simple-websocket over
wsproto) accepts it, so every broadcast is compressed once per socket and every socket keeps a zlib
context. This benchmark measures the room as the tablets use it:

1. The app runs as in production (``gunicorn -k gevent -w 1``, bench/live_load.py's ``Server``) on a
   database of its own (a temporary SQLite file, or ``--postgres`` a fresh schema, ``--redis`` the
   message queue). A meeting in session with N members; each signs in over HTTP with its own cookie
   (live_load.py's ``sign_in``).
2. bench/realclient/driver.mjs (socket.io-client 4.8.1, the version the app serves to browsers) opens N
   websocket connections with those cookies and the app's Origin, joins the meeting as static/js/live.js
   does (``join``, whose answer carries the ballots list), and times ``agenda.current_item`` from just
   before the chair's ``chair.set_item`` to each tablet; it counts the bytes each tablet's socket read
   per event, and reads the worker's CPU time and memory from /proc.
3. Once per compression mode (``--modes``, default ``deflate,server_nct,plain``): ``deflate``, the
   browser's offer (permessage-deflate; client_max_window_bits) to the app as it is, which the targets
   are checked on; ``server_nct``, the same offer to a server that answers
   ``server_no_context_takeover`` (wsproto then drops its compressor after every message); ``plain``,
   ``perMessageDeflate: false`` (no offer, no compression); ``server_off``, the server declining the
   browser's offer. The server-side modes are the app change measured before it is made: a gunicorn
   hook wraps the worker's app to edit the offer (``WS_COMPRESSION_HOOK``). A fresh server per mode,
   so its memory is the memory of that mode.
4. The baseline, same machine, same N, same clients and the same payload (the event the tablets received
   from e-Cabinet): a bare socket.io 4.8 server in Node with its defaults (compression off), with N
   tablets of its own, started by the driver beside each e-Cabinet mode; the chair's actions take turns,
   one on e-Cabinet, one on the bare server, so both are measured under the same load. As a control, the
   bare server compressing every message, run on its own (``--no-bare-control`` leaves it out).

Targets: chair action → every tablet p99 <= 150 ms and <= 1.5 × the bare Node server's p99 in the same
run; worker RSS <= 400 MiB with N tablets; connect + join of all N within 15 s.

    .venv/bin/python bench/bench_live_real.py --clients 200 --rounds 5       # a quick look
    .venv/bin/python bench/bench_live_real.py                                # 2,000 tablets, SQLite
    .venv/bin/python bench/bench_live_real.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        --redis redis://127.0.0.1:6379/14 --json
    BENCH_REAL_CLIENTS=500 BENCH_REAL_MODES=deflate,server_off .venv/bin/python bench/run.py --only bench_live_real

Needs Node (20+); the driver's packages are installed into bench/realclient/node_modules (``npm ci``)
when they are missing. Accounts use the cheap test argon2 profile, as in live_load.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from live_load import (  # noqa: E402 - the same production-like server and sign-in as the live load test
    ROOT,
    USER_AGENT,
    Database,
    Server,
    percentile,
    populate,
    raise_nofile,
    server_environment,
    sign_in,
)
from report import print_verdicts  # noqa: E402 - the result table every benchmark prints

REALCLIENT = Path(__file__).resolve().parent / "realclient"
DEFAULT_CLIENTS = int(os.environ.get("BENCH_REAL_CLIENTS", "2000"))
TARGET_P99_MS = 150.0
TARGET_RATIO = 1.5
TARGET_RSS_MIB = 400.0
TARGET_JOIN_S = 15.0
# e-Cabinet runs: (what the tablets offer, what the server does with the offer). "browser" is the
# browser's offer (permessage-deflate; client_max_window_bits), "none" perMessageDeflate: false,
# "no_context_takeover" the browser's offer plus server_ and client_no_context_takeover. On the server
# side None is the app as it is; "off" and "no_context_takeover" are the app change measured before it is
# made (WS_COMPRESSION_HOOK).
MODES: dict[str, tuple[str, str | None]] = {
    "deflate": ("browser", None),                    # the tablets today
    "server_nct": ("browser", "no_context_takeover"),  # the server answers server_no_context_takeover
    "plain": ("none", None),                         # compression not offered
    "server_off": ("browser", "off"),                # the server declines the browser's offer
    "deflate_nct": ("no_context_takeover", None),    # the client asks for no context takeover both ways
}
DEFAULT_MODES = ("deflate", "server_nct", "plain")

# The app change a compression mode stands for, without changing the app: a WSGI wrapper around the
# worker's app (a gunicorn hook) that edits the tablet's permessage-deflate offer before simple-websocket
# hands the handshake to wsproto (simple_websocket.Server.handshake rebuilds it from the environ's HTTP_*
# keys; wsproto accepts what the offer asks for). "off": no offer, so no compression;
# "no_context_takeover": wsproto answers server_no_context_takeover, which RFC 7692 (7.1.1.1) lets a
# server add unasked, and drops its compressor after every message.
WS_COMPRESSION_HOOK = """

def post_worker_init(worker):
    app = worker.wsgi
    inner = app.wsgi_app
    mode = {mode!r}

    def ws_compression(environ, start_response):
        offer = environ.get("HTTP_SEC_WEBSOCKET_EXTENSIONS")
        if offer and environ.get("PATH_INFO", "").startswith("/socket.io"):
            if mode == "off":
                del environ["HTTP_SEC_WEBSOCKET_EXTENSIONS"]
            elif "permessage-deflate" in offer and "server_no_context_takeover" not in offer:
                environ["HTTP_SEC_WEBSOCKET_EXTENSIONS"] = offer.split(",")[0] + "; server_no_context_takeover"
        return inner(environ, start_response)

    app.wsgi_app = ws_compression
"""


def log(message: str) -> None:
    print(f"[bench_live_real {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def node_ready() -> str:
    """The node executable, with the driver's packages installed; raises when Node is not there."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed (Node 20+ runs bench/realclient)")
    if not (REALCLIENT / "node_modules" / "socket.io-client").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not installed: cannot install bench/realclient's packages")
        log("installing bench/realclient's packages (npm ci)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=REALCLIENT, check=True, capture_output=True,
                       timeout=300)
    return node


def run_driver(node: str, config: dict[str, Any], workdir: Path, timeout: float,
               script: str = "driver.mjs") -> dict[str, Any]:
    """One run of a bench/realclient script (driver.mjs, scaleout.mjs) on a JSON config; the JSON it prints
    last (its stderr goes through to ours: its progress lines)."""
    path = workdir / f"{Path(script).stem}-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(config))
    try:
        proc = subprocess.run([node, str(REALCLIENT / script), str(path)], cwd=REALCLIENT,  # noqa: S603
                              stdout=subprocess.PIPE, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"the driver did not finish within {timeout:.0f} s"}
    finally:
        path.unlink(missing_ok=True)  # it holds every tablet's sign-in cookie
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": f"the driver printed no result (exit code {proc.returncode})"}
    return json.loads(lines[-1])


async def sign_in_all(base_url: str, emails: list[str], concurrency: int, *, attempts: int = 1,
                      progress: Callable[[int], None] | None = None) -> list[str]:
    """Each account signed in over HTTP: its Cookie header. ``attempts`` > 1 retries a failed sign-in (behind
    HAProxy an instance busy past its health check is out for a moment: 503); ``progress`` is told the count
    of sign-ins done after every 1,000."""
    import aiohttp

    sem = asyncio.Semaphore(concurrency)
    done = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar(),
                                     headers={"User-Agent": USER_AGENT},
                                     timeout=aiohttp.ClientTimeout(total=120)) as http:
        async def one(email: str) -> str:
            nonlocal done
            async with sem:
                for attempt in range(attempts):
                    try:
                        cookie = await sign_in(http, base_url, email)
                        break
                    except (TimeoutError, RuntimeError, aiohttp.ClientError):
                        if attempt == attempts - 1:
                            raise
                        await asyncio.sleep(1 + attempt)
                done += 1
                if progress is not None and done % 1000 == 0:
                    progress(done)
                return cookie

        return list(await asyncio.gather(*(one(e) for e in emails)))


def ratio(value: float | None, base: float | None) -> float | None:
    return round(value / base, 2) if value is not None and base else None


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """The figures of each run side by side: e-Cabinet per mode, each beside the bare Node server measured
    in turns with it, and the ratios."""
    out: dict[str, Any] = {}
    runs: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = []
    for mode, run in (result.get("ecabinet") or {}).items():
        runs += [(f"ecabinet_{mode}", run, run.get("paired_bare")),
                 (f"bare_node_with_{mode}", run.get("paired_bare"), None)]
    runs.append(("bare_node_deflate", result.get("bare_deflate"), None))
    for name, run, paired in runs:
        if not run:
            continue
        bare = (paired or {}).get("latency_ms") or {}
        lat = run.get("latency_ms") or {}
        # On a loaded machine the p99 over all rounds is the worst round's; the median round, and the
        # median of each round's ratio to the bare round next to it, say what a typical action costs.
        round_p99 = [r["p99_ms"] for r in run.get("rounds") or [] if r.get("p99_ms") is not None]
        pairs = zip(run.get("rounds") or [], (paired or {}).get("rounds") or [], strict=False)
        round_ratios = [a["p99_ms"] / b["p99_ms"] for a, b in pairs if a.get("p99_ms") and b.get("p99_ms")]
        server = run.get("server") or {}
        out[name] = {"p50_ms": lat.get("p50"), "p99_ms": lat.get("p99"), "max_ms": lat.get("max"),
                     "received": f"{sum(r['received'] for r in run.get('rounds') or [])}/"
                                 f"{sum(r['expected'] for r in run.get('rounds') or [])}",
                     "join_s": (run.get("setup") or {}).get("connect_and_join_s"),
                     "rss_connected_mib": server.get("rss_connected_mib"), "rss_peak_mib": server.get("rss_peak_mib"),
                     "server_cpu_ms_per_round": server.get("cpu_ms_per_round"),
                     "server_cpu_us_per_message": server.get("cpu_us_per_client_message"),
                     "bytes_per_event": run.get("bytes_per_event"), "packet_bytes": run.get("packet_bytes"),
                     "bytes_per_join": (run.get("setup") or {}).get("bytes_read_per_join"),
                     "server_cpu_s_joins": (run.get("setup") or {}).get("server_cpu_s"),
                     "client_cpu_ms_per_round": run.get("client_cpu_ms_per_round"),
                     "load_average": run.get("load_average"),
                     "p99_vs_bare_node": ratio(lat.get("p99"), bare.get("p99")),
                     "round_p99_median_ms": percentile(round_p99, 50),
                     "round_p99_vs_bare_median": round(percentile(round_ratios, 50), 2) if round_ratios else None,
                     "extensions": run.get("negotiated_extensions"), "error": run.get("error")}
    return out


MODE_LABELS = {"deflate": "compression offered (browser)", "server_nct": "server_no_context_takeover",
               "plain": "compression not offered", "server_off": "server declines compression",
               "deflate_nct": "client asks no context takeover"}


def verdicts(result: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """Targets on the browser's default (compression offered); the other runs are shown beside them."""
    s = summary(result)  # from the raw runs: also right for results saved before a summary field existed
    modes = [m for m in result.get("modes") or DEFAULT_MODES if f"ecabinet_{m}" in s] or ["deflate"]
    head = modes[0]
    main = s.get(f"ecabinet_{head}") or {}
    run = (result.get("ecabinet") or {}).get(head) or {}
    connected = run.get("connected")
    received = (main.get("received") or "0/0").split("/")
    rows = [
        {"what": f"tablets connected and joined, {MODE_LABELS[head]}", "target": f"{n}", "measured": connected,
         "unit": "", "pass": connected == n},
        {"what": "rounds: tablets reached / expected", "target": "all", "measured": main.get("received"), "unit": "",
         "pass": received[0] == received[1] != "0" and bool(run.get("all_rounds_complete"))},
        {"what": "chair action → every tablet, p50", "target": "", "measured": main.get("p50_ms"), "unit": "ms",
         "pass": None},
        {"what": "chair action → every tablet, p99", "target": f"≤ {TARGET_P99_MS:.0f}", "measured": main.get("p99_ms"),
         "unit": "ms", "pass": main.get("p99_ms") is not None and main["p99_ms"] <= TARGET_P99_MS},
        {"what": "chair action → every tablet, max", "target": "", "measured": main.get("max_ms"), "unit": "ms",
         "pass": None},
        {"what": "bare Node socket.io, same clients and payload, p99", "target": "",
         "measured": (s.get(f"bare_node_with_{head}") or {}).get("p99_ms"), "unit": "ms", "pass": None},
        {"what": "p99 e-Cabinet / bare Node", "target": f"≤ {TARGET_RATIO}", "measured": main.get("p99_vs_bare_node"),
         "unit": "×", "pass": main.get("p99_vs_bare_node") is not None and main["p99_vs_bare_node"] <= TARGET_RATIO},
        {"what": "median round: p99, and p99 / the bare round beside it", "target": "",
         "measured": f"{main.get('round_p99_median_ms')} ms, {main.get('round_p99_vs_bare_median')} ×", "unit": "",
         "pass": None},
        {"what": f"worker RSS with {connected} tablets connected", "target": f"≤ {TARGET_RSS_MIB:.0f}",
         "measured": main.get("rss_connected_mib"), "unit": "MiB",
         "pass": main.get("rss_connected_mib") is not None and main["rss_connected_mib"] <= TARGET_RSS_MIB},
        {"what": "connect + join of all tablets", "target": f"≤ {TARGET_JOIN_S:.0f}", "measured": main.get("join_s"),
         "unit": "s", "pass": main.get("join_s") is not None and main["join_s"] <= TARGET_JOIN_S and connected == n},
        {"what": "bytes on the wire per event per tablet", "target": "", "measured": main.get("bytes_per_event"),
         "unit": "B", "pass": None},
        {"what": "worker CPU per chair action", "target": "", "measured": main.get("server_cpu_ms_per_round"),
         "unit": "ms", "pass": None},
    ]
    for mode in modes[1:]:
        other, label = s[f"ecabinet_{mode}"], MODE_LABELS[mode]
        rows += [{"what": f"{label}: {what}", "target": "", "measured": other.get(key), "unit": unit, "pass": None}
                 for what, key, unit in (("p99", "p99_ms", "ms"), ("p99 / bare Node", "p99_vs_bare_node", "×"),
                                         ("median round's p99 / bare", "round_p99_vs_bare_median", "×"),
                                         ("worker RSS", "rss_connected_mib", "MiB"),
                                         ("bytes per event", "bytes_per_event", "B"),
                                         ("worker CPU per chair action", "server_cpu_ms_per_round", "ms"))]
    return rows


def print_table(result: dict[str, Any]) -> None:
    print(f"\nbench_live_real: {result['clients']} tablets (socket.io-client), database {result['database']}"
          f"{', Redis' if result['redis'] else ''}")
    print_verdicts(result["verdicts"], what_width=58)
    print(f"\n{'run':<26} p50 ms   p99 ms   max ms  round p99   received    join s  RSS MiB  B/event  B/join  "
          "CPU ms/round  ×bare  round ×bare  load")
    for name, v in (result.get("summary") or {}).items():
        print(f"{name:<26} {v['p50_ms']!s:>7} {v['p99_ms']!s:>8} {v['max_ms']!s:>8} {v['round_p99_median_ms']!s:>10} "
              f"{v['received']:>10} "
              f"{v['join_s']!s:>8} {v['rss_connected_mib']!s:>8} {v['bytes_per_event']!s:>8} "
              f"{v['bytes_per_join']!s:>7} {v['server_cpu_ms_per_round']!s:>13} {v['p99_vs_bare_node'] or ''!s:>6} "
              f"{v['round_p99_vs_bare_median'] or ''!s:>12}  {v['load_average'] or ''}")
    if result.get("error"):
        print(f"error: {result['error']}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=DEFAULT_CLIENTS,
                   help=f"tablets in the meeting (default {DEFAULT_CLIENTS}; env BENCH_REAL_CLIENTS)")
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--interval", type=float, default=1.0, help="seconds between chair actions")
    p.add_argument("--round-timeout", type=float, default=20.0, help="how long a round waits for every tablet")
    p.add_argument("--concurrency", type=int, default=30, help="sign-ins in flight at once (see live_load.py)")
    p.add_argument("--connect-concurrency", type=int, default=20, help="connect + join in flight at once")
    p.add_argument("--worker-connections", type=int, default=4096, help="gunicorn's --worker-connections")
    p.add_argument("--modes", default=os.environ.get("BENCH_REAL_MODES") or ",".join(DEFAULT_MODES),
                   help=f"e-Cabinet runs, comma-separated, of {', '.join(MODES)} (default {','.join(DEFAULT_MODES)}): "
                        "deflate = the browser's offer, as the app is; server_nct / server_off = the browser's "
                        "offer, the server answering no context takeover / declining; plain = no offer; "
                        "deflate_nct = the client asks for no context takeover both ways; env BENCH_REAL_MODES")
    p.add_argument("--no-bare-control", action="store_true",
                   help="leave out the bare Node server compressing every message (the control run)")
    p.add_argument("--postgres", metavar="URL", help="run on a fresh schema in this PostgreSQL database")
    p.add_argument("--redis", metavar="URL", help="set REDIS_URL (Socket.IO message queue)")
    p.add_argument("--time-limit", type=float, default=900.0, help="hard limit for the whole run, seconds")
    p.add_argument("--keep", action="store_true", help="keep the work folder (server logs, database)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = p.parse_args(argv)
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not args.modes or any(m not in MODES for m in args.modes):
        p.error(f"--modes takes {', '.join(MODES)}")
    return args


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - one linear run, easier to read whole
    args = parse_args(argv)
    nofile = raise_nofile()  # inherited by node and the servers it starts
    workdir = Path(tempfile.mkdtemp(prefix="ecabinet-bench-real-"))
    database = Database(workdir, args.postgres)
    env = server_environment(workdir, database, args.redis, "ecabinet-bench-real")
    result: dict[str, Any] = {
        "benchmark": "bench_live_real", "clients": args.clients, "rounds_requested": args.rounds,
        "database": "postgresql" if args.postgres else "sqlite", "redis": bool(args.redis),
        "client": "socket.io-client 4.8.1 (Node, websocket transport)", "modes": args.modes,
        "open_file_limit": nofile, "ecabinet": {},
        "note": "accounts use the cheap test argon2 profile (ECABINET_FAST_PASSWORD_HASH_FOR_TESTS=1)",
    }
    servers: list[Server] = []
    stopped = threading.Event()
    started = time.perf_counter()

    def cleanup() -> None:
        if stopped.is_set():
            return
        stopped.set()
        for server in servers:
            server.stop()
        with contextlib.suppress(Exception):
            database.drop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    def finish() -> None:
        result["summary"] = summary(result)
        result["verdicts"] = verdicts(result, args.clients)
        result["elapsed_s"] = round(time.perf_counter() - started, 1)

    def watchdog() -> None:
        log(f"time limit of {args.time_limit:.0f} s reached: stopping")
        result["error"] = result.get("error") or f"time limit of {args.time_limit:.0f} s reached"
        cleanup()
        with contextlib.suppress(Exception):
            finish()
            print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else result, flush=True)
        os._exit(3)

    timer = threading.Timer(args.time_limit, watchdog)
    timer.daemon = True
    timer.start()

    def remaining() -> float:
        return max(30.0, args.time_limit - (time.perf_counter() - started) - 20)

    try:
        node = node_ready()
        result["node"] = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
        log(f"work folder {workdir}; database {result['database']}{' + Redis' if args.redis else ''}; "
            f"node {result['node']}")
        database.create(env)
        t0 = time.perf_counter()
        setup = populate(args.clients)
        result["populate_s"] = round(time.perf_counter() - t0, 1)
        log(f"meeting {setup['meeting_id']} with {setup['participants']} participants ({result['populate_s']} s)")
        common = {"clients": args.clients, "meetingId": setup["meeting_id"], "itemIds": setup["item_ids"],
                  "rounds": args.rounds, "interval": args.interval, "roundTimeout": args.round_timeout,
                  "connectConcurrency": args.connect_concurrency, "userAgent": USER_AGENT,
                  "clkTck": os.sysconf("SC_CLK_TCK")}
        cookies: list[str] = []
        chair_cookie = ""
        for mode in args.modes:
            # A fresh server per mode: its memory is then the memory of that mode alone. The sign-in
            # sessions live in the database, so the cookies stay valid across servers.
            offer, server_side = MODES[mode]
            server = Server(env, workdir, args.worker_connections)
            if server_side is not None:
                with server.config_path.open("a") as hook:
                    hook.write(WS_COMPRESSION_HOOK.format(mode=server_side))
            servers.append(server)
            server.start()
            log(f"[{mode}] server {server.url}, worker {server.worker_pid}, RSS {server.rss_mib():.0f} MiB")
            if not cookies:
                t0 = time.perf_counter()
                cookies = asyncio.run(sign_in_all(server.url, setup["members"], args.concurrency))
                chair_cookie = asyncio.run(sign_in_all(server.url, [setup["chair"]], 1))[0]
                result["sign_in_s"] = round(time.perf_counter() - t0, 1)
                log(f"{len(cookies)} sign-ins in {result['sign_in_s']} s")
            load = os.getloadavg()[0]
            # pairBare: the bare Node server takes turns with this one, round by round (same load).
            run = run_driver(node, {**common, "target": "ecabinet", "url": server.url, "serverPid": server.worker_pid,
                                    "cookies": cookies, "chairCookie": chair_cookie, "offer": offer,
                                    "pairBare": True, "bareDeflate": False},
                             workdir, remaining())
            run["load_average"] = [round(load, 2), round(os.getloadavg()[0], 2)]  # before, after
            time.sleep(2)  # let the worker run the disconnect handlers before it is stopped
            run["server_hwm_mib"] = server.hwm_mib()
            result["ecabinet"][mode] = run
            if server.proc is not None and server.proc.poll() is not None:
                run["error"] = run.get("error") or "the server exited during the run"
            if run.get("error"):
                log(f"[{mode}] error: {run['error']}; server log tail:\n{server.tail(1200)}")
            server.stop()
        sample = next((r["payload_sample"] for r in result["ecabinet"].values() if r.get("payload_sample")), None)
        if sample is not None and not args.no_bare_control:
            # The control: the bare server compressing every message, to the same clients offering
            # compression as browsers do, with the same event.
            log("[bare_deflate] bare Node socket.io server compressing every message")
            load = os.getloadavg()[0]
            control = run_driver(node, {**common, "target": "bare", "offer": "browser", "bareDeflate": True,
                                        "payload": sample}, workdir, remaining())
            control["load_average"] = [round(load, 2), round(os.getloadavg()[0], 2)]
            result["bare_deflate"] = control
        errors = [f"{mode}: {r['error']}" for mode, r in result["ecabinet"].items() if r.get("error")]
        if errors:
            result["error"] = "; ".join(errors)
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
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print_table(result)
    return 0 if not result.get("error") else 2


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
