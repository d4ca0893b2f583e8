"""Binding sign-in sessions to Flask-Login: the cookie holds a random token, the database decides."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, session
from flask_login import login_user, logout_user

from ecabinet.accounts import service
from ecabinet.accounts.models import User, UserSession
from ecabinet.core.actor import Actor
from ecabinet.extensions import login_manager

TOKEN_KEY = "auth_token"  # noqa: S105 - the session key's name, not a secret


def init_login(app) -> None:  # noqa: ANN001
    login_manager.init_app(app)
    # "strong": a session cookie replayed from another IP or browser is dropped.
    login_manager.session_protection = "strong"
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    row = current_session()
    if row is None or str(row.user_id) != user_id:
        return None
    lifetime = timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"])
    if not service.touch_session(row, lifetime):
        return None
    return row.user


def current_session() -> UserSession | None:
    """The UserSession row behind this request's cookie (cached for the request)."""
    if "user_session" not in g:
        g.user_session = service.session_for_token(session.get(TOKEN_KEY))
    return g.user_session


def sign_in(actor: Actor, user: User, user_agent: str | None) -> None:
    session.clear()  # a fresh session on sign-in: no fixation
    token = service.start_session(actor, user, user_agent)
    session[TOKEN_KEY] = token
    session.permanent = True
    login_user(user)


def sign_out(actor: Actor) -> None:
    service.end_session(actor, session.get(TOKEN_KEY))
    logout_user()
    session.clear()
