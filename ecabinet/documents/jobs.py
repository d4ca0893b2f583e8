"""Queueing the documents jobs (preparing copies of a new version, building a board book).

A job is queued only once the unit of work that needs it has committed, so it never runs before the
row it reads exists, nor after a rollback. The job functions are huey tasks declared in
``ecabinet.documents.tasks``, which calls the services; they fill the ``queued_jobs`` hook, so the
services reach them without importing the tasks module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ecabinet.core import uow
from ecabinet.core.hooks import Hook

log = logging.getLogger(__name__)

PREPARE_COPIES = "prepare_copies"
BUILD_BOARD_BOOK = "build_board_book"

# name -> the function that queues the job (a huey task called with the job's arguments).
queued_jobs: Hook[Callable[..., Any]] = Hook("documents.queued_jobs")


def enqueue(name: str, *args: Any) -> None:
    """Queue the job now; raises when the queue cannot take it (Redis unreachable)."""
    import ecabinet.jobs  # noqa: F401 - loading the queue imports every domain's tasks, which fill the hook

    job = queued_jobs.get(name)
    if job is None:
        raise LookupError(f"no documents job {name!r} is registered")
    job(*args)


def enqueue_after_commit(name: str, *args: Any, on_failure: Callable[[], None] | None = None) -> None:
    """Queue the job once the current unit of work commits. Should the queue refuse it, ``on_failure``
    stages what records that (in a unit of work of its own, committed here)."""
    uow.after_commit(_enqueue_committed, name, args, on_failure)


def _enqueue_committed(name: str, args: tuple[Any, ...], on_failure: Callable[[], None] | None) -> None:
    try:
        enqueue(name, *args)
    except Exception:  # noqa: BLE001 - the change is committed; only its follow-up is lost
        log.warning("documents job %s%r not queued", name, args, exc_info=True)
        if on_failure is not None:
            # After-commit work runs in an app context of its own: it is its own boundary.
            on_failure()
            uow.commit()
