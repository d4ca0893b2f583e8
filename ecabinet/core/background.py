"""The app's long-running background tasks (Socket.IO background tasks: greenlets under gevent, threads
otherwise), and how they end when the app does.

A task loops while ``running(app)``; ``stop(app)`` ends them all, waking those that wait on an event,
and waits a little for each. Without it a task outlives its app: after a test, a tally sender kept
reading a database that the next test had already emptied or dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask

from ecabinet.extensions import socketio

_KEY = "ecabinet.background"


class _Tasks:
    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.handles: list[Any] = []
        self.wakes: list[threading.Event] = []


def _tasks(app: Flask) -> _Tasks:
    return app.extensions.setdefault(_KEY, _Tasks())


def start(app: Flask, target: Callable[..., None], *args: Any, wake: threading.Event | None = None) -> None:
    """Run ``target(app, *args)`` in the background; ``wake`` is set when the app stops."""
    tasks = _tasks(app)
    if tasks.stopping.is_set():
        return
    if wake is not None:
        tasks.wakes.append(wake)
    tasks.handles = [h for h in tasks.handles if _alive(h)]
    tasks.handles.append(socketio.start_background_task(target, app, *args))


def running(app: Flask) -> bool:
    return not _tasks(app).stopping.is_set()


def sleep(app: Flask, seconds: float) -> bool:
    """Wait this long, or until the app stops; True while the task should go on."""
    return not _tasks(app).stopping.wait(seconds)


def stop(app: Flask, timeout: float = 3.0) -> None:
    """End the app's background tasks: each sees ``running(app)`` false at its next turn."""
    tasks = _tasks(app)
    tasks.stopping.set()
    for wake in tasks.wakes:
        wake.set()
    for handle in tasks.handles:
        join = getattr(handle, "join", None)
        if join is not None:
            join(timeout)


def alive(app: Flask) -> int:
    """How many of the app's background tasks still run."""
    return sum(1 for handle in _tasks(app).handles if _alive(handle))


def _alive(handle: Any) -> bool:
    is_alive = getattr(handle, "is_alive", None)
    if is_alive is not None:
        return bool(is_alive())
    return not getattr(handle, "dead", False)  # a gevent greenlet
