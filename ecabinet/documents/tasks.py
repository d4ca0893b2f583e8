"""Background jobs of the documents domain: board books, prepared copies of new versions, and pruning
the cache of reader copies.

Each job is a boundary: it commits its unit of work at its end. The services queue these jobs through
the ``queued_jobs`` hook (filled here), never by importing this module.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from flask import has_app_context
from huey import crontab

from ecabinet.core import uow
from ecabinet.documents import jobs, service
from ecabinet.jobs import app_context, huey


def _context() -> AbstractContextManager[object]:
    # Immediate mode (tests) runs the job inside the caller's app; the worker builds its own.
    return nullcontext() if has_app_context() else app_context()


@jobs.queued_jobs.register(jobs.BUILD_BOARD_BOOK)
@huey.task()
def build_board_book_task(book_id: int) -> None:
    with _context():
        # Each step of progress is committed, so that the reader's status requests see it.
        service.build_board_book_now(book_id, checkpoint=uow.commit)
        uow.commit()


@jobs.queued_jobs.register(jobs.PREPARE_COPIES)
@huey.task()
def prepare_copies_task(sha256: str) -> None:
    with _context():
        service.prepare_version(sha256)
        uow.commit()


@huey.periodic_task(crontab(minute="*/30"))
def prune_reader_copies() -> None:
    with _context():
        service.prune_copies()
        uow.commit()
