"""The media domain's boundaries outside a request: carrying plans out at Janus (with no database
connection held), and reacting after commits elsewhere: the floor and the meeting's rules changing
(domain events), sign-in sessions ending (accounts' signal), and the sweep of expired tokens and
feeds the app did not place. Each reaction commits once, as a boundary of its own; the rules it applies
are the service's.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app

from ecabinet.accounts.service import session_revoked
from ecabinet.core import background, domain_events, uow
from ecabinet.extensions import db, socketio
from ecabinet.media.janus import Janus, JanusError
from ecabinet.media.service import (
    MAX_PUBLISHERS,
    Moderation,
    Revocation,
    Ticket,
    apply_room_check,
    expired_meetings,
    floor_moderations,
    janus,
    revoke_sessions,
    revoke_unentitled,
    room_checks,
)

log = logging.getLogger(__name__)


# --- carrying plans out at Janus (no database connection held) ---------------------------------------

def apply_ticket(client: Janus, ticket: Ticket) -> None:
    client.create_room(ticket.room, ticket.secret, ticket.description, MAX_PUBLISHERS)
    client.add_token(ticket.token)
    client.allow(ticket.room, ticket.secret, [ticket.token])
    if ticket.old_token:
        try:  # Janus may have restarted since (and forgotten the old token): the new place matters
            client.remove_token(ticket.old_token)
            client.allow(ticket.room, ticket.secret, [ticket.old_token], add=False)
        except JanusError as exc:
            log.warning("could not remove an old media token of room %s: %s", ticket.room, exc)
        # A page that closed without leaving may still hold the feed (until Janus times its session out):
        # the new place takes it, or the page's join would be refused (the id exists).
        client.kick(ticket.room, ticket.secret, ticket.feed_id)


def apply_moderations(client: Janus, plan: list[Moderation]) -> list[Moderation]:
    """Apply the plan at Janus; return the steps Janus did not carry out (a feed already gone is not one)."""
    failed = []
    for step in plan:
        try:
            client.moderate(step.room, step.secret, step.feed_id, step.mid, step.mute)
        except JanusError as exc:
            if exc.code not in (426, 428, 430, 435):  # room, feed or stream gone: nothing to moderate
                log.warning("could not moderate feed %s of room %s: %s", step.feed_id, step.room, exc)
                failed.append(step)
    return failed


def apply_revocations(client: Janus, plan: list[Revocation]) -> None:
    for step in plan:
        try:
            if step.token:
                client.remove_token(step.token)
                client.allow(step.room, step.secret, [step.token], add=False)
        except JanusError as exc:
            log.warning("could not remove a media token of room %s: %s", step.room, exc)
        try:
            client.kick(step.room, step.secret, step.feed_id)
        except JanusError as exc:
            log.warning("could not remove feed %s from room %s: %s", step.feed_id, step.room, exc)


# --- reacting to the room's changes -------------------------------------------------------------------

_FLOOR = ("floor.grant", "floor.end")
_RULES = ("agenda.current_item", "participant.", "guest.", "meeting.", "live.adjourn")


def react(app: Flask, meeting_id: int, floor: bool, rules: bool) -> None:
    """After a commit: take tokens back that the rules no longer allow, and apply the floor at Janus."""
    client = janus(app)
    if client is None:
        return
    with app.app_context():
        try:
            revocations = revoke_unentitled(meeting_id) if rules else []
            moderations = floor_moderations(meeting_id) if floor else []
            uow.commit()
        finally:
            db.session.remove()
    apply_revocations(client, revocations)
    apply_moderations(client, moderations)


@domain_events.subscribe
def _on_meeting_changes(_session: Any, changes: list[domain_events.MeetingChange]) -> None:
    touched: dict[int, list[bool]] = {}
    for change in changes:
        floor = change.type in _FLOOR
        rules = change.type.startswith(_RULES)
        if floor or rules:
            flags = touched.setdefault(change.meeting_id, [False, False])
            flags[0] |= floor
            flags[1] |= rules
    if not touched or not current_app.config.get("JANUS_URL"):
        return
    app = current_app._get_current_object()
    for meeting_id, (floor, rules) in touched.items():
        uow.after_commit(_later, app, meeting_id, floor, rules)


def _later(app: Flask, meeting_id: int, floor: bool, rules: bool) -> None:
    if app.config.get("MEDIA_INLINE"):
        react(app, meeting_id, floor, rules)
    else:
        socketio.start_background_task(react, app, meeting_id, floor, rules)


def on_sessions_ended(app: Flask, session_ids: list[int]) -> None:
    """Signed out, deactivated, reset: their tokens go and they leave the room."""
    client = janus(app)
    if client is None:
        return
    # In the app context the signal came in (after the revocation's commit): another session here would
    # wait for the connection this one holds (SQLite has one).
    plan = revoke_sessions(session_ids)
    uow.commit()
    uow.release()
    apply_revocations(client, plan)


SWEEP_SECONDS = 5.0


def start_sweeper(app: Flask) -> None:
    """Once per process: now and then, take back tokens that were not renewed in time, and remove from the
    rooms whoever the app did not place there."""
    if app.extensions.get("media_sweeper") or app.config.get("MEDIA_INLINE"):
        return
    app.extensions["media_sweeper"] = True
    background.start(app, _sweep_forever)


def _sweep_forever(app: Flask) -> None:
    while background.sleep(app, SWEEP_SECONDS):
        try:
            with app.app_context():
                try:
                    meetings = expired_meetings()
                    checks = room_checks()
                finally:
                    db.session.remove()
            for meeting_id in meetings:
                react(app, meeting_id, floor=False, rules=True)
            client = janus(app)
            for check in checks if client is not None else []:
                apply_room_check(client, check)
        except Exception:  # noqa: BLE001 - tried again at the next sweep
            log.warning("could not sweep expired media tokens", exc_info=True)


@session_revoked.connect
def _on_session_revoked(_sender: object, session_ids: list[int]) -> None:
    if current_app.config.get("JANUS_URL"):
        on_sessions_ended(current_app._get_current_object(), session_ids)
