"""Background jobs of the documents domain: board books, prepared copies of new versions, and pruning
the cache of reader copies."""

from __future__ import annotations

from contextlib import nullcontext

from flask import has_app_context
from huey import crontab

from ecabinet.jobs import app_context, huey


def _context():
    # Immediate mode (tests) runs the job inside the caller's app; the worker builds its own.
    return nullcontext() if has_app_context() else app_context()


@huey.task()
def build_board_book_task(book_id: int) -> None:
    with _context():
        from ecabinet.documents import service

        service.build_board_book_now(book_id)


@huey.task()
def prepare_copies_task(sha256: str) -> None:
    with _context():
        from ecabinet.documents import service

        service.prepare_version(sha256)


@huey.periodic_task(crontab(minute="*/30"))
def prune_reader_copies() -> None:
    with _context():
        from ecabinet.documents import service

        service.prune_copies()
