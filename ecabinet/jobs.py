"""The background job queue (huey): CPU-bound work and timed work run here, never in the web process.

Jobs live in a SQLite file under instance/ by default and in Redis when REDIS_URL is set.
``python -m huey.bin.huey_consumer ecabinet.jobs.huey`` runs the worker; ``make run`` starts it.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from huey import RedisHuey, SqliteHuey

from ecabinet.config import INSTANCE_DIR


def _make_huey():
    immediate = os.environ.get("HUEY_IMMEDIATE", "").lower() in {"1", "true", "yes"}
    if url := os.environ.get("REDIS_URL"):
        return RedisHuey("ecabinet", url=url, immediate=immediate)
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("ecabinet", filename=str(INSTANCE_DIR / "jobs.sqlite3"), immediate=immediate)


huey = _make_huey()

_app = None

# The app factory, named rather than imported: the queue sits at the bottom of the layers, and the
# factory imports every domain (the worker loads this module alone).
APP_FACTORY = "ecabinet:create_app"


def app_context():
    """Jobs run outside any request: give them the app (built once per worker process)."""
    global _app
    if _app is None:
        module, _, name = APP_FACTORY.partition(":")
        _app = getattr(importlib.import_module(module), name)()
    return _app.app_context()


def _register_tasks() -> None:
    """The worker loads this module only: import every domain's tasks so their jobs and periodic jobs
    (closing ballots at their deadline, reminders, pruning copies) are registered with it."""
    import pkgutil

    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module.ispkg:
            try:
                importlib.import_module(f"ecabinet.{module.name}.tasks")
            except ModuleNotFoundError as exc:
                if exc.name != f"ecabinet.{module.name}.tasks":
                    raise


_register_tasks()
