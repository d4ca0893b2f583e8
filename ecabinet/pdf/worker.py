"""The worker: the child process that does PDF jobs under resource limits.

Two ways to run it, both as a script with a clean environment (``python -P ecabinet/pdf/worker.py``):

- **one job, then exit** (``sandbox.run_in_child``): one JSON request on stdin, JSON lines on stdout.
  ``main()`` first lowers the child's own resource limits (address space, CPU seconds, file size,
  core dumps), only then reads the request's file. Intake of an untrusted upload always runs this way;
- **pooled** (``--serve``, started by ``pool``): the limits are lowered once, the libraries a reader's
  copy needs are loaded, then one JSON request per stdin line, one answer line each, until stdin
  closes. Before each request the CPU limit is set to the request's allowance above what the worker
  has used so far. Only ``POOLED_OPS`` are served this way: an upload that intake has not accepted
  never reaches a long-lived worker.

Operations: ``inspect`` (intake), ``stamp`` (a reader's watermarked copy: ``copies``), ``prepare``
(the prepared copy a stored document's copies are made from), ``boardbook``, ``locate`` (where a
quoted passage is drawn on a page: ``textpos``), ``annotate`` (a reader's copy with their own annotations:
``annotate``), ``probe`` (what the worker sees: its pid, open files,
environment names and limits; for the pool's tests and diagnostics). The worker is the top of the
engine's layers: it imports the modules it dispatches to, and none of them imports it (``sandbox``
and ``pool`` start it by path).
"""

from __future__ import annotations

import os
import sys
import types

if __name__ == "__main__" and "ecabinet" not in sys.modules:
    # Run as a script: ecabinet/__init__.py builds the web app (Flask, SQLAlchemy, Socket.IO: most of a
    # second to import), and ecabinet.pdf needs none of it. A bare package object stands in for it.
    _package = types.ModuleType("ecabinet")
    _package.__path__ = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
    sys.modules["ecabinet"] = _package

import json
import logging
import math
from typing import Any

from ecabinet.pdf.errors import IntakeError
from ecabinet.pdf.limits import MiB


def _apply_rlimits(limits: dict[str, int], *, may_write: bool) -> None:
    import resource

    def lower(which: int, value: int) -> None:
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else min(value + 1, hard)
                                   if hard != resource.RLIM_INFINITY else value + 1))

    lower(resource.RLIMIT_AS, int(limits["as_bytes"]))
    lower(resource.RLIMIT_CPU, int(limits["cpu_s"]))
    lower(resource.RLIMIT_CORE, 0)
    # Inspecting writes nothing; a stamp or board book writes one output file.
    lower(resource.RLIMIT_FSIZE, int(limits.get("fsize_bytes", 4096 * MiB)) if may_write else 0)


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def handle(request: dict[str, Any]) -> Any:
    """Do one request's operation in this process; return its JSON-able result.

    Each operation imports its own modules only (all below this one): a child is started per request,
    and a reader's copy, the most frequent, then loads neither intake's nor the board book's code.
    """
    op = request.get("op")
    if op == "inspect":
        from ecabinet.pdf.intake import inspect_in_process
        from ecabinet.pdf.limits import IntakeLimits

        return inspect_in_process(request["path"], IntakeLimits.from_json(request["limits"])).to_json()
    if op == "stamp":
        from ecabinet.pdf.copies import stamp_copy
        from ecabinet.pdf.stamping import Watermark

        made = stamp_copy(request["sources"], request["out_path"], Watermark(**request["watermark"]))
        return {"page_count": made.page_count, "fast": made.fast, "note": made.note}
    if op == "prepare":
        from ecabinet.pdf.copies import ensure_prepared

        prepared = ensure_prepared(request["path"])
        return {"prepared": str(prepared) if prepared else None}
    if op == "boardbook":
        from ecabinet.pdf.boardbook import BoardBookSpec, build_board_book
        from ecabinet.pdf.copies import lenient_lengths
        from ecabinet.pdf.stamping import Watermark

        # The documents are originals that intake accepted: read them as intake did (a wrong /Length).
        with lenient_lengths():
            return {"page_count": build_board_book(
                BoardBookSpec.from_json(request["spec"]), request["out_path"], Watermark(**request["watermark"]),
                progress=lambda done, total: _emit({"progress": [done, total]}))}
    if op == "locate":
        from ecabinet.pdf.copies import lenient_lengths
        from ecabinet.pdf.textpos import locate_quotes

        with lenient_lengths():
            return {"rects": locate_quotes(request["path"], [(int(p), str(q)) for p, q in request["targets"]])}
    if op == "annotate":
        from ecabinet.pdf.annotate import annotate_copy

        return {"written": annotate_copy(request["source"], request["out_path"], request["marks"],
                                         request["author"])}
    if op == "probe":
        return _probe(request)
    raise ValueError(f"unknown op {op!r}")


def _probe(request: dict[str, Any]) -> dict[str, Any]:
    import resource
    import time

    if request.get("sleep_s"):
        time.sleep(float(request["sleep_s"]))
    fds = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            fds[name] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the directory listing's own descriptor, closed already
    return {"pid": os.getpid(), "fds": fds, "env": sorted(os.environ),
            "rlimits": {name: list(resource.getrlimit(getattr(resource, f"RLIMIT_{name.upper()}")))
                        for name in ("as", "cpu", "fsize", "core")}}


# What a pooled worker serves: readers' copies of documents intake has accepted, with or without the
# reader's own annotations (and the probe).
POOLED_OPS = frozenset({"stamp", "annotate", "probe"})


def _cpu_allowance(cpu_s: int) -> None:
    """Let this request use ``cpu_s`` CPU seconds more than the worker has used so far (RLIMIT_CPU counts a life)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(usage.ru_utime + usage.ru_stime) + cpu_s
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _warm_up() -> None:
    """Load what a reader's copy needs before the first request: the imports, the font face."""
    try:
        import pikepdf  # noqa: F401

        from ecabinet.pdf.copies import stamp_copy  # noqa: F401
        from ecabinet.pdf.stamping import stamp_face

        stamp_face()
    except Exception:  # noqa: BLE001, S110 - the first request then reports what is wrong
        pass


def serve() -> int:
    """The pooled worker's loop: limits first (from the first line), then one request per line until EOF."""
    import signal
    import traceback

    # Ctrl-C in a terminal reaches the whole process group: the parent ends its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    setup = json.loads(sys.stdin.readline() or "{}")
    _apply_rlimits(setup["rlimits"], may_write=True)
    _quiet()
    _warm_up()
    _emit({"ready": os.getpid()})
    for line in sys.stdin:
        request = json.loads(line)
        retire = False
        try:
            if request.get("op") not in POOLED_OPS:
                raise ValueError(f"{request.get('op')!r} is not served by a pooled worker")
            _cpu_allowance(int(request["cpu_s"]))
            answer = {"ok": True, "result": handle(request)}
        except IntakeError as exc:
            answer = {"ok": False, "code": exc.code, "params": exc.params}
        except MemoryError:
            answer, retire = {"ok": False, "code": "memory", "params": {}}, True
        except Exception:  # noqa: BLE001 - said on stderr; a worker in an unknown state is not reused
            traceback.print_exc()
            answer, retire = {"ok": False, "code": "failed", "params": {}}, True
        _emit({**answer, "retire": retire})
        if retire:
            return 0
    return 0


def _quiet() -> None:
    logging.basicConfig(level=logging.CRITICAL)  # pypdf warns loudly about every quirk of real files
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)


def main() -> int:
    request = json.loads(sys.stdin.read())
    _apply_rlimits(request["rlimits"], may_write=request.get("op") not in ("inspect", "locate"))
    _quiet()
    try:
        result = handle(request)
    except IntakeError as exc:
        _emit({"ok": False, "code": exc.code, "params": exc.params})
        return 0
    except MemoryError:
        _emit({"ok": False, "code": "memory", "params": {}})
        return 0
    _emit({"ok": True, "result": result})
    return 0


if __name__ == "__main__":
    sys.exit(serve() if sys.argv[1:] == ["--serve"] else main())
