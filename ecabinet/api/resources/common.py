"""Helpers the resource modules share: the client of the request, lookups that answer 404, a page of
rows by cursor, and the description of the ``Idempotency-Key`` header."""

from __future__ import annotations

from typing import Any

from flask import g, request

from ecabinet.api import policy
from ecabinet.api.http import ProblemError, make_cursor, query_key, read_cursor
from ecabinet.api.models import ApiClient
from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting

NOT_FOUND = "No such resource, or this client may not see it."


def client() -> ApiClient:
    return g.api_client


def context() -> Any:
    return request.context  # spectree's validated query and body


def meeting_or_404(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not policy.meeting_visible(client(), meeting):
        raise ProblemError(404, NOT_FOUND)
    return meeting


def page(select_: Any, column: Any, limit: int, cursor: str | None, **filters: Any) -> tuple[list[Any], str | None]:
    """One page of ``select_`` in ``column`` order (a row id) after the cursor, and the cursor of the next
    page (None on the last). The cursor is bound to the client and to ``filters``: another query's is refused."""
    key = query_key(client().id, **filters)
    after = read_cursor(key, cursor)
    if isinstance(after, int):
        select_ = select_.where(column > after)
    rows = list(db.session.scalars(select_.order_by(column).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, make_cursor(key, rows[-1].id) if more else None


def idempotency_header(operation_: dict) -> None:
    """Every POST takes an ``Idempotency-Key`` (described in the OpenAPI document)."""
    operation_.setdefault("parameters", []).append({
        "name": "Idempotency-Key", "in": "header", "required": True,
        "description": "Unique per request: a retry with the same key and body gets the stored answer.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[\\x20-\\x7e]+$"}})
