"""Admission: how many sockets of one instance may be let into the live room at once.

When an instance dies, its tablets reconnect to the others within a second or two: a thousand
connections and joins arrive at once at each survivor. Each needs a database connection, and the pool
holds 20. Left to the pool, they all wait in it, in no particular order: a join unlucky for 10 s is
refused as "database unavailable", and the health check, a chair's action or a vote of a tablet already
in the room waits behind the whole storm (HAProxy then took a surviving instance out, and its load went
to the last one: bench/bench_scaleout.py). So connecting and joining go through a gate of their own,
sized below the pool: the storm waits there, first come first served, and the rest of the pool stays
free for everything else.

A gate is per process (a semaphore: threads, or greenlets under gevent, whose patched threading makes
it cooperative). A caller that waits longer than the gate's ``wait`` is told the instance is busy
(``Busy``): the tablet tries again after a pause, rather than hold a connection that timed out.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app

_KEY = "ecabinet_admission"


BUSY = "Many tablets are connecting at once. Trying again in a moment."


class Busy(Exception):
    """No place at the gate within its wait."""


def busy_answer() -> dict[str, Any]:
    """The acknowledgement of a join refused at the gate: "unavailable", which the tablet tries again."""
    from flask_babel import gettext

    return {"ok": False, "error": "unavailable", "message": gettext(BUSY)}


class Gate:
    def __init__(self, size: int, wait: float) -> None:
        self.wait = wait
        self._places = threading.BoundedSemaphore(size)
        self.waiting = 0  # callers queued at the gate now (/metrics: ecabinet_live_admission_waiting)

    @contextmanager
    def admitted(self) -> Iterator[None]:
        self.waiting += 1
        try:
            placed = self._places.acquire(timeout=self.wait)
        finally:
            self.waiting -= 1
        if not placed:
            raise Busy
        try:
            yield
        finally:
            self._places.release()


def room_gate() -> Gate:
    """The gate of the live room's connections and joins, in the current app (made at first use: under
    gevent, after the worker has patched threading)."""
    app = current_app._get_current_object()
    gate = app.extensions.get(_KEY)
    if gate is None:
        size = app.config.get("LIVE_ADMISSION_SLOTS") or max(1, app.config.get("DATABASE_POOL_SIZE", 20) * 3 // 4)
        gate = app.extensions.setdefault(_KEY, Gate(int(size), float(app.config.get("LIVE_ADMISSION_WAIT", 30))))
    return gate
