"""The policy guard: no view or socket handler can act before its domain's policy has decided.

Each domain writes its rules in its own ``policy.py`` as plain functions ``rule(user, **args) -> bool``.
A view is wrapped with ``@guard(rule)`` (or ``@public``); a Socket.IO handler is registered with
``@guarded_event(name, rule)``. Both record the rule on the function, so the security suite can walk
the URL map and the event registry and fail on anything that has no decision.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import abort, redirect, request, url_for
from flask_login import current_user

from ecabinet.core import uow
from ecabinet.core.hooks import Hook
from ecabinet.core.schemas import InvalidPayload, Payload, validate

log = logging.getLogger(__name__)

Rule = Callable[..., bool]

POLICY_ATTR = "__ecabinet_policy__"

# Who is signed in behind a socket: ``fn(sid) -> user or None``. Sign-in sessions belong to the accounts
# domain, above this one, which fills the hook when it is imported.
socket_users: Hook[Callable[[str], Any]] = Hook("core.socket_users")


def socket_user(sid: str) -> Any:
    """The signed-in user behind a socket, or None (also when no domain answers)."""
    for lookup in socket_users:
        return lookup(sid)
    return None


class Denied(Exception):
    """Raised by services when an actor may not do what they asked (answered with 403)."""

    def __init__(self, message: str = "You are not allowed to do this.") -> None:
        super().__init__(message)
        self.message = message


class Hidden(Exception):
    """Raised when the object must not even be admitted to exist for this actor (answered with 404)."""


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view as open to anyone, on purpose. Like ``guard``, it is the view's unit-of-work boundary."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = view(*args, **kwargs)
        uow.commit()
        return result

    setattr(wrapper, POLICY_ATTR, "public")
    return wrapper


def user_or_none():
    return current_user._get_current_object() if current_user.is_authenticated else None


def guard(rule: Rule) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a view: anonymous users go to the login page, a refused rule is a 403, a hidden object a 404."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = user_or_none()
            if user is None:
                if request.method == "GET":
                    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
                abort(401)
            try:
                allowed = rule(user, **kwargs)
            except Hidden:
                abort(404)
            if not allowed:
                abort(403)
            result = view(*args, **kwargs)
            # The boundary: the view's one commit (rolled back instead when a DomainError doomed it).
            uow.commit()
            return result

        setattr(wrapper, POLICY_ATTR, rule)
        return wrapper

    return decorate


# The Socket.IO event registry: event name -> rule. Filled by guarded_event.
EVENT_RULES: dict[str, Rule] = {}
# Event name -> the schema its payload is validated against before the rule runs.
EVENT_SCHEMAS: dict[str, type[Payload]] = {}
# Event name -> its class of rate limit (``ecabinet.core.ratelimit.RATES``).
EVENT_RATES: dict[str, str] = {}
# Event name -> the event's decision for a user already known (``run_event``).
_DECISIONS: dict[str, Callable[[Any, Any], Any]] = {}


def run_event(name: str, user: Any, data: Any) -> Any:
    """Decide and run a guarded event for a socket whose user is already known, exactly as the event
    itself is decided: its rate token, its schema, its rule, then its handler. The connect handler runs
    the join a tablet carries in its handshake this way (ecabinet/live/events.py). The caller commits."""
    return _DECISIONS[name](user, data)


def guarded_event(name: str, rule: Rule, namespace: str = "/", schema: type[Payload] | None = None,
                  rate: str = "chatty", gate: Callable[[], Any] | None = None,
                  ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a Socket.IO handler behind its rule.

    The handler receives ``(user, data)``. A refused rule is answered with an error acknowledgement;
    nothing else runs. A revoked session or disabled account disconnects the socket. When the database
    is unavailable the answer is ``{"ok": false, "error": "unavailable", "message": ...}``.

    With a ``schema``, the payload is validated before the rule: one that does not fit is answered with
    ``{"ok": false, "error": "invalid", "fields": {...}}``; the rule and the handler receive the
    validated fields as a dict (``Payload.given``).

    First of all, the event spends a token of its ``rate`` class, per socket and per user
    (``ecabinet.core.ratelimit``); over the limit it is answered ``{"ok": false, "error": "rate_limited",
    "retry_after": seconds}`` before the session, the payload or the rule are looked at. An event that
    declares no class is held to the strictest one.

    With a ``gate`` (``ecabinet.core.admission``), the event then waits for a place at it before it
    touches the database; none within the gate's wait is answered as "unavailable" (tried again).
    """
    from flask_socketio import disconnect

    from ecabinet.core import admission, ratelimit
    from ecabinet.core.errors import database_unavailable, unavailable_answer
    from ecabinet.extensions import db, socketio

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def wrapper(*args: Any) -> Any:
            # No argument, or several, is not one payload object: the schema answers it as invalid.
            data = args[0] if len(args) == 1 else (list(args) or None)
            try:
                refusal = over_the_limit()
                if refusal is not None:
                    return refusal
                if gate is None:
                    return decided(data)
                with gate().admitted():
                    return decided(data)
            except admission.Busy:
                return admission.busy_answer()
            except Exception as exc:
                # The database is down or restarting: say so at once rather than leave the tablet waiting.
                if not database_unavailable(exc):
                    raise
                with contextlib.suppress(Exception):
                    db.session.remove()
                return unavailable_answer()

        def over_the_limit() -> Any:
            from flask import request

            # Before any database access (and before the gate): the user behind the socket is known from
            # its handshake.
            limits = ratelimit.limiter()
            wait = limits.take(request.sid, rate)
            if wait is None:
                return None
            if limits.refused_in_a_row(request.sid) >= ratelimit.DISCONNECT_AFTER_REFUSALS:
                # Closed without a database access; the disconnect handler forgets the socket's buckets.
                disconnect()
            return ratelimit.refused(wait)

        def decided(data: Any) -> Any:
            from flask import request

            limits = ratelimit.limiter()
            user = socket_user(request.sid)
            if user is None:
                disconnect()
                return {"ok": False, "error": "not_signed_in"}
            if limits.user_of(request.sid) is None:
                limits.bind(request.sid, user.id)  # a socket that did not come through the connect handler
            answer = judged(user, data)
            # The boundary: a handler that must answer with the committed state commits itself first.
            uow.commit()
            return answer

        def judged(user: Any, data: Any) -> Any:
            if schema is not None:
                try:
                    data = validate(schema, data).given()
                except InvalidPayload as exc:
                    log.info("event %s refused: invalid payload", name, extra={"user_id": user.id})
                    return exc.socket_answer()
            try:
                allowed = rule(user, data=data)
            except Hidden:
                log.info("event %s refused: not found", name, extra={"user_id": user.id})
                return {"ok": False, "error": "not_found"}
            if not allowed:
                log.info("event %s refused: forbidden", name, extra={"user_id": user.id})
                return {"ok": False, "error": "forbidden"}
            return handler(user, data)

        setattr(wrapper, POLICY_ATTR, rule)
        EVENT_RULES[name] = rule
        _DECISIONS[name] = lambda user, data: over_the_limit() or judged(user, data)
        if rate not in ratelimit.RATES:
            raise ValueError(f"{name}: unknown rate class {rate!r}")
        EVENT_RATES[name] = rate
        if schema is not None:
            EVENT_SCHEMAS[name] = schema
        socketio.on_event(name, wrapper, namespace=namespace)
        return wrapper

    return decorate
