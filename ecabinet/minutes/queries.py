"""Read helpers that both the minutes policy and its services use (the policy imports no service)."""

from __future__ import annotations

from ecabinet.extensions import db
from ecabinet.minutes.models import ActionItem, Minutes


def get_minutes(minutes_id: int) -> Minutes | None:
    return db.session.get(Minutes, minutes_id)


def get_action(action_id: int) -> ActionItem | None:
    return db.session.get(ActionItem, action_id)
