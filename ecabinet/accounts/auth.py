"""Binding sign-in sessions to Flask-Login: the cookie holds a random token, the database decides."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, request, session
from flask_login import current_user, login_user, logout_user

from ecabinet.accounts import service
from ecabinet.accounts.models import User, UserSession
from ecabinet.core import sealing, uow
from ecabinet.core.actor import Actor
from ecabinet.core.policy import socket_users
from ecabinet.extensions import db, login_manager

TOKEN_KEY = "auth_token"  # noqa: S105 - the session key's name, not a secret
# The wrapping key of a key holder's custody key (accounts/custody.py): only in the holder's signed
# session cookie, so that the server's files never hold it.
CUSTODY_KEY = "custody_key"


def init_login(app) -> None:  # noqa: ANN001
    login_manager.init_app(app)
    # Off: Flask-Login keys its protection on the address as well as the browser, which would sign a
    # tablet out whenever it moves between Wi-Fi and 4G (and, for a permanent session, it only marks the
    # login "not fresh"). Sign-in sessions are held to their browser instead, in current_session().
    login_manager.session_protection = None
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    row = current_session()
    if row is None or str(row.user_id) != user_id:
        return None
    lifetime = timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"])
    alive = service.touch_session(row, lifetime)
    if db.session.is_modified(row):
        # The touch (or the idle session's end) is a boundary of its own: this authentication's, not the
        # request's, which may yet roll back.
        uow.commit()
    return row.user if alive else None


def current_session() -> UserSession | None:
    """The UserSession row behind this request's cookie (cached for the request), or None when there is
    none or the cookie was replayed from another browser (which ends that session)."""
    if "user_session" not in g:
        g.user_session = _held_to_browser(service.session_for_token(session.get(TOKEN_KEY)))
    return g.user_session


def _held_to_browser(row: UserSession | None) -> UserSession | None:
    """A socket's request is its handshake, so sockets are held to the browser that opened them too."""
    if row is None:
        return None
    address = row.ip
    kept = service.hold_to_browser(Actor(None, request.remote_addr), row, request.headers.get("User-Agent"))
    if not kept or row.ip != address:
        # Like the touch: this check's own boundary. A replay stays revoked and audited even when the
        # request that carried it is refused or rolls back.
        uow.commit()
    return row if kept else None


def sign_in(actor: Actor, user: User, user_agent: str | None, custody_key: bytes | None = None) -> None:
    session.clear()  # a fresh session on sign-in: no fixation
    token = service.start_session(actor, user, user_agent)
    session[TOKEN_KEY] = token
    remember_custody_key(custody_key)
    session.permanent = True
    login_user(user)


def remember_custody_key(key: bytes | None) -> None:
    if key:
        session[CUSTODY_KEY] = sealing.b64(key)


def custody_key() -> bytes | None:
    """The wrapping key this session carries (signed in or confirmed with the password), if any."""
    text = session.get(CUSTODY_KEY)
    try:
        return sealing.unb64(text) if isinstance(text, str) else None
    except ValueError:
        return None


def sign_out(actor: Actor) -> None:
    service.end_session(actor, session.get(TOKEN_KEY))
    logout_user()
    session.clear()


# --- sockets ---------------------------------------------------------------------------------------
# A socket's sign-in session is checked in full (cookie token -> session row -> user, browser, idle time)
# when it connects. Every event after that reads the same session row by its id, with its user, in one
# statement: a revoked session, a disabled account or an idle timeout is refused at the very next event,
# even when the close that ending a session sends to its sockets (live.service.disconnect_sessions) was
# missed, for example while Redis was down. The handshake's cookie is not decoded again, nor its token
# hashed: the full check on every event was about half of the server's time per vote in a large meeting.
_socket_sessions: dict[str, tuple[int, int]] = {}  # sid -> (user id, session id), from the connect check


@socket_users.register("accounts")
def socket_user(sid: str) -> User | None:
    """The signed-in user behind a Socket.IO event, or None when the session has ended."""
    known = _socket_sessions.get(sid)
    if known is None:  # not checked at connect (a test client's own path): the full check
        user = current_user._get_current_object() if current_user.is_authenticated else None
        if user is not None and (row := current_session()) is not None:
            _socket_sessions[sid] = (user.id, row.id)
        return user
    row = service.live_session(known[1], known[0])
    if row is not None:
        lifetime = timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"])
        alive = service.touch_session(row, lifetime)
        if db.session.is_modified(row):
            uow.commit()  # the touch (or the idle session's end) is a boundary of its own, as for a request
        row = row if alive else None
    if row is None:
        _socket_sessions.pop(sid, None)
        return None
    g.user_session = row
    g._login_user = row.user  # what Flask-Login's current_user (and so current_actor) answers
    return row.user


def socket_checked(sid: str, user_id: int, session_id: int) -> None:
    """The connect handler has just checked this socket's session in full."""
    _socket_sessions[sid] = (user_id, session_id)


def forget_socket(sid: str) -> None:
    _socket_sessions.pop(sid, None)
