"""The parent side of the process boundary for all pypdf work on untrusted or heavy PDFs: a fresh child per job.

``run_in_child(request, ...)`` starts ``python -P ecabinet/pdf/worker.py`` (see ``worker``), writes one
JSON request to its stdin and reads JSON lines from its stdout (progress lines, then one result line),
killing it at the wall-clock deadline. The child lowers its own resource limits before it touches the
file: setting them here with ``preexec_fn`` would be unsafe in a threaded or gevent-patched parent.

Readers' copies go to a pool of long-lived workers instead (``pool``), started the same way, with the
same environment and limits. The worker is started by its file path, not imported: this module must
not depend on the modules the worker dispatches to (they depend on this one to run themselves in a child).
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
from typing import Any

from ecabinet.pdf.errors import IntakeError
from ecabinet.pdf.limits import MiB, Progress

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")


def child_env() -> dict[str, str]:
    # A clean environment: the child needs no secrets, database URLs or proxies of the web process.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": PROJECT_DIR,
           "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1"}
    for name in ("ECABINET_PDF_FONT", "ECABINET_PDF_FONT_BOLD", "TMPDIR"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def run_in_child(request: dict[str, Any], *, timeout_s: float, memory_bytes: int, memory_mb_hint: int | None = None,
                 progress: Progress | None = None) -> dict[str, Any]:
    """Run one request in a fresh limited child; return its result or raise IntakeError.

    Under gevent's monkey-patching, ``subprocess`` pipes, ``threading.Timer`` and ``wait`` are all
    cooperative, so the event loop keeps serving while the child works.
    """
    request = {**request, "rlimits": {"cpu_s": math.ceil(timeout_s) + 1, "as_bytes": memory_bytes}}
    killed = threading.Event()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own module
            [sys.executable, "-P", WORKER_SCRIPT], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=err, cwd=PROJECT_DIR, env=child_env(), close_fds=True)

        def kill() -> None:
            killed.set()
            proc.kill()

        timer = threading.Timer(timeout_s, kill)
        timer.daemon = True
        timer.start()
        result: dict[str, Any] | None = None
        try:
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps(request).encode())
                proc.stdin.close()
            except BrokenPipeError:
                pass
            for line in proc.stdout:
                message = json.loads(line)
                if "progress" in message:
                    if progress:
                        progress(*message["progress"])
                else:
                    result = message
            proc.wait()
        except (ValueError, OSError):
            proc.kill()
            proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        stderr = err.read()[-65536:].decode("utf-8", "replace")

    mb = memory_mb_hint or memory_bytes // MiB
    if killed.is_set() or proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise IntakeError.of("timeout", seconds=int(timeout_s))
    if result is not None and result.get("ok"):
        return result["result"]
    if result is not None:
        code = result.get("code", "failed")
        if code == "memory":
            raise IntakeError.of("memory", max_mb=mb)
        raise IntakeError.of(code, **result.get("params", {}))
    if "MemoryError" in stderr or "Cannot allocate memory" in stderr:
        raise IntakeError.of("memory", max_mb=mb)
    logging.getLogger(__name__).warning("pdf worker failed (rc=%s): %s", proc.returncode, stderr[-2000:])
    raise IntakeError.of("failed")
