"""Socket.IO handlers: thin. Each is guarded by its policy rule; acknowledgements come after the commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError as SocketRefused
from flask_socketio import emit, join_room, leave_room

from ecabinet.accounts.auth import current_session, forget_socket, socket_checked
from ecabinet.accounts.models import Role
from ecabinet.core import ratelimit, uow
from ecabinet.core.actor import current_actor
from ecabinet.core.admission import Busy, busy_answer, room_gate
from ecabinet.core.errors import DomainError, database_unavailable, unavailable_answer
from ecabinet.core.policy import guarded_event, run_event
from ecabinet.core.security import origin_allowed
from ecabinet.extensions import socketio
from ecabinet.live import policy, presence, schemas, service
from ecabinet.live.guard import refused_handshakes
from ecabinet.meetings.models import Meeting


def _refuse(reason: str) -> None:
    # Audited in aggregate per address (ecabinet/live/guard.py): anyone can send refused handshakes.
    refused_handshakes(current_app._get_current_object()).refused(request.remote_addr, reason,
                                                                  request.headers.get("Origin"))
    # Socket.IO's own error, so the reason reaches the client (a plain exception arrives as "Connection
    # refused by server", and the tablet cannot tell an ended sign-in from a busy server).
    raise SocketRefused(reason)


@socketio.on("connect")
def on_connect(auth=None):  # noqa: ANN001
    if not origin_allowed(request.headers.get("Origin"), request.host_url,
                          current_app.config["SOCKETIO_ALLOWED_ORIGINS"]):
        _refuse("origin_not_allowed")
    # A tablet carries its join in the handshake (static/js/live.js): back in its room after one round
    # trip, one pass of the gate and one commit instead of two of each. That is what an instance's
    # failover costs its survivors per tablet, about 1,000 tablets each at once.
    join = auth.get("join") if isinstance(auth, dict) else None
    try:
        # After an instance dies its tablets all come back at once: they queue at the gate, not in the
        # database pool (ecabinet/core/admission.py).
        with room_gate().admitted():
            row = current_session()
            if not current_user.is_authenticated or row is None:
                _refuse("not_signed_in")
            # Read before the commit, which expires the rows: reading them after it cost two more
            # statements per connection (a tenth of the worker's time while 2,000 tablets joined on
            # PostgreSQL).
            user_id, session_id = current_user.id, row.id
            service.register_connection(request.sid, user_id, session_id)
            ratelimit.limiter().bind(request.sid, user_id)  # the user's bucket, without a lookup per event
            # Decided as the join event is (its rate, schema and rule), in the connection's transaction.
            joined = run_event("join", current_user._get_current_object(), join) if join is not None else None
            if not uow.commit():  # the connect handler is a boundary
                # The join broke a rule and doomed the unit of work: the connection is still recorded (the
                # sweep, presence and the end of a session find its socket there), on its own.
                service.register_connection(request.sid, user_id, session_id)
                uow.commit()
                joined = {"ok": False, "error": "refused"}
        socket_checked(request.sid, user_id, session_id)
    except Exception as exc:
        ratelimit.limiter().forget(request.sid)  # a refused socket sends no events: its bucket goes now
        if isinstance(exc, SocketRefused):
            raise
        if isinstance(exc, Busy):
            raise SocketRefused("unavailable", busy_answer()) from exc
        if not database_unavailable(exc):
            raise
        # The client shows the message and tries again (its reconnection backs off on its own).
        raise SocketRefused("unavailable", unavailable_answer()) from exc
    presence.start(current_app._get_current_object())
    if joined is not None:
        # Sent before Socket.IO confirms the connection: the client keeps it until then and hands it over
        # before its "connect" (socket.io-client's receive buffer). Straight to this socket, never through
        # the message queue, which could deliver it after the confirmation.
        emit("joined", {"attempt": _attempt(auth), "answer": joined}, ignore_queue=True)
    return True


def _attempt(auth: dict) -> int | None:
    """The client's number for this connection attempt, echoed so it matches the answer to its attempt."""
    value = auth.get("attempt")
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2**53 - 1
    return value if ok else None


@socketio.on("disconnect")
def on_disconnect(reason=None):  # noqa: ANN001
    forget_socket(request.sid)
    ratelimit.limiter().forget(request.sid)
    try:
        meeting_id = service.unregister_connection(request.sid)
        uow.commit()  # the disconnect handler is a boundary
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        # The row stays until this instance's next sweep of stale connections (ecabinet/live/presence.py).
        current_app.logger.warning("could not forget socket %s: the database is unavailable", request.sid)
        return
    if meeting_id is not None:
        presence.changed(meeting_id)


def _run(data: Any, action: Callable[[Meeting], Any]) -> dict[str, Any]:
    """Load the meeting, run the service action, answer after its commit (or with the rule it broke).

    The answer carries the meeting's event number after the action, so the handler commits here, before
    reading it, rather than leave the commit to ``guarded_event``."""
    meeting = service.get_meeting_or_none(data.get("meeting_id"))
    if meeting is None:
        return {"ok": False, "error": "not_found"}
    try:
        result = action(meeting)
    except DomainError as exc:
        uow.rollback()
        return {"ok": False, "error": "refused", "message": exc.translated()}
    if not uow.commit():
        return {"ok": False, "error": "refused"}
    answer: dict[str, Any] = {"ok": True, "seq": service.state_of(meeting.id).last_seq}
    if isinstance(result, dict):
        answer.update(result)
    return answer


@guarded_event("join", policy.can_join, schema=schemas.Join, rate="read", gate=room_gate)
def on_join(user, data):  # noqa: ANN001
    """Enter a meeting's room; ``last_seq`` (or null) says what the client has already applied."""
    meeting = service.get_meeting_or_none(data["meeting_id"])
    last_seq = data.get("last_seq")
    if last_seq is not None and (not isinstance(last_seq, int) or isinstance(last_seq, bool) or last_seq < 0):
        return {"ok": False, "error": "refused", "message": "last_seq must be a whole number or null."}
    join_room(service.room(meeting.id))
    service.enter_meeting(request.sid, meeting.id)
    presence.changed(meeting.id)
    return {"ok": True, **service.catch_up(user, meeting, last_seq)}


@guarded_event("comments.page", policy.can_read_comments, schema=schemas.PageComments, rate="read")
def on_page_comments(user, data):  # noqa: ANN001
    """An item's older comments, a page at a time (a snapshot carries only the latest of each item)."""
    from ecabinet.meetings.policy import is_chair_of

    meeting = service.get_meeting_or_none(data["meeting_id"])
    for_chair = is_chair_of(user, meeting) or user.role is Role.SECRETARY
    comments, more = service.comments_before(meeting, data["item_id"], data.get("before_id"))
    return {"ok": True, "item_id": data["item_id"], "comments": [service.comment_dict(c, for_chair) for c in comments],
            "more": more}


@guarded_event("leave", policy.can_join, schema=schemas.MeetingAction, rate="read")
def on_leave(user, data):  # noqa: ANN001
    leave_room(service.room(data["meeting_id"]))
    return {"ok": True}


def _actor():
    return current_actor()


@guarded_event("chair.start", policy.can_chair, schema=schemas.StartMeeting, rate="chair")
def on_start(user, data):  # noqa: ANN001
    return _run(data, lambda m: service.start(_actor(), m, below_quorum=bool(data.get("below_quorum"))))


@guarded_event("console.overview", policy.can_chair, schema=schemas.MeetingAction, rate="read")
def on_overview(user, data):  # noqa: ANN001
    """What the console shows before a step: the quorum and its rule, the items not discussed, the open
    votes and who has not voted (nothing changes: no commit, no event)."""
    meeting = service.get_meeting_or_none(data["meeting_id"])
    return {"ok": True, **service.overview(user, meeting)}


@guarded_event("chair.pause", policy.can_chair, schema=schemas.MeetingAction, rate="chair")
def on_pause(user, data):  # noqa: ANN001
    return _run(data, lambda m: service.set_paused(_actor(), m, True))


@guarded_event("chair.resume", policy.can_chair, schema=schemas.MeetingAction, rate="chair")
def on_resume(user, data):  # noqa: ANN001
    return _run(data, lambda m: service.set_paused(_actor(), m, False))


@guarded_event("chair.adjourn", policy.can_chair, schema=schemas.MeetingAction, rate="chair")
def on_adjourn(user, data):  # noqa: ANN001
    return _run(data, lambda m: service.adjourn(_actor(), m))


@guarded_event("chair.set_item", policy.can_chair, schema=schemas.SetItem, rate="chair")
def on_set_item(user, data):  # noqa: ANN001
    item_id = data.get("item_id")
    if item_id is not None and (not isinstance(item_id, int) or isinstance(item_id, bool)):
        return {"ok": False, "error": "refused", "message": "item_id must be a number or null."}
    return _run(data, lambda m: service.set_item(_actor(), m, item_id))


@guarded_event("chair.adopt_consent", policy.can_chair, schema=schemas.MeetingAction, rate="chair")
def on_adopt_consent(user, data):  # noqa: ANN001
    return _run(data, lambda m: {"adopted": [i.id for i in service.adopt_consent_block(_actor(), m)]})


@guarded_event("chair.grant_floor", policy.can_chair, schema=schemas.RequestOnFloor, rate="chair")
def on_grant_floor(user, data):  # noqa: ANN001
    return _run(data, lambda m: service.grant_floor(_actor(), m, data.get("request_id")))


@guarded_event("chair.end_floor", policy.can_chair, schema=schemas.MeetingAction, rate="chair")
def on_end_floor(user, data):  # noqa: ANN001
    return _run(data, lambda m: service.end_floor(_actor(), m))


@guarded_event("chair.reorder_queue", policy.can_chair, schema=schemas.ReorderQueue, rate="chair")
def on_reorder_queue(user, data):  # noqa: ANN001
    return _run(data, lambda m: service.reorder_queue(_actor(), m, data.get("item_id"), data.get("request_ids")))


@guarded_event("chair.hide_comment", policy.can_chair, schema=schemas.HideComment, rate="chair")
def on_hide_comment(user, data):  # noqa: ANN001
    return _run(data, lambda m: service.hide_comment(_actor(), m, data.get("comment_id")))


@guarded_event("floor.request", policy.can_speak_on, schema=schemas.RequestFloor, rate="chatty")
def on_request_floor(user, data):  # noqa: ANN001
    return _run(data, lambda m: {"request_id": service.request_floor(_actor(), m, data["item_id"]).id})


@guarded_event("floor.withdraw", policy.can_withdraw_request, schema=schemas.RequestOnFloor, rate="chatty")
def on_withdraw(user, data):  # noqa: ANN001
    return _run(data, lambda m: service.withdraw_request(_actor(), m, data.get("request_id")))


@guarded_event("comment.post", policy.can_comment_on, schema=schemas.PostComment, rate="chatty")
def on_comment(user, data):  # noqa: ANN001
    return _run(data, lambda m: {"comment_id": service.post_comment(_actor(), m, data["item_id"], data.get("body"),
                                                                    data.get("client_id")).id})


@guarded_event("attendance.check_in", policy.can_check_in, schema=schemas.CheckIn, rate="chatty")
def on_check_in(user, data):  # noqa: ANN001
    return _run(data, lambda m: service.check_in(_actor(), m, data.get("mode")))


@guarded_event("presenter.share", policy.can_present, schema=schemas.PresenterShare, rate="chair")
def on_presenter_share(user, data):  # noqa: ANN001
    return _run(data, lambda m: service.share(_actor(), m, data["document_id"], data.get("page")))


@guarded_event("presenter.page", policy.can_present, schema=schemas.PresenterPage, rate="chair")
def on_presenter_page(user, data):  # noqa: ANN001
    return _run(data, lambda m: service.turn_page(_actor(), m, data["page"]))


@guarded_event("presenter.stop", policy.can_present, schema=schemas.MeetingAction, rate="chair")
def on_presenter_stop(user, data):  # noqa: ANN001
    return _run(data, lambda m: service.stop(_actor(), m))
