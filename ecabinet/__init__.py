"""e-Cabinet: a paperless cabinet meeting system."""

from __future__ import annotations

import sys
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from ecabinet import config as config_module
from ecabinet.core import pool as _pool  # noqa: F401 - registers the pool's check of a rested connection
from ecabinet.extensions import csrf, db, limiter, migrate, socketio


def _async_mode() -> str:
    """gevent when the process was patched (gunicorn -k gevent, wsgi.py, the test server), else threading."""
    if "gevent" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return "gevent"
    return "threading"


def _engine_options(url: str, pool_size: int = 20, max_overflow: int = 0) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # One connection per process: greenlets queue for it in Python (cooperatively) instead of
        # blocking the whole event loop inside SQLite's C busy-wait.
        return {"pool_size": 1, "max_overflow": 0, "pool_timeout": 30,
                "connect_args": {"timeout": 15, "check_same_thread": False}}
    # Bounded waits when PostgreSQL is gone: connecting (5 s), a full pool (10 s), and data the server never
    # acknowledges (a vanished host: 10 s, instead of the kernel's retransmissions for many minutes).
    # A connection is checked before use only once it has rested in the pool (ecabinet/core/pool.py).
    return {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": 10,
            "connect_args": {"connect_timeout": 5, "tcp_user_timeout": 10_000}}


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    root = config_module.PROJECT_DIR
    app = Flask(__name__, instance_path=str(config_module.INSTANCE_DIR),
                template_folder=str(root / "templates"), static_folder=str(root / "static"))
    app.config.update(config_module.from_environment())
    if config:
        app.config.update(config)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(
        url, app.config.get("DATABASE_POOL_SIZE", 20), app.config.get("DATABASE_MAX_OVERFLOW", 0)))
    from ecabinet.core.session_cookie import SessionCookie

    app.session_interface = SessionCookie()  # background files never put back an older cookie
    app.config.update(
        SESSION_COOKIE_NAME="ecabinet_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=app.config["SESSION_LIFETIME_HOURS"] * 3600,
        WTF_CSRF_TIME_LIMIT=app.config["SESSION_LIFETIME_HOURS"] * 3600,
        RATELIMIT_STORAGE_URI=app.config["REDIS_URL"] or "memory://",
        # Without Redis, sign-in still works and is limited per instance, in memory.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_HEADERS_ENABLED=True,
        BABEL_DEFAULT_LOCALE=app.config["DEFAULT_LOCALE"],
        BABEL_DEFAULT_TIMEZONE=app.config["DEFAULT_TIMEZONE"],
    )
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(root / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)

    from ecabinet.accounts.auth import init_login
    from ecabinet.core.i18n import init_i18n
    from ecabinet.core.schemas import PayloadJSON, init_payloads
    from ecabinet.core.security import init_security

    init_login(app)
    init_i18n(app)
    init_security(app)
    init_payloads(app)  # before the blueprints: their <int:...> rules take its bounded converter

    _import_event_handlers()
    from ecabinet.live.transport import TextFirstPacket
    from ecabinet.live.transport import install as install_shared_frames

    allowed = app.config["SOCKETIO_ALLOWED_ORIGINS"]
    socketio.init_app(
        app,
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE") or _async_mode(),
        message_queue=app.config["REDIS_URL"],
        client_manager=_live_bus(app),
        # None: same origin only. The WSGI guard below refuses foreign Origins first (and audits them).
        cors_allowed_origins=allowed or None,
        ping_interval=20,
        ping_timeout=20,
        max_http_buffer_size=64 * 1024,
        json=PayloadJSON,  # an odd packet (too deep, a number too long) still reaches its handler's guard
        serializer=TextFirstPacket,  # no search of every payload for bytes
    )
    install_shared_frames(socketio.server)  # a broadcast's frame built once, and no timer per socket

    _register_domains(app)
    from ecabinet.operations.metrics import init_metrics

    init_metrics(app)  # /metrics for the operator, and the timing of every request
    from ecabinet.core.logs import init_logging

    init_logging(app)  # request ids on every answer, and JSON logs when asked for

    from ecabinet.core.bodies import CooperativeBodies
    from ecabinet.live.guard import NoWebSocketCompression, OriginGuard

    app.wsgi_app = CooperativeBodies(app.wsgi_app)  # a large upload lets the instance's sockets run
    app.wsgi_app = OriginGuard(app, app.wsgi_app)
    app.wsgi_app = NoWebSocketCompression(app.wsgi_app)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    return app


def _live_bus(app: Flask):  # noqa: ANN202 - a socketio client manager, or None for the in-process one
    """Redis pub/sub between instances, made to ride out a Redis outage (see ecabinet/live/bus.py)."""
    if not app.config["REDIS_URL"]:
        return None
    from ecabinet.live.bus import LiveBus

    return LiveBus(app.config["REDIS_URL"], channel=app.config.get("SOCKETIO_CHANNEL", "ecabinet-socketio"))


def _import_event_handlers() -> None:
    """Socket.IO handlers must be declared before ``socketio.init_app``: Flask-SocketIO then keeps them
    and registers them on every server it creates (one per app), not only on the first."""
    from ecabinet.display import events as _display_events  # noqa: F401
    from ecabinet.live import events as _live_events  # noqa: F401
    from ecabinet.voting import events as _voting_events  # noqa: F401


def _register_domains(app: Flask) -> None:
    # Importing a domain's models registers its tables; its events module registers its handlers.
    from ecabinet.accounts import models as _accounts_models  # noqa: F401
    from ecabinet.accounts.views import bp as accounts_bp
    from ecabinet.api import models as _api_models  # noqa: F401
    from ecabinet.api.views import admin_bp as api_admin_bp
    from ecabinet.api.views import bp as api_bp
    from ecabinet.audit import models as _audit_models  # noqa: F401
    from ecabinet.audit.views import bp as audit_bp
    from ecabinet.cli import cli
    from ecabinet.core.views import bp as core_bp
    from ecabinet.core.views import register_error_pages, register_input_guards
    from ecabinet.demo import demo_command
    from ecabinet.display import models as _display_models  # noqa: F401
    from ecabinet.display.views import bp as display_bp
    from ecabinet.documents import home as _documents_home  # noqa: F401 - its part of the home page
    from ecabinet.documents import models as _documents_models  # noqa: F401
    from ecabinet.documents import record as _documents_record  # noqa: F401 - its part of the minutes
    from ecabinet.documents import search as _documents_search  # noqa: F401
    from ecabinet.documents.views import bp as documents_bp
    from ecabinet.home.views import bp as home_bp
    from ecabinet.live import models as _live_models  # noqa: F401
    from ecabinet.live.views import bp as live_bp
    from ecabinet.media import models as _media_models  # noqa: F401
    from ecabinet.media.views import bp as media_bp
    from ecabinet.meetings import models as _meetings_models  # noqa: F401
    from ecabinet.meetings.views import bp as meetings_bp
    from ecabinet.minutes import models as _minutes_models  # noqa: F401
    from ecabinet.minutes.views import bp as minutes_bp
    from ecabinet.notifications import models as _notifications_models  # noqa: F401
    from ecabinet.notifications.views import bp as notifications_bp
    from ecabinet.offline import models as _offline_models  # noqa: F401
    from ecabinet.offline.views import bp as offline_bp
    from ecabinet.organisations import models as _organisations_models  # noqa: F401
    from ecabinet.organisations.views import bp as organisations_bp
    from ecabinet.publication import models as _publication_models  # noqa: F401
    from ecabinet.publication.views import bp as publication_bp
    from ecabinet.submissions import models as _submissions_models  # noqa: F401
    from ecabinet.submissions.service import outcome as _submissions_outcome  # noqa: F401 - its outcome notices
    from ecabinet.submissions.views import bp as submissions_bp
    from ecabinet.voting import home as _voting_home  # noqa: F401 - its part of the home page
    from ecabinet.voting import models as _voting_models  # noqa: F401
    from ecabinet.voting import record as _voting_record  # noqa: F401 - its part of the minutes
    from ecabinet.voting.views import bp as voting_bp

    for bp in (core_bp, accounts_bp, audit_bp, meetings_bp, live_bp, minutes_bp, documents_bp, voting_bp,
               notifications_bp, organisations_bp, display_bp, home_bp, submissions_bp, api_bp, api_admin_bp,
               publication_bp, offline_bp, media_bp):
        app.register_blueprint(bp)
    register_input_guards(app)
    register_error_pages(app)
    cli.add_command(demo_command)
    app.cli.add_command(cli)
