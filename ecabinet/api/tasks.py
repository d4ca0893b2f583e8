"""The webhook jobs: send one delivery, and every minute send the deliveries that are overdue.

Each job is a boundary: ``webhooks.attempt`` commits its claim, then its result."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from flask import has_app_context
from huey import crontab

from ecabinet.jobs import app_context, huey


def _context() -> AbstractContextManager[object]:
    # Immediate mode (tests) runs the job inside the caller's app; the worker builds its own.
    return nullcontext() if has_app_context() else app_context()


@huey.task()
def send_webhook(delivery_id: int) -> None:
    from ecabinet.api import webhooks

    with _context():
        webhooks.attempt(delivery_id)


@huey.periodic_task(crontab(minute="*"))
def send_overdue_webhooks() -> None:
    from ecabinet.api import webhooks
    from ecabinet.core import uow

    with _context():
        ids = webhooks.due()
        uow.rollback()
        for delivery_id in ids:
            send_webhook(delivery_id)
