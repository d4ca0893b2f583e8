"""Background jobs of the minutes: producing and signing the final PDF (CPU work, off the event loop)."""

from __future__ import annotations

from ecabinet.core import uow
from ecabinet.jobs import app_context, huey


@huey.task(retries=2, retry_delay=10)
def finalise_job(minutes_id: int) -> None:
    with app_context():
        _finalise(minutes_id)


def _finalise(minutes_id: int) -> None:
    from ecabinet.minutes import service

    service.finalise(minutes_id)
    uow.commit()  # the job is the boundary


def produce_final_pdf(minutes_id: int) -> None:
    """Queue the final PDF; in-process when the queue runs immediately (tests, `HUEY_IMMEDIATE=1`)."""
    from flask import current_app

    if current_app.config.get("MINUTES_FINALISE_INLINE"):
        _finalise(minutes_id)
        return
    finalise_job(minutes_id)
