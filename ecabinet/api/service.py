"""API clients and their tokens, the use of a token, idempotency keys and the per-client rate limit."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, select

from ecabinet.api.models import SCOPES, ApiClient, ApiIdempotencyKey, ApiToken
from ecabinet.audit import service as audit
from ecabinet.core.actor import Actor
from ecabinet.core.errors import DomainError
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.organisations import service as organisations

TOKEN_PREFIX = "ecab_"  # noqa: S105 - marks a token, is none
# Reads are written to the audit log at most once per token and window, with their count.
READ_AUDIT_WINDOW = timedelta(minutes=15)
IDEMPOTENCY_KEEP = timedelta(hours=24)


class ApiError(DomainError):
    pass


@dataclass
class ClientData:
    name: str
    organisation_id: int | None
    scopes: list[str] = field(default_factory=list)
    reader_id: int | None = None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_client(client_id: int | None) -> ApiClient | None:
    return db.session.get(ApiClient, client_id) if client_id else None


def list_clients() -> list[ApiClient]:
    return list(db.session.scalars(select(ApiClient).order_by(ApiClient.revoked_at.is_not(None), ApiClient.name)))


def register_client(actor: Actor, data: ClientData) -> tuple[ApiClient, str]:
    """A new client and its first token, shown once (only its hash is stored)."""
    name = (data.name or "").strip()
    if not name or len(name) > 200:
        raise ApiError("Give the client a name of at most 200 characters.")
    organisation = organisations.usable(data.organisation_id)
    if organisation is None:
        raise ApiError("Choose the organisation the client acts for.")
    unknown = set(data.scopes) - set(SCOPES)
    if unknown or not data.scopes:
        raise ApiError("Choose at least one scope from the list.")
    if data.reader_id is not None:
        from ecabinet.accounts.models import User

        reader = db.session.get(User, data.reader_id)
        if reader is None or not reader.is_active or reader.organisation_id != organisation.id:
            raise ApiError("The reader must be an active account of the client's organisation.")
    client = ApiClient(name=name, organisation_id=organisation.id, reader_id=data.reader_id,
                       scopes=" ".join(s for s in SCOPES if s in data.scopes), created_by_id=actor.user_id)
    db.session.add(client)
    db.session.flush()
    audit.record(actor, "api.client_registered", object_type="api_client", object_id=client.id,
                 details={"name": name, "organisation": organisation.name, "scopes": client.scopes})
    return client, _issue(actor, client)


def _issue(actor: Actor, client: ApiClient) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 bits: a plain SHA-256 is enough to store it
    row = ApiToken(client_id=client.id, token_hash=token_hash(token), prefix=token[:12])
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "api.token_issued", object_type="api_client", object_id=client.id,
                 details={"token": row.prefix})
    return token


def rotate_token(actor: Actor, client: ApiClient) -> str:
    """A new token; the client's earlier ones stop working at once."""
    if not client.active:
        raise ApiError("This client has been revoked.")
    now = utcnow()
    for token in client.tokens:
        if token.revoked_at is None:
            token.revoked_at = now
    return _issue(actor, client)


def revoke_client(actor: Actor, client: ApiClient) -> None:
    if not client.active:
        raise ApiError("This client has been revoked.")
    now = utcnow()
    client.revoked_at = now
    for token in client.tokens:
        if token.revoked_at is None:
            token.revoked_at = now
    audit.record(actor, "api.client_revoked", object_type="api_client", object_id=client.id,
                 details={"name": client.name})


def authenticate(token: str) -> ApiToken | None:
    """The live token behind a bearer value, or None (unknown, revoked, or its client revoked)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None or not row.client.active:
        return None
    return row


def client_actor(client: ApiClient, ip: str | None) -> Actor:
    """Who acts in the audit log: the client, by name (it is no person)."""
    return Actor(user=None, ip=ip, label=f"api:{client.id}:{client.name}"[:120])


def record_use(actor: Actor, token: ApiToken, *, write: bool) -> None:
    """Every use is counted. Writes audit themselves (their service's entry); reads are audited in
    aggregate: one ``api.reads`` entry per token and window, with the number of reads it covers."""
    now = utcnow()
    token.last_used_at = now
    if write:
        return
    token.reads_pending = (token.reads_pending or 0) + 1
    if token.reads_audited_at is None or now - token.reads_audited_at >= READ_AUDIT_WINDOW:
        audit.record(actor, "api.reads", object_type="api_client", object_id=token.client_id,
                     details={"token": token.prefix, "reads": token.reads_pending,
                              "since": token.reads_audited_at.isoformat() if token.reads_audited_at else None})
        token.reads_pending = 0
        token.reads_audited_at = now


# --- idempotency keys ------------------------------------------------------------------------------

def body_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def stored_answer(client: ApiClient, key: str) -> ApiIdempotencyKey | None:
    return db.session.scalar(select(ApiIdempotencyKey).where(ApiIdempotencyKey.client_id == client.id,
                                                             ApiIdempotencyKey.key == key))


def store_answer(client: ApiClient, key: str, method: str, path: str, request_hash: str, status: int,
                 content_type: str, body: str) -> None:
    # A key is kept for IDEMPOTENCY_KEEP: long enough for any retry; the client's older keys go as it posts.
    db.session.execute(delete(ApiIdempotencyKey).where(ApiIdempotencyKey.client_id == client.id,
                                                       ApiIdempotencyKey.created_at < utcnow() - IDEMPOTENCY_KEEP))
    db.session.add(ApiIdempotencyKey(client_id=client.id, key=key, method=method, path=path,
                                     request_hash=request_hash, status=status, content_type=content_type,
                                     body=body))
    db.session.flush()


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- rate limits -----------------------------------------------------------------------------------

class TokenBuckets:
    """A token bucket per client, in this process: ``rate`` requests a second, bursts of ``capacity``.
    Without Redis, each instance allows the rate (``RedisTokenBuckets`` shares one budget)."""

    def __init__(self) -> None:
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client_id: int, rate: float, capacity: int, now: float | None = None) -> float | None:
        """None when a token was taken, else the seconds to wait for one."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, at = self._buckets.get(client_id, (float(capacity), now))
            tokens = min(float(capacity), tokens + (now - at) * rate)
            if tokens >= 1:
                self._buckets[client_id] = (tokens - 1, now)
                return None
            self._buckets[client_id] = (tokens, now)
            return (1 - tokens) / rate


# The bucket's refill and take in one step on the Redis server, so that instances sharing it never both
# take the last token. The server's clock is the one clock; the state is kept as text (Lua's numbers would
# round a time in microseconds) and expires once the bucket would be full again (the same as a fresh one).
_TAKE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return string.format('%.6f', wait)
"""
REDIS_FAILURE_LOG_EVERY = 60.0  # seconds between two warnings while Redis cannot be reached


class RedisTokenBuckets:
    """The same buckets kept in Redis, so that every instance of the app draws on one budget per client.

    If Redis cannot be reached, a request is counted in this process's buckets instead (a warning is
    logged at most once a minute): the API stays up, limited per instance as without Redis."""

    def __init__(self, url: str, prefix: str = "ecabinet:api:rate:") -> None:
        import redis

        self.prefix = prefix
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self._take = self._redis.register_script(_TAKE)
        self._local = TokenBuckets()
        self._warned_at = -REDIS_FAILURE_LOG_EVERY

    def take(self, client_id: int, rate: float, capacity: int) -> float | None:
        """None when a token was taken, else the seconds to wait for one."""
        import redis

        try:
            wait = float(self._take(keys=[f"{self.prefix}{client_id}"], args=[repr(float(rate)), int(capacity)]))
        except redis.RedisError as exc:
            self._warn(exc)
            return self._local.take(client_id, rate, capacity)
        return wait if wait > 0 else None

    def _warn(self, exc: Exception) -> None:
        import logging

        now = time.monotonic()
        if now - self._warned_at >= REDIS_FAILURE_LOG_EVERY:
            self._warned_at = now
            logging.getLogger(__name__).warning("API rate limits: Redis unavailable (%s); counting per instance",
                                                type(exc).__name__)
