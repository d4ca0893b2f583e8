"""A pool of long-lived, limited worker processes for readers' copies.

A fresh child per download (``sandbox.run_in_child``) spends ~85 ms starting Python and importing the
libraries for a copy that takes 2-5 ms. Here each process of the application (a gunicorn worker, the
huey consumer) keeps up to ``size`` workers (``python -P ecabinet/pdf/worker.py --serve``) and hands
each request to an idle one. Every property of the one-shot child is kept:

- the same clean environment (``sandbox.child_env``: no secrets, database URLs or proxies), ``-P``,
  no inherited descriptors (``close_fds``), started by path without the web stack;
- the same limits, lowered by the worker itself before it reads anything: address space, file size,
  no core dumps; CPU seconds per request (the worker sets its soft limit to the request's allowance
  above what it has used);
- the same wall-clock deadline: a worker that overruns it is killed, and the request fails with
  ``timeout``. A worker that dies otherwise (killed, crashed) is replaced and the request is tried
  once more on a new one; a worker that ran out of memory or failed unexpectedly is not reused;
- bounded growth: a worker is replaced after ``max_requests`` requests.

The caller never blocks an event loop: under gevent's monkey-patching the pipes of ``subprocess``,
``threading.Timer`` and ``threading.Condition`` are cooperative (as in ``sandbox``). Workers start on
first use; the pool ends them at exit. A pool belongs to the process that made it: a forked child
gets a new one (``get_pool`` checks the pid; the inherited pipes are closed in the child).

Only readers' copies of stored, accepted documents come here (``worker.POOLED_OPS``); intake of an
untrusted upload keeps its fresh child, so nothing of one upload can outlive its job.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any

from ecabinet.pdf.errors import IntakeError
from ecabinet.pdf.limits import MiB, Progress
from ecabinet.pdf.sandbox import PROJECT_DIR, WORKER_SCRIPT, child_env

log = logging.getLogger(__name__)

DEFAULT_MAX_REQUESTS = 200
DEFAULT_MEMORY_BYTES = 1024 * MiB
DEFAULT_FSIZE_BYTES = 4096 * MiB
# RLIMIT_CPU counts a process's whole life: the hard limit is a generous life budget, the soft limit
# is moved per request (see worker._cpu_allowance).
LIFE_CPU_S_PER_REQUEST = 61


def default_size() -> int:
    """``ECABINET_PDF_WORKERS`` if set, else one worker per core, at most 2 (each process has its own pool)."""
    configured = os.environ.get("ECABINET_PDF_WORKERS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(1, min(2, os.cpu_count() or 1))


class WorkerLost(Exception):
    """The worker ended (or its pipe broke) before it answered."""


@dataclass(eq=False)
class PooledWorker:
    proc: subprocess.Popen[bytes]
    stderr: IO[bytes]
    served: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr_tail(self) -> str:
        try:
            self.stderr.seek(0, os.SEEK_END)
            size = self.stderr.tell()
            self.stderr.seek(max(0, size - 65536))
            return self.stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def end(self) -> None:
        """Kill and reap the process, close its pipes (an idle worker loses nothing)."""
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for stream in (self.proc.stdin, self.proc.stdout, self.stderr):
            try:
                if stream is not None:
                    stream.close()
            except (OSError, ValueError):
                pass


class WorkerPool:
    """Up to ``size`` workers of this process, each recycled after ``max_requests`` requests."""

    def __init__(self, size: int | None = None, *, max_requests: int = DEFAULT_MAX_REQUESTS,
                 memory_bytes: int = DEFAULT_MEMORY_BYTES, fsize_bytes: int = DEFAULT_FSIZE_BYTES) -> None:
        self.size = size or default_size()
        self.max_requests = max(1, max_requests)
        self.memory_bytes = memory_bytes
        self.fsize_bytes = fsize_bytes
        self.owner = os.getpid()
        self._cond = threading.Condition()
        self._idle: list[PooledWorker] = []
        self._all: set[PooledWorker] = set()
        self._starting = 0
        self.closed = False
        self.started = 0  # workers started over the pool's life (for tests and diagnostics)

    # --- workers -----------------------------------------------------------------------------------

    def _spawn(self) -> PooledWorker:
        err = tempfile.TemporaryFile()  # noqa: SIM115 - the worker's stderr for its whole life, closed by end()
        try:
            proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own module
                [sys.executable, "-P", WORKER_SCRIPT, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=err, cwd=PROJECT_DIR, env=child_env(), close_fds=True)
        except BaseException:
            err.close()
            raise
        worker = PooledWorker(proc, err)
        rlimits = {"as_bytes": self.memory_bytes, "fsize_bytes": self.fsize_bytes,
                   "cpu_s": 30 + LIFE_CPU_S_PER_REQUEST * self.max_requests}
        try:
            self._write(worker, {"rlimits": rlimits})
        except WorkerLost:
            pass  # seen at its first request, which then goes to another worker
        return worker

    def _acquire(self, deadline: float) -> PooledWorker:
        with self._cond:
            while True:
                if self.closed:
                    raise IntakeError.of("failed")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        return worker
                    self._forget(worker)
                if len(self._all) + self._starting < self.size:
                    self._starting += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WorkerLost("no worker became free before the deadline")
                self._cond.wait(remaining)
        try:
            worker = self._spawn()
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._starting -= 1
            self._all.add(worker)
            self.started += 1
        return worker

    def _forget(self, worker: PooledWorker) -> None:
        """Called with the lock held: the worker is no longer the pool's."""
        self._all.discard(worker)
        self._cond.notify()

    def _discard(self, worker: PooledWorker) -> None:
        with self._cond:
            self._forget(worker)
        worker.end()

    def _release(self, worker: PooledWorker, *, retire: bool) -> None:
        worker.served += 1
        with self._cond:
            keep = not (retire or self.closed or worker.served >= self.max_requests) and worker.alive()
            if keep:
                self._idle.append(worker)
                self._cond.notify()
                return
            self._forget(worker)
        worker.end()

    # --- one request ---------------------------------------------------------------------------------

    @staticmethod
    def _write(worker: PooledWorker, message: dict[str, Any]) -> None:
        try:
            assert worker.proc.stdin is not None
            worker.proc.stdin.write(json.dumps(message).encode() + b"\n")
            worker.proc.stdin.flush()
        except (OSError, ValueError) as exc:
            raise WorkerLost(str(exc)) from exc

    def _exchange(self, worker: PooledWorker, request: dict[str, Any], timeout_s: float,
                  progress: Progress | None) -> dict[str, Any]:
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            worker.proc.kill()

        timer = threading.Timer(timeout_s, kill)
        timer.daemon = True
        timer.start()
        try:
            self._write(worker, request)
            assert worker.proc.stdout is not None
            while True:
                line = worker.proc.stdout.readline()
                if not line:
                    raise WorkerLost("the worker ended")
                message = json.loads(line)
                if "progress" in message:
                    if progress:
                        progress(*message["progress"])
                elif "ok" in message:
                    return message
        except (OSError, ValueError) as exc:  # a broken pipe, a line that is not JSON
            raise WorkerLost(str(exc)) from exc
        except WorkerLost:
            if killed.is_set():
                raise IntakeError.of("timeout", seconds=int(timeout_s)) from None
            raise
        finally:
            timer.cancel()

    def run(self, request: dict[str, Any], *, timeout_s: float, progress: Progress | None = None) -> dict[str, Any]:
        """Do one request in a worker; return its result or raise IntakeError (like ``run_in_child``)."""
        if os.getpid() != self.owner:
            raise RuntimeError("a worker pool is used only in the process that made it")
        request = {**request, "cpu_s": math.ceil(timeout_s) + 1}
        deadline = time.monotonic() + timeout_s
        for attempt in (1, 2):
            try:
                worker = self._acquire(deadline)
            except WorkerLost:
                raise IntakeError.of("timeout", seconds=int(timeout_s)) from None
            try:
                answer = self._exchange(worker, request, max(0.1, deadline - time.monotonic()), progress)
            except IntakeError:
                self._discard(worker)
                raise
            except WorkerLost as exc:
                try:
                    worker.proc.wait(timeout=1)  # its stdout closed: it is ending; how, says its status
                except subprocess.TimeoutExpired:
                    pass
                stderr = worker.stderr_tail()
                self._discard(worker)
                if worker.proc.returncode == -signal.SIGXCPU:
                    raise IntakeError.of("timeout", seconds=int(timeout_s)) from None
                if "MemoryError" in stderr or "Cannot allocate memory" in stderr:
                    raise IntakeError.of("memory", max_mb=self.memory_bytes // MiB) from None
                log.warning("pdf worker %s lost (rc=%s, attempt %s): %s %s", worker.pid, worker.proc.returncode,
                            attempt, exc, stderr[-2000:])
                if attempt == 1 and time.monotonic() < deadline:
                    continue  # killed or crashed between requests, most likely: once more on a new worker
                raise IntakeError.of("failed") from None
            except BaseException:
                self._discard(worker)  # a greenlet killed mid-request: the worker's state is unknown
                raise
            self._release(worker, retire=bool(answer.get("retire")))
            if answer.get("ok"):
                return answer["result"]
            code = answer.get("code", "failed")
            if code == "memory":
                raise IntakeError.of("memory", max_mb=self.memory_bytes // MiB)
            raise IntakeError.of(code, **answer.get("params", {}))
        raise AssertionError("unreachable")

    # --- the pool's life -----------------------------------------------------------------------------

    def pids(self) -> list[int]:
        with self._cond:
            return sorted(worker.pid for worker in self._all)

    def shutdown(self) -> None:
        """End every worker (busy ones end when their request returns). Only in the owning process."""
        with self._cond:
            self.closed = True
            idle, self._idle = self._idle, []
            for worker in idle:
                self._forget(worker)
            self._cond.notify_all()
        for worker in idle:
            worker.end()

    def abandon(self) -> None:
        """In a forked child: close the inherited pipes without touching the parent's workers."""
        self.closed = True
        for worker in list(self._all):
            for stream in (worker.proc.stdin, worker.proc.stdout, worker.stderr):
                try:
                    if stream is not None:
                        stream.close()
                except (OSError, ValueError):
                    pass
            worker.proc.returncode = 0  # not ours to wait for: the Popen object must not reap or warn
        self._all.clear()
        self._idle.clear()


# --- this process's pool ---------------------------------------------------------------------------

_settings: dict[str, Any] = {}
_pool: WorkerPool | None = None
_lock = threading.Lock()


def configure(size: int | None = None, *, max_requests: int = DEFAULT_MAX_REQUESTS,
              memory_bytes: int = DEFAULT_MEMORY_BYTES) -> None:
    """Set the pool's size and limits (before first use, or the current pool is ended and made again)."""
    global _pool
    with _lock:
        _settings.update(size=size, max_requests=max_requests, memory_bytes=memory_bytes)
        old, _pool = _pool, None
    if old is not None and old.owner == os.getpid():
        old.shutdown()


def get_pool() -> WorkerPool:
    """This process's pool, made on first use (and again in a forked child: a pool is never shared)."""
    global _pool
    pool = _pool
    if pool is not None and pool.owner == os.getpid() and not pool.closed:
        return pool
    with _lock:
        if _pool is None or _pool.owner != os.getpid() or _pool.closed:
            _pool = WorkerPool(**_settings)
        return _pool


def run_pooled(request: dict[str, Any], *, timeout_s: float, memory_bytes: int,
               progress: Progress | None = None) -> dict[str, Any]:
    """``request`` in this process's pool, or in a fresh child if it asks for other memory limits than the pool's."""
    from ecabinet.pdf.sandbox import run_in_child

    pool = get_pool()
    if memory_bytes != pool.memory_bytes:
        return run_in_child(request, timeout_s=timeout_s, memory_bytes=memory_bytes, progress=progress)
    return pool.run(request, timeout_s=timeout_s, progress=progress)


def _after_fork_in_child() -> None:
    global _pool, _lock
    _lock = threading.Lock()  # it may have been held by another thread of the parent at the fork
    inherited, _pool = _pool, None
    if inherited is not None:
        try:
            inherited.abandon()
        except Exception:  # noqa: BLE001, S110 - best effort: the child works without it
            pass


def _at_exit() -> None:
    pool = _pool
    if pool is not None and pool.owner == os.getpid():
        pool.shutdown()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_at_exit)
