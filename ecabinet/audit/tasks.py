"""The periodic checkpoint of the audit chain's head, in the huey worker.

The job runs each minute and signs the head when ``AUDIT_CHECKPOINT_MINUTES`` (10 by default) have
passed since the last checkpoint and the chain has grown: an entry deleted from the end or rewritten
after that is reported by ``flask ecabinet audit-verify``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from flask import has_app_context
from huey import crontab

from ecabinet.audit import checkpoints
from ecabinet.core import uow
from ecabinet.jobs import app_context, huey


def _context() -> AbstractContextManager[object]:
    # Called inside an app (tests, immediate mode) it uses that app; the worker builds its own.
    return nullcontext() if has_app_context() else app_context()


@huey.periodic_task(crontab(minute="*"))
def audit_checkpoint() -> None:
    with _context():
        checkpoints.checkpoint_if_due()
        uow.commit()
