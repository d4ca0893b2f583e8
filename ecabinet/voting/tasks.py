"""Timed work for written-opinion ballots, in the huey worker: close those past their deadline and
remind those who have not answered. The rules live in the services (tests call them with a given
``now``); this job is their boundary and commits each step."""

from __future__ import annotations

from huey import crontab

from ecabinet.jobs import app_context, huey


@huey.periodic_task(crontab(minute="*"))
def voting_minute() -> None:
    from ecabinet.core import uow
    from ecabinet.voting import service

    with app_context():
        service.close_due_ballots()
        uow.commit()
        service.send_due_reminders()
        uow.commit()
