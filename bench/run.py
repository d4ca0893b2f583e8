"""``make bench``: run every benchmark in bench/ with ``--json``, print one table, write bench/results.json.

    .venv/bin/python bench/run.py                 # everything
    .venv/bin/python bench/run.py --only live_load --clients 500
    .venv/bin/python bench/run.py --only bench_live_real --clients 500   # keeps the other saved results

The real-time load benchmarks (live_load.py, bench_live_real.py, bench_tally.py with socket.io-client, the
tablets' own client) run twice: on SQLite, then on PostgreSQL with Redis (127.0.0.1:5432, trust auth,
database ``test``; Redis 127.0.0.1:6379), which is skipped, with the reason, when either is not reachable.
bench_scaleout.py (HAProxy in front of three instances, 6,000 tablets, kill -9 of one instance) runs once,
on PostgreSQL + Redis, with ``--kill`` (``BENCH_SCALEOUT_ARGS`` replaces its arguments). Every other
``bench/*.py`` is run as is; one that is missing or fails is reported as not run. Nothing here asserts:
the table shows measured values next to their targets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from report import measured_cell, target_cell, verdict  # noqa: E402 - the cells every benchmark's table shows

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
EXPECTED = ["bench_pdf.py"]  # benchmarks colleagues are known to be writing: reported even when absent
LIBRARIES = {"lean_socket.py", "report.py"}  # modules the benchmarks import, not benchmarks themselves
TIME_LIMIT = {"live_load.py": 660, "bench_tally.py": 660, "bench_live_real.py": 960, "bench_scaleout.py": 2700,
              "default": 1200}
# The scale-out run (HAProxy, 3 instances, 6,000 tablets in 101 meetings, kill -9 of one instance);
# BENCH_SCALEOUT_ARGS replaces its arguments, e.g. "--plenary 300 --meetings 10 --per-meeting 20 --kill".
SCALEOUT_ARGS = os.environ.get("BENCH_SCALEOUT_ARGS", "--kill").split()


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the machine ---------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    try:
        nproc = int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout)
    except (OSError, ValueError, subprocess.CalledProcessError):
        nproc = os.cpu_count() or 0
    return {"nproc": nproc, "memory_gib": round(mem_kb / 1024 / 1024, 1), "cpu": cpu,
            "python": platform.python_version(), "kernel": platform.release(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "python_reference_ms": reference_ms()}


def _reference(info: dict[str, Any]) -> str:
    value = info.get("python_reference_ms")
    return f"; reference Python loop {value} ms, lower is faster" if value else ""


def reference_ms() -> float:
    """Milliseconds one core takes for a fixed piece of pure Python (best of 5). Machines of the same
    kind, with the same CPU name, have differed by nearly 2x in every CPU-bound figure below: this tells
    a slow machine from a slow change."""
    def work() -> int:
        total = 0
        for i in range(300_000):
            total += len(str(i)) * (i % 7)
        return total

    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return round(best * 1000, 1)


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def postgres_ok() -> str | None:
    """None when PostgreSQL answers, else why not."""
    if not reachable("127.0.0.1", 5432):
        return "PostgreSQL is not reachable on 127.0.0.1:5432"
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(POSTGRES_URL, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL refused: {type(exc).__name__}"
    return None


def redis_ok() -> str | None:
    if not reachable("127.0.0.1", 6379):
        return "Redis is not reachable on 127.0.0.1:6379"
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return f"Redis refused: {type(exc).__name__}"
    return None


# --- running one benchmark -----------------------------------------------------------------------

def run_json(script: str, extra: list[str], limit: int) -> dict[str, Any]:
    """Run ``bench/<script> --json``; the JSON it prints, or why it was not run."""
    path = BENCH / script
    if not path.exists():
        return {"status": "not run", "reason": f"bench/{script} is not there yet"}
    started = time.perf_counter()
    log(f"running bench/{script} {' '.join(extra)}")
    try:
        proc = subprocess.run([sys.executable, str(path), "--json", *extra], cwd=ROOT, capture_output=True,
                              text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"status": "not run", "reason": f"did not finish within {limit} s"}
    elapsed = round(time.perf_counter() - started, 1)
    data = parse_json(proc.stdout)
    if proc.returncode != 0 and not isinstance(data, dict | list):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"status": "not run", "reason": f"exit code {proc.returncode}: {' | '.join(tail)[:400]}",
                "elapsed_s": elapsed}
    if data is None:
        return {"status": "not run", "reason": "printed no JSON", "elapsed_s": elapsed}
    status = "ok" if proc.returncode == 0 else f"exit code {proc.returncode}"
    return {"status": status, "elapsed_s": elapsed, "result": data}


def parse_json(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    # A benchmark that printed something before its JSON: take the last line that parses.
    for line in reversed(text.splitlines()):
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            continue
    return None


# --- one table -----------------------------------------------------------------------------------

def row(bench: str, what: str, target: str, measured: Any, unit: str = "", ok: bool | None = None) -> dict:
    return {"benchmark": bench, "what": what, "target": target, "measured": measured, "unit": unit, "pass": ok}


def tool_rows(label: str, verdicts: list[dict], error: str | None) -> list[dict]:
    """A benchmark's own verdict rows under its label, and its error if it had one."""
    out = [row(label, v["what"], target_cell(v["target"], v["unit"]), v["measured"], v["unit"], v["pass"])
           for v in verdicts]
    if error:
        out.append(row(label, "error", "", error, ok=False))
    return out


def rows_live(label: str, run: dict[str, Any]) -> list[dict]:
    result = run["result"]
    sys.path.insert(0, str(BENCH))
    from live_load import verdicts  # the same verdicts as the tool prints, also for older results

    result["verdicts"] = verdicts(result, result["clients"])
    return tool_rows(label, result.get("verdicts", []), result.get("error"))


def rows_votes(run: dict[str, Any]) -> list[dict]:
    """Vote ingestion: each thread count without a target, then the best per database against >= 500/s."""
    out, best = [], {}
    for r in run["result"] if isinstance(run["result"], list) else []:
        db = r.get("database")
        out.append(row("votes", f"{db}, {r.get('threads')} threads: votes/s (batch {r.get('batch_mean')})", "",
                       r.get("votes_per_s"), "votes/s"))
        best[db] = max(best.get(db, 0), r.get("votes_per_s") or 0)
    for db, value in best.items():
        out.append(row("votes", f"{db}: votes/s, each committed before its ack (best)", "≥ 500", value, "votes/s",
                       _cmp(value, ">=", 500)))
    return out or rows_generic("votes", run["result"])


def rows_tally(label: str, run: dict[str, Any]) -> list[dict]:
    result = run["result"]
    sys.path.insert(0, str(BENCH))
    from bench_tally import verdicts  # the tool's own verdicts: 2,000 voters within 10 s, tally p99 <= 250 ms

    return tool_rows(label, verdicts(result, result["clients"]), result.get("error"))


def rows_live_real(label: str, run: dict[str, Any]) -> list[dict]:
    result = run["result"]
    sys.path.insert(0, str(BENCH))
    from bench_live_real import verdicts  # socket.io-client tablets against bare Node, per compression mode

    return tool_rows(label, verdicts(result, result["clients"]), result.get("error"))


def rows_scaleout(run: dict[str, Any]) -> list[dict]:
    result = run["result"]
    sys.path.insert(0, str(BENCH))
    from bench_scaleout import verdicts  # per meeting p99, events lost, per instance CPU, kill -9 recovery

    label = f"scale-out, {result.get('instances')} instances behind HAProxy"
    return tool_rows(label, verdicts(result), result.get("error"))


def _cmp(value: Any, op: str, limit: float) -> bool | None:
    if not isinstance(value, int | float):
        return None
    return value <= limit if op == "<=" else value >= limit


def rows_pdf(run: dict[str, Any]) -> list[dict]:
    r = run["result"]
    out = []
    for part, name in (("generated", "generated briefings"), ("corpus", "real-world corpus")):
        d = r.get(part)
        if not isinstance(d, dict):
            out.append(row("pdf", f"{name}", "", "absent"))
            continue
        if "board_book_s" in d:
            pages = d.get("board_book_pages", "")
            out.append(row("pdf", f"{name}: board book, {pages} pages", "≤ 2 s", d["board_book_s"], "s",
                           _cmp(d["board_book_s"], "<=", 2.0) if name == "generated briefings" else None))
        if "stamp_pdf_pages_per_s" in d:
            out.append(row("pdf", f"{name}: stamping throughput", "≥ 2000 pages/s", d["stamp_pdf_pages_per_s"],
                           "pages/s", _cmp(d["stamp_pdf_pages_per_s"], ">=", 2000)))
        for key, what in (("board_book_size_ratio", "board book size / inputs"),
                          ("stamp_size_ratio", "stamped copy size / inputs")):
            if key in d:
                out.append(row("pdf", f"{name}: {what}", "≤ 1.2", d[key], "×", _cmp(d[key], "<=", 1.2)))
    return out or rows_generic("pdf", r)


def rows_search(run: dict[str, Any]) -> list[dict]:
    out = []
    for r in run["result"] if isinstance(run["result"], list) else []:
        if "skipped" in r:
            out.append(row("search", f"{r.get('database')}: skipped", "", r["skipped"]))
            continue
        out.append(row("search", f"{r.get('database')}: search over {r.get('documents')} documents, p95",
                       "≤ 100 ms", r.get("p95_ms"), "ms", _cmp(r.get("p95_ms"), "<=", 100)))
    return out or rows_generic("search", run["result"])


def rows_meeting_page(run: dict[str, Any]) -> list[dict]:
    out = []
    for r in run["result"] if isinstance(run["result"], list) else []:
        if "skipped" in r:
            out.append(row("meeting page", f"{r.get('database')}: skipped", "", r["skipped"]))
            continue
        what = f"{r.get('database')}: member's page, {r.get('items')} items x {r.get('documents_per_item')} documents"
        out.append(row("meeting page", f"{what}, p95", "≤ 100 ms", r.get("p95_ms"), "ms",
                       _cmp(r.get("p95_ms"), "<=", 100)))
    return out or rows_generic("meeting page", run["result"])


def rows_upload_responsiveness(run: dict[str, Any]) -> list[dict]:
    """/healthz and a socket round trip during one upload, per database and file: p99 against its target."""
    r, out = run["result"], []
    target = r.get("target_p99_ms", 100)
    for db in r.get("runs", []):
        label = db.get("database")
        if "skipped" in db or "error" in db:
            out.append(row("upload", f"{label}: not run", "", db.get("skipped") or db.get("error")))
            continue
        for f in db.get("files", []):
            for probe in ("healthz", "socket"):
                s = f[probe]
                what = f"{label}, {f['file']} ({f['status']}, {f['upload_s']} s): {probe} p99 (p50 {s['p50_ms']}, " \
                       f"max {s['max_ms']})"
                out.append(row("upload", what, f"≤ {target:g} ms", s["p99_ms"], "ms", _cmp(s["p99_ms"], "<=", target)))
    return out


def rows_flood(run: dict[str, Any]) -> list[dict]:
    """One member flooding comments: the other tablets' chair-action p99 against its quiet value, and the
    audit log's growth from refused handshakes of one source."""
    r = run["result"]
    label = "flood, " + ("PostgreSQL + Redis" if r.get("database") == "postgresql" else "SQLite")
    c = r["chair_action"]
    out = [row(label, "chair action p99, quiet", "", c["quiet_p99_ms"], "ms"),
           row(label, "chair action p99, during the flood", "", c["flood_p99_ms"], "ms")]
    for v in r.get("verdicts", []):
        out.append(row(label, v["what"], f"{v['target']}", v["value"], "×" if "/" in v["what"] else "",
                       bool(v["met"])))
    return out


def rows_engine_libraries(run: dict[str, Any]) -> list[dict]:
    """The PDF engine's hand-written font subsetter against fontTools, and one reader's copy through the
    worker pool against a fresh child process (docs/documents-engine.md)."""
    r, label = run["result"], "pdf engine"
    out = [row(label, "font subset, ttfsubset vs fontTools (warm), faster by", "≥ 2 × to keep",
               r["subset"]["warm_factor"], "×", r["subset"]["warm_factor"] >= 2)]
    for case, d in r["download"].items():
        if isinstance(d, dict) and "pooled_ms" in d:
            out.append(row(label, f"one reader's copy, {case.replace('_', ' ')}: pooled worker "
                                  f"(fresh child {d['child_process_ms']} ms)", "", d["pooled_ms"], "ms"))
    return out


def rows_generic(bench: str, data: Any, prefix: str = "") -> list[dict]:
    """Every number a benchmark printed, without a target."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.extend(rows_generic(bench, v, f"{prefix}{k}."))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.extend(rows_generic(bench, v, f"{prefix}{i}."))
    elif isinstance(data, int | float) and not isinstance(data, bool):
        out.append(row(bench, prefix.rstrip("."), "", data))
    return out[:40]


def shown(r: dict) -> str:
    """The measured cell of a collected row: a number with its unit; a text (already with its unit) as is."""
    return measured_cell(r["measured"], r["unit"]) if isinstance(r["measured"], int | float | None) else str(
        r["measured"])


def print_table(rows: list[dict], info: dict[str, Any]) -> None:
    print(f"\nMachine: {info['nproc']} CPUs ({info['cpu']}), {info['memory_gib']} GiB, Python {info['python']}, "
          f"{info['date']}")
    width = max([len(r["what"]) for r in rows] + [20])
    bw = max([len(r["benchmark"]) for r in rows] + [9])
    print(f"{'benchmark':<{bw}}  {'what':<{width}}  {'target':>16}  {'measured':>14}  verdict")
    for r in rows:
        print(f"{r['benchmark']:<{bw}}  {r['what']:<{width}}  {r['target']:>16}  {shown(r):>14}  {verdict(r['pass'])}")


def table(runs: dict[str, dict[str, Any]]) -> list[dict]:
    """One row per measured value, from the benchmarks' JSON."""
    rows: list[dict] = []
    for name, run in runs.items():
        if name.startswith("live_load"):
            label = "live, SQLite" if name == "live_load_sqlite" else "live, PostgreSQL + Redis"
            rows.extend(rows_live(label, run) if "result" in run else [row(label, "not run", "", run["reason"])])
            continue
        if name.startswith("bench_tally"):
            label = "tally, SQLite" if name == "bench_tally_sqlite" else "tally, PostgreSQL + Redis"
            if (run.get("result") or {}).get("client") == "real":  # older results were the lean Python client's
                label = label.replace("tally, ", "tally, real clients, ")
            rows.extend(rows_tally(label, run) if "result" in run else [row(label, "not run", "", run["reason"])])
            continue
        if name.startswith("bench_live_real"):
            label = "live, real clients, " + ("SQLite" if name == "bench_live_real_sqlite" else "PostgreSQL + Redis")
            rows.extend(rows_live_real(label, run) if "result" in run else [row(label, "not run", "", run["reason"])])
            continue
        if name == "bench_scaleout":
            label = "scale-out behind HAProxy"
            rows.extend(rows_scaleout(run) if "result" in run else [row(label, "not run", "", run["reason"])])
            continue
        if name == "bench_votes" and "result" in run:
            rows.extend(rows_votes(run))
            continue
        if "result" not in run:
            rows.append(row(name.removeprefix("bench_"), "not run", "", run["reason"]))
            continue
        try:
            adapter = {"bench_pdf": rows_pdf, "bench_search": rows_search,
                       "bench_meeting_page": rows_meeting_page,
                       "bench_upload_responsiveness": rows_upload_responsiveness,
                       "bench_flood": rows_flood, "bench_engine_libraries": rows_engine_libraries}.get(name)
            rows.extend(adapter(run) if adapter else rows_generic(name, run["result"]))
        except (KeyError, TypeError, AttributeError):
            rows.extend(rows_generic(name, run["result"]))
    return rows


def markdown(saved: dict[str, Any]) -> str:
    """The table of a results.json as Markdown, for the top-level README."""
    info = saved["machine"]
    lines = [f"Measured {info['date']} on {info['nproc']} CPUs ({info['cpu']}), {info['memory_gib']} GiB, "
             f"Python {info['python']} (load average at start {info['load_average_at_start'][0]}"
             f"{_reference(info)}).", "",
             "| benchmark | what | target | measured | |", "|---|---|---|---|---|"]
    for r in saved["table"]:
        if r["target"] == "" and r["pass"] is None and not any(k in r["what"] for k in ("ms", "per_s", " ")):
            continue  # a benchmark without targets: keep its timings, leave its counters to results.json
        cells = [r["benchmark"], r["what"], r["target"], shown(r), verdict(r["pass"])]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description="Run every benchmark in bench/ and record the results.")
    p.add_argument("--only", help="run only this benchmark (file name without .py)")
    p.add_argument("--clients", type=int,
                   help="passed to live_load.py, bench_live_real.py and bench_tally.py (default: their own, "
                        "2000; bench_live_real.py also reads BENCH_REAL_CLIENTS)")
    p.add_argument("--output", default=str(BENCH / "results.json"))
    p.add_argument("--markdown", action="store_true",
                   help="rebuild the table of the saved results and print it as Markdown; runs nothing")
    args = p.parse_args()
    if args.markdown:
        saved = json.loads(Path(args.output).read_text())
        saved["table"] = table(saved["runs"])
        Path(args.output).write_text(json.dumps(saved, ensure_ascii=False, indent=1) + "\n")
        print(markdown(saved))
        return 0

    info = machine()
    log(f"machine: {info}")
    scripts = sorted({f.name for f in BENCH.glob("*.py") if f.name not in {"run.py", "__init__.py", *LIBRARIES}}
                     | set(EXPECTED))
    if "live_load.py" in scripts:
        scripts.remove("live_load.py")
        scripts.insert(0, "live_load.py")
    if args.only:
        scripts = [s for s in scripts if s.removesuffix(".py") == args.only]

    runs: dict[str, dict[str, Any]] = {}
    for script in scripts:
        name = script.removesuffix(".py")
        if script == "live_load.py":
            extra = ["--clients", str(args.clients)] if args.clients else []
            runs["live_load_sqlite"] = run_json(script, extra, TIME_LIMIT[script])
            why = postgres_ok() or redis_ok()
            if why:
                log(f"live_load on PostgreSQL + Redis skipped: {why}")
                runs["live_load_postgresql_redis"] = {"status": "not run", "reason": why}
            else:
                runs["live_load_postgresql_redis"] = run_json(
                    script, [*extra, "--postgres", POSTGRES_URL, "--redis", REDIS_URL], TIME_LIMIT[script])
            continue
        if script == "bench_live_real.py":  # like live_load: SQLite, then PostgreSQL + Redis
            extra = ["--clients", str(args.clients)] if args.clients else []
            runs["bench_live_real_sqlite"] = run_json(script, extra, TIME_LIMIT[script])
            why = postgres_ok() or redis_ok()
            runs["bench_live_real_postgresql_redis"] = {"status": "not run", "reason": why} if why else run_json(
                script, [*extra, "--postgres", POSTGRES_URL, "--redis", REDIS_URL], TIME_LIMIT[script])
            continue
        if script == "bench_tally.py":  # like live_load: SQLite, then PostgreSQL + Redis; the tablets' own client
            extra = ["--client", "real", *(["--clients", str(args.clients)] if args.clients else [])]
            runs["bench_tally_sqlite"] = run_json(script, extra, TIME_LIMIT[script])
            why = postgres_ok() or redis_ok()
            runs["bench_tally_postgresql_redis"] = {"status": "not run", "reason": why} if why else run_json(
                script, [*extra, "--postgres", POSTGRES_URL, "--redis", REDIS_URL], TIME_LIMIT[script])
            continue
        if script == "bench_scaleout.py":  # needs PostgreSQL and Redis (instances share rooms through Redis)
            why = postgres_ok() or redis_ok()
            runs[name] = {"status": "not run", "reason": why} if why else run_json(
                script, [*SCALEOUT_ARGS, "--postgres", POSTGRES_URL, "--redis", REDIS_URL,
                         "--time-limit", str(TIME_LIMIT[script] - 60)], TIME_LIMIT[script])
            continue
        runs[name] = run_json(script, [], TIME_LIMIT["default"])

    output = Path(args.output)
    if args.only and output.exists():
        # One benchmark re-run: keep the others' saved results, each run noting its own machine and date.
        for run in runs.values():
            run["machine"] = info
        saved = json.loads(output.read_text())
        runs = {**saved.get("runs", {}), **runs}
        info = saved.get("machine", info)
    rows = table(runs)
    print_table(rows, info)
    output.write_text(json.dumps({"machine": info, "table": rows, "runs": runs}, ensure_ascii=False, indent=1) + "\n")
    log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
