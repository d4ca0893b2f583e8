"""Conclusions and action items: the organisation's own action items, and their progress, reported by
the ministry they are assigned to (through the minutes domain's service)."""

from __future__ import annotations

from flask import g
from sqlalchemy import select

from ecabinet.api import policy, schemas
from ecabinet.api.blueprint import bp
from ecabinet.api.http import (
    OPERATION_EXTRAS,
    ProblemError,
    operation,
    responses,
    spec,
)
from ecabinet.api.resources.common import NOT_FOUND, client, context, idempotency_header, meeting_or_404, page
from ecabinet.extensions import db
from ecabinet.minutes import service as minutes
from ecabinet.minutes.models import ActionItem


def action_row(action: ActionItem) -> schemas.Action:
    return schemas.Action(id=action.id, meeting_id=action.conclusion.meeting_id, title=action.title,
                          ministry=action.ministry, due_date=action.due_date, status=action.status.value)


@bp.get("/actions")
@operation("outcomes:read")
@spec.validate(query=schemas.ActionsQuery, resp=responses(HTTP_200=schemas.ActionPage), tags=["actions"],
               operation_id="listActions")
def list_actions():
    """The action items assigned to the client's organisation, oldest first."""
    query = context().query
    select_ = select(ActionItem).where(ActionItem.organisation_id == client().organisation_id)
    if query.status:
        select_ = select_.where(ActionItem.status == query.status)
    rows, next_cursor = page(select_, ActionItem.id, query.limit, query.cursor, status=query.status)
    return schemas.ActionPage(data=[action_row(a) for a in rows], next_cursor=next_cursor)


@bp.get("/meetings/<int:meeting_id>/conclusion")
@operation("outcomes:read")
@spec.validate(resp=responses(HTTP_200=schemas.Conclusion), tags=["actions"], operation_id="getConclusion")
def get_conclusion(meeting_id: int):
    """The meeting's issued conclusion, with the action items assigned to the client's organisation."""
    meeting = meeting_or_404(meeting_id)
    conclusion = minutes.conclusion_of(meeting)
    if conclusion is None or conclusion.issued_at is None:
        raise ProblemError(404, "This meeting's conclusion has not been issued.")
    own = [a for a in conclusion.actions if a.organisation_id == client().organisation_id]
    return schemas.Conclusion(meeting_id=meeting.id, body=conclusion.body, issued_at=conclusion.issued_at,
                              actions=[action_row(a) for a in own])


@bp.post("/actions/<int:action_id>/updates")
@operation("actions:write")
@spec.validate(json=schemas.ActionUpdateIn, resp=responses(HTTP_201=schemas.ActionUpdateOut), tags=["actions"],
               operation_id="updateAction")
def update_action(action_id: int):
    """Report an action item's progress: its new status and a note. Needs an Idempotency-Key."""
    action = minutes.get_action(action_id)
    if action is None or not policy.may_update_action(client(), action.organisation_id):
        raise ProblemError(404, NOT_FOUND)
    body = context().json
    update = minutes.update_action(g.api_actor, action, body.status, body.note)
    db.session.flush()
    return schemas.ActionUpdateOut(id=update.id, action_id=action.id, status=update.status.value,
                                   note=update.note, created_at=update.created_at), 201


OPERATION_EXTRAS[("/api/v1/actions/{action_id}/updates", "post")] = idempotency_header
