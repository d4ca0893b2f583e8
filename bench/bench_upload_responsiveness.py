"""Does one upload hold up the instance? ``/healthz`` and a Socket.IO round trip while a PDF is taken in.

The app runs under ``gunicorn -k gevent -w 1`` (bench/live_load.py's server), on SQLite (a pool of one
connection per process) and on PostgreSQL with Redis. For each of two uploads (a generated PDF of one
page and a million small objects, about 75 MB; a normal document of the corpus, ../shared/pdf-corpus),
``/healthz`` is asked every 100 ms over a kept-alive connection and a ``vote.list`` round trip is made
every 100 ms on signed-in sockets (bench/lean_socket.py), from the moment the upload is sent until it
is answered. The round trips rotate over PROBE_MEMBERS members' sockets: one socket asking ten times a
second would be refused by the ``read`` rate limit (one a second per socket, ecabinet/core/ratelimit.py)
after its burst, and the figures would then time refusals. Both need the database. Printed:
p50/p99/max of each, against the target p99 ≤ 100 ms, and the same for 2 s before any upload (the
idle baseline).

    .venv/bin/python bench/bench_upload_responsiveness.py                 # SQLite, then PostgreSQL + Redis
    .venv/bin/python bench/bench_upload_responsiveness.py --only sqlite --json

The upload itself is sent by ``curl`` so that this process stays free to measure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CORPUS = Path(os.environ.get("PDF_CORPUS", ROOT.parent / "shared" / "pdf-corpus"))
CORPUS_FILE = "GeoTopo-komprimiert.pdf"  # 117 pages of text, figures and links: an ordinary long briefing
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
TARGET_P99_MS = 100.0
INTERVAL_S = 0.1
BASELINE_S = 2.0
PROBE_MEMBERS = 12  # 10 round trips a second over 12 sockets: each under the `read` limit's steady rate
FILLER = b"<< /A [1 2 3 << /B 4 >>] /C (x) >>"
# One browser for every request of a user: sign-in sessions are bound to it ("strong" protection).
USER_AGENT = "ecabinet-bench/1.0"


def log(message: str) -> None:
    print(f"[upload_responsiveness {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the files -------------------------------------------------------------------------------------

def million_object_pdf(path: Path, count: int = 1_000_000) -> Path:
    """A valid one-page PDF with ``count`` small dictionaries beside the page (about 75 MB for a million):
    cheap to send, long for a parser to read. Written once; an existing file is reused."""
    if path.is_file() and path.stat().st_size > count * 50:
        return path
    head = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    offsets: list[int] = []
    tmp = path.with_suffix(".part")
    with tmp.open("wb") as out:
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        position = out.tell()
        chunk = bytearray()
        for number in range(1, count + len(head) + 1):
            entry = b"%d 0 obj\n%s\nendobj\n" % (number, head[number - 1] if number <= len(head) else FILLER)
            offsets.append(position)
            position += len(entry)
            chunk += entry
            if len(chunk) > 1 << 20:
                out.write(chunk)
                chunk.clear()
        out.write(chunk)
        xref = bytearray(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
        for offset in offsets:
            xref += b"%010d 00000 n \n" % offset
        out.write(xref)
        out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, position))
    tmp.replace(path)
    return path


def corpus_pdf(name: str = CORPUS_FILE) -> Path | None:
    """A file of the corpus by name (files.json lists them), or None without the corpus."""
    listing = CORPUS / "files.json"
    if not listing.is_file():
        return None
    entries = json.loads(listing.read_text()).get("data", [])
    for entry in entries:
        if Path(entry["path"]).name == name:
            for candidate in (CORPUS / entry["path"], CORPUS / name):
                if candidate.is_file():
                    return candidate
    return None


# --- measuring -------------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def summary(latencies: list[float], errors: int) -> dict[str, Any]:
    def r(value: float | None) -> float | None:
        return round(value, 1) if value is not None else None

    return {"n": len(latencies), "errors": errors, "p50_ms": r(percentile(latencies, 50)),
            "p99_ms": r(percentile(latencies, 99)), "max_ms": r(max(latencies) if latencies else None)}


class HealthProbe:
    """``GET /healthz`` every 100 ms on one kept-alive connection, in a thread of its own."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.latencies: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        next_at = time.perf_counter()
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                conn.request("GET", "/healthz", headers={"User-Agent": USER_AGENT})
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    self.latencies.append((time.perf_counter() - started) * 1000)
                else:
                    self.errors += 1
            except (OSError, http.client.HTTPException):
                self.errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            next_at += INTERVAL_S
            self._stop.wait(max(0.0, next_at - time.perf_counter()))
        conn.close()

    def start(self) -> HealthProbe:
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(120)
        return summary(self.latencies, self.errors)


class SocketProbe:
    """A ``vote.list`` round trip every 100 ms, each on the next of several members' sockets (one user's
    socket may ask once a second), on an event loop in its own thread."""

    def __init__(self, base_url: str, cookies: list[str], meeting_id: int) -> None:
        self.base_url, self.cookies, self.meeting_id = base_url, cookies, meeting_id
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.socks: list[Any] = []
        self._task: asyncio.Future[Any] | None = None
        self._stop: asyncio.Event | None = None
        self.latencies: list[float] = []
        self.errors = 0
        self.refusals: dict[str, int] = {}

    def _do(self, coro: Any, timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def connect(self) -> SocketProbe:
        sys.path.insert(0, str(BENCH))
        from lean_socket import LeanSocket

        async def connect(cookie: str) -> Any:
            sock = LeanSocket()
            await sock.connect(self.base_url, headers={"Origin": self.base_url, "Cookie": cookie,
                                                       "User-Agent": USER_AGENT}, timeout=30)
            ack = await sock.call("vote.list", {"meeting_id": self.meeting_id}, timeout=30)
            if not ack.get("ok"):
                raise RuntimeError(f"vote.list refused: {ack}")
            return sock

        async def connect_all() -> None:
            self.socks = list(await asyncio.gather(*(connect(c) for c in self.cookies)))

        self._do(connect_all())
        return self

    async def _run(self) -> None:
        assert self._stop is not None
        next_at = time.perf_counter()
        turn = 0
        while not self._stop.is_set():
            sock = self.socks[turn % len(self.socks)]
            turn += 1
            started = time.perf_counter()
            try:
                ack = await sock.call("vote.list", {"meeting_id": self.meeting_id}, timeout=60)
                if ack.get("ok"):
                    self.latencies.append((time.perf_counter() - started) * 1000)
                else:
                    self.errors += 1
                    reason = str(ack.get("error"))
                    self.refusals[reason] = self.refusals.get(reason, 0) + 1
            except Exception:  # noqa: BLE001 - counted: a time-out or a lost socket is the finding
                self.errors += 1
            next_at += INTERVAL_S
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), max(0.0, next_at - time.perf_counter()))

    def start(self) -> SocketProbe:
        self.latencies, self.errors, self.refusals = [], 0, {}

        async def begin() -> None:
            self._stop = asyncio.Event()
            self._task = asyncio.ensure_future(self._run())

        self._do(begin())
        return self

    def stop(self) -> dict[str, Any]:
        async def end() -> None:
            assert self._stop is not None and self._task is not None
            self._stop.set()
            await self._task

        self._do(end())
        return {**summary(self.latencies, self.errors), "refused": dict(self.refusals)}

    def close(self) -> None:
        for sock in self.socks:
            with contextlib.suppress(Exception):
                self._do(sock.disconnect(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


def measured(port: int, sockets: SocketProbe, action: Any) -> tuple[dict[str, Any], dict[str, Any], Any]:
    health = HealthProbe(port).start()
    sockets.start()
    try:
        outcome = action()
    finally:
        health_stats, socket_stats = health.stop(), sockets.stop()
    return health_stats, socket_stats, outcome


# --- one database ----------------------------------------------------------------------------------

def sign_in(base_url: str, email: str, password: str) -> tuple[str, str]:
    """(Cookie header, CSRF token of the pages) of a real sign-in."""
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    page = session.get(base_url + "/login", timeout=30).text
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', page)
    if match is None:
        raise RuntimeError("no CSRF token on the sign-in page")
    answer = session.post(base_url + "/login", data={"email": email, "password": password,
                                                     "csrf_token": match.group(1) or match.group(2)},
                          timeout=30, allow_redirects=False)
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in of {email} answered {answer.status_code}")
    home = session.get(base_url + "/", timeout=30).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', home)
    if token is None:
        raise RuntimeError("no CSRF token on the home page")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies), token.group(1)


def upload_with_curl(url: str, cookie: str, token: str, path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run(
        ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "--max-time", "300", "-A", USER_AGENT,
         "-H", f"Cookie: {cookie}", "-H", f"X-CSRFToken: {token}", "-H", "Accept: application/json",
         "-F", f"file=@{path};type=application/pdf;filename={path.name}", url],
        capture_output=True, text=True, timeout=330, check=False)
    elapsed = time.perf_counter() - started
    body, _, status = proc.stdout.rpartition("\n")
    try:
        answer = json.loads(body)
    except json.JSONDecodeError:
        answer = {"raw": body[:300]}
    return {"status": int(status) if status.isdigit() else None, "upload_s": round(elapsed, 2),
            "answer": answer.get("code") or answer.get("error") or ("accepted" if answer.get("ok") else None)}


def run_database(label: str, postgres: str | None, redis: str | None, files: list[Path]) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH))
    sys.path.insert(0, str(ROOT))
    from live_load import PASSWORD, Database, Server, populate, server_environment

    workdir = Path(tempfile.mkdtemp(prefix="ecabinet-bench-upload-"))
    database = Database(workdir, postgres)
    env = server_environment(workdir, database, redis, "ecabinet-bench-upload")
    result: dict[str, Any] = {"database": label, "redis": bool(redis), "files": []}
    server: Server | None = None
    sockets: SocketProbe | None = None
    try:
        log(f"{label}: building the database")
        database.create(env)
        setup = populate(PROBE_MEMBERS)
        server = Server(env, workdir, 1000)
        server.start()
        log(f"{label}: server on {server.url}")
        secretary_cookie, token = sign_in(server.url, "secretary@bench.gov.vn", PASSWORD)
        member_cookies = [sign_in(server.url, email, PASSWORD)[0] for email in setup["members"][:PROBE_MEMBERS]]
        sockets = SocketProbe(server.url, member_cookies, setup["meeting_id"]).connect()
        url = f"{server.url}/meetings/{setup['meeting_id']}/items/{setup['item_ids'][0]}/documents"

        health, socket_stats, _ = measured(server.port, sockets, lambda: time.sleep(BASELINE_S))
        result["idle"] = {"healthz": health, "socket": socket_stats}
        for path in files:
            log(f"{label}: uploading {path.name} ({path.stat().st_size / 1e6:.1f} MB)")
            health, socket_stats, upload = measured(server.port, sockets,
                                                    lambda p=path: upload_with_curl(url, secretary_cookie, token, p))
            result["files"].append({"file": path.name, "size_mb": round(path.stat().st_size / 1e6, 1), **upload,
                                    "healthz": health, "socket": socket_stats})
            log(f"{label}: {path.name}: {upload}; healthz {health}; socket {socket_stats}")
    except Exception as exc:  # noqa: BLE001 - reported in the result, the other database still runs
        result["error"] = f"{type(exc).__name__}: {exc}"[:500]
        if server is not None:
            result["server_log"] = server.tail(1500)
    finally:
        if sockets is not None:
            sockets.close()
        if server is not None:
            server.stop()
        with contextlib.suppress(Exception):
            database.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def reachable(url: str) -> str | None:
    """None when the PostgreSQL and Redis of the URLs answer, else why not."""
    try:
        import redis
        import sqlalchemy as sa

        engine = sa.create_engine(POSTGRES_URL, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL or Redis not reachable: {type(exc).__name__}"
    return None


def print_table(results: list[dict[str, Any]]) -> None:
    print(f"\nDuring one upload: /healthz and a Socket.IO round trip every {int(INTERVAL_S * 1000)} ms "
          f"(target p99 ≤ {TARGET_P99_MS:.0f} ms)")
    print(f"{'database':<22} {'file':<24} {'upload':>14} {'probe':<8} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'err':>4}  verdict")
    for run in results:
        if "skipped" in run or "error" in run:
            print(f"{run['database']:<22} {run.get('skipped') or run.get('error')}")
            continue
        rows = [("(idle, 2 s)", "", run["idle"])] + [
            (f["file"][:24], f"{f['status']} {f['upload_s']} s", f) for f in run["files"]]
        for name, upload, data in rows:
            for probe in ("healthz", "socket"):
                s = data[probe]
                ok = s["p99_ms"] is not None and s["p99_ms"] <= TARGET_P99_MS and not s["errors"]
                print(f"{run['database']:<22} {name:<24} {upload:>14} {probe:<8} {s['n']:>4} {s['p50_ms']!s:>8} "
                      f"{s['p99_ms']!s:>8} {s['max_ms']!s:>8} {s['errors']:>4}  {'PASS' if ok else 'MISS'}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", choices=("sqlite", "postgresql"), help="one database only")
    p.add_argument("--objects", type=int, default=1_000_000, help="small objects in the generated PDF")
    p.add_argument("--corpus-file", default=CORPUS_FILE, help="the corpus file to upload (its name)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = p.parse_args(argv)

    files_dir = Path(tempfile.gettempdir()) / "ecabinet-bench-files"
    files_dir.mkdir(exist_ok=True)
    log(f"writing the PDF of {args.objects:,} objects")
    files = [million_object_pdf(files_dir / f"objects-{args.objects}.pdf", args.objects)]
    normal = corpus_pdf(args.corpus_file)
    if normal is None:
        log(f"no {args.corpus_file} in {CORPUS}: the corpus upload is left out")
    else:
        files.append(normal)

    results: list[dict[str, Any]] = []
    if args.only in (None, "sqlite"):
        results.append(run_database("sqlite", None, None, files))
    if args.only in (None, "postgresql"):
        why = reachable(REDIS_URL)
        results.append({"database": "postgresql+redis", "skipped": why} if why else
                       run_database("postgresql+redis", POSTGRES_URL, REDIS_URL, files))
    output = {"benchmark": "upload_responsiveness", "target_p99_ms": TARGET_P99_MS,
              "interval_ms": int(INTERVAL_S * 1000), "runs": results}
    if args.json:
        print(json.dumps(output, ensure_ascii=False))
    else:
        print_table(results)
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
