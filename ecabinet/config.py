"""Configuration, read from the environment.

Every setting is documented in the README's configuration table; keep the two in step.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("ECABINET_INSTANCE_DIR", PROJECT_DIR / "instance"))


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]


def _secret_key() -> str:
    """Use SECRET_KEY; otherwise keep a generated key in instance/ so sessions survive restarts."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _kept_secret(name: str) -> str:
    """A secret generated once and kept in instance/ (the app and the Janus configuration it writes share it)."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def from_environment() -> dict[str, Any]:
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'ecabinet.sqlite3'}"
    redis_url = os.environ.get("REDIS_URL") or None
    return {
        "SECRET_KEY": _secret_key(),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # PostgreSQL connections per instance; a request waits at most 10 s for one, then is told the
        # database is busy. No overflow by default: under a burst (a whole room voting at once) extra
        # connections are opened and closed again for nearly every event, which cost more than the
        # wait for a kept one (measured: 2,000 votes took 7.2 s of the worker's CPU with 10 + 20
        # overflow, 5.3 s with 20 + 0, bench/bench_tally.py on PostgreSQL).
        "DATABASE_POOL_SIZE": int(os.environ.get("DATABASE_POOL_SIZE", "20")),
        "DATABASE_MAX_OVERFLOW": int(os.environ.get("DATABASE_MAX_OVERFLOW", "0")),
        # Sockets connecting or joining a meeting at once, per instance (0: three quarters of the pool),
        # and how long one waits for its turn before it is told to try again (ecabinet/core/admission.py).
        "LIVE_ADMISSION_SLOTS": int(os.environ.get("LIVE_ADMISSION_SLOTS", "0")),
        "LIVE_ADMISSION_WAIT": float(os.environ.get("LIVE_ADMISSION_WAIT", "30")),
        "REDIS_URL": redis_url,
        # The Redis pub/sub channel of the Socket.IO message queue. Pub/sub ignores the database number,
        # so two deployments (or test runs) on one Redis server need different channels.
        "SOCKETIO_CHANNEL": os.environ.get("SOCKETIO_CHANNEL", "ecabinet-socketio"),
        "STORAGE_DIR": os.environ.get("STORAGE_DIR", str(INSTANCE_DIR / "storage")),
        # Origins allowed to open a Socket.IO connection besides the app's own.
        "SOCKETIO_ALLOWED_ORIGINS": _list("SOCKETIO_ALLOWED_ORIGINS"),
        # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", True),
        "SESSION_LIFETIME_HOURS": int(os.environ.get("SESSION_LIFETIME_HOURS", "12")),
        # Offline packs (docs/offline.md): hours a tablet may read a pack without contact with the server,
        # and hours after the meeting's end that a pack still opens.
        "OFFLINE_MAX_HOURS": int(os.environ.get("OFFLINE_MAX_HOURS", "72")),
        "OFFLINE_MEETING_MARGIN_HOURS": int(os.environ.get("OFFLINE_MEETING_MARGIN_HOURS", "24")),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "DEFAULT_TIMEZONE": os.environ.get("DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh"),
        "DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE", "vi"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "100")) * 1024 * 1024,
        "SMTP_URL": os.environ.get("SMTP_URL") or None,
        "SMTP_FROM": os.environ.get("SMTP_FROM", "e-cabinet@localhost"),
        "HUEY_IMMEDIATE": _bool("HUEY_IMMEDIATE", False),
        # The key and certificate that sign final minutes (PAdES). `flask ecabinet make-signing-cert`
        # writes a self-signed development pair to these default paths.
        "SIGNING_KEY": os.environ.get("SIGNING_KEY", str(INSTANCE_DIR / "signing" / "key.pem")),
        "SIGNING_CERT": os.environ.get("SIGNING_CERT", str(INSTANCE_DIR / "signing" / "cert.pem")),
        "SIGNING_KEY_PASSWORD": os.environ.get("SIGNING_KEY_PASSWORD") or None,
        "MINUTES_FINALISE_INLINE": _bool("MINUTES_FINALISE_INLINE", False),
        # "json": one JSON object per log line with the request and socket ids (ecabinet/core/logs.py).
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        # One line per HTTP request answered (method, path, status, time, user): on with JSON logs.
        "LOG_ACCESS": _bool("LOG_ACCESS", os.environ.get("LOG_FORMAT") == "json"),
        # A reconnecting client further behind than this many events gets a snapshot instead.
        "LIVE_MAX_REPLAY": int(os.environ.get("LIVE_MAX_REPLAY", "200")),
        # The REST API (docs/api.md) and the open data pages (docs/publication.md).
        "API_RATE_PER_SECOND": float(os.environ.get("API_RATE_PER_SECOND", "5")),
        "API_RATE_BURST": int(os.environ.get("API_RATE_BURST", "60")),
        "WEBHOOK_TIMEOUT": float(os.environ.get("WEBHOOK_TIMEOUT", "10")),
        "PUBLIC_BODY_NAME": os.environ.get("PUBLIC_BODY_NAME") or None,
        "PUBLIC_BODY_SHORT_NAME": os.environ.get("PUBLIC_BODY_SHORT_NAME") or None,
        # Remote attendance by audio and video (docs/media.md): Janus's HTTP API and admin API, on loopback.
        # No JANUS_URL: the meeting screens have no media panel.
        "JANUS_URL": os.environ.get("JANUS_URL") or None,
        "JANUS_ADMIN_URL": os.environ.get("JANUS_ADMIN_URL", "http://127.0.0.1:7088/admin"),
        "JANUS_ADMIN_SECRET": os.environ.get("JANUS_ADMIN_SECRET") or _kept_secret("janus_admin_secret"),
        "MEDIA_TOKEN_SECONDS": int(os.environ.get("MEDIA_TOKEN_SECONDS", "120")),
        "MEDIA_STUN_SERVER": os.environ.get("MEDIA_STUN_SERVER", ""),
        "MEDIA_TURN_SERVER": os.environ.get("MEDIA_TURN_SERVER", ""),
        "MEDIA_NAT_1_1": os.environ.get("MEDIA_NAT_1_1", ""),
    }
