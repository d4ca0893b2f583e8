"""Rate limits of Socket.IO events: a token bucket per socket and per user, per class of event.

``@guarded_event(name, rule, rate=...)`` declares each event's class; the guard asks ``take`` before it
loads the session, validates the payload or asks the rule, so an event over its limit costs no database
access. The answer is ``{"ok": false, "error": "rate_limited", "retry_after": seconds}``.

Why both keys: a socket's bucket holds one tablet to its pace; the user's bucket (twice as large: a member
may hold a tablet and a laptop) stops a member from opening many sockets to multiply their allowance.

The limits are far above what a person at a tablet does, so that a real meeting never meets them; they
exist to keep one misbehaving or hostile client from filling the database, the audit log and the
other tablets' event streams (a flood of 10,000 comments was stored at ~110/s before them).

The buckets live in this process's memory, per app. A socket lives on one instance, so its bucket is
naturally local; a user's sockets spread over several instances each get that instance's user bucket,
which is acceptable: the allowance grows with the instances, not with the sockets. Memory stays bounded:
a socket's bucket is dropped when it disconnects, and any bucket that has refilled completely (which is
the same as a fresh one) is swept away.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app


@dataclass(frozen=True)
class Rate:
    """``count`` events per ``seconds`` sustained, ``burst`` at once."""

    count: int
    seconds: float
    burst: int

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


# A person posts a comment or asks for the floor every few seconds at the very most; a tablet retries
# its unacknowledged votes after a reconnection (a handful of ballots); the chair taps through the
# agenda and the queue quickly, and the chair's tablet is the one that must never be held back; a
# tablet joins after each reconnection and pages older comments 50 at a time.
RATES: dict[str, Rate] = {
    "chatty": Rate(count=5, seconds=10, burst=10),  # comment.post, floor.*, attendance.check_in
    "vote": Rate(count=10, seconds=10, burst=20),  # vote.cast
    "chair": Rate(count=20, seconds=10, burst=40),  # chair.*
    "read": Rate(count=10, seconds=10, burst=20),  # join, leave, vote.list, comments.page
}
USER_FACTOR = 2  # a user's bucket holds this many sockets' worth
# A socket refused this many times in a row, without one event accepted in between, is closed: its
# client ignores ``retry_after``, and answering it costs the instance time the other tablets wait for
# (a flood answered event by event still raised the room's p99 eightfold, bench/bench_flood.py). A real
# tablet waits out the answer, and a person cannot tap this fast.
DISCONNECT_AFTER_REFUSALS = 50
SWEEP_EVERY = 1_000  # takes between two sweeps of full buckets


class Bucket:
    __slots__ = ("tokens", "at")

    def __init__(self, tokens: float, at: float) -> None:
        self.tokens = tokens
        self.at = at


class SocketLimiter:
    """The buckets of one app in this process."""

    def __init__(self, rates: dict[str, Rate]) -> None:
        self.rates = rates
        self._sockets: dict[str, dict[str, Bucket]] = {}  # sid -> class -> bucket
        self._user_buckets: dict[int, dict[str, Bucket]] = {}  # user id -> class -> bucket
        self._users: dict[str, int] = {}  # sid -> user id, bound at the handshake
        self._lock = threading.Lock()  # the threading mode (tests) runs handlers in threads
        self._takes = 0
        self._refusals: dict[str, int] = {}  # sid -> refusals in a row

    def bind(self, sid: str, user_id: int) -> None:
        """The socket belongs to this user (known from the handshake, so that later events need no lookup)."""
        with self._lock:
            self._users[sid] = user_id

    def user_of(self, sid: str) -> int | None:
        return self._users.get(sid)

    def forget(self, sid: str) -> None:
        """The socket has closed: its buckets go (the user's stay until they refill)."""
        with self._lock:
            self._users.pop(sid, None)
            self._sockets.pop(sid, None)
            self._refusals.pop(sid, None)

    def refused_in_a_row(self, sid: str) -> int:
        """How many events of this socket were refused since the last one accepted."""
        return self._refusals.get(sid, 0)

    def take(self, sid: str, rate_class: str, user_id: int | None = None, now: float | None = None) -> float | None:
        """Spend one token of the socket's (and the user's) bucket; None, or the seconds until one is back.

        Nothing is spent when either bucket is empty, so a refused event does not delay the next one."""
        rate = self.rates[rate_class]
        now = time.monotonic() if now is None else now
        with self._lock:
            user_id = self._users.get(sid) if user_id is None else user_id
            self._takes += 1
            if self._takes % SWEEP_EVERY == 0:
                self._sweep(now)
            buckets = [self._refilled(self._sockets.setdefault(sid, {}), rate_class, rate, rate.burst, now)]
            if user_id is not None:
                buckets.append(self._refilled(self._user_buckets.setdefault(user_id, {}), rate_class, rate,
                                              rate.burst * USER_FACTOR, now))
            wait = max((1 - b.tokens) / rate.per_second for b in buckets)
            if wait > 0:
                self._refusals[sid] = self._refusals.get(sid, 0) + 1
                return wait
            self._refusals.pop(sid, None)
            for bucket in buckets:
                bucket.tokens -= 1
            return None

    @staticmethod
    def _refilled(classes: dict[str, Bucket], rate_class: str, rate: Rate, capacity: int, now: float) -> Bucket:
        bucket = classes.get(rate_class)
        if bucket is None:
            bucket = classes[rate_class] = Bucket(capacity, now)
        else:
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.at) * rate.per_second)
            bucket.at = now
        return bucket

    def _sweep(self, now: float) -> None:
        """Drop the buckets that have refilled completely: a full bucket is the same as none."""
        for owners, factor in ((self._sockets, 1), (self._user_buckets, USER_FACTOR)):
            for owner, classes in list(owners.items()):
                for rate_class, bucket in list(classes.items()):
                    rate = self.rates[rate_class]
                    if bucket.tokens + (now - bucket.at) * rate.per_second >= rate.burst * factor:
                        del classes[rate_class]
                if not classes:
                    del owners[owner]

    def __len__(self) -> int:
        return sum(map(len, self._sockets.values())) + sum(map(len, self._user_buckets.values()))


def limiter(app: Any = None) -> SocketLimiter:
    """The app's limiter; ``SOCKET_RATE_LIMITS`` (class -> Rate) overrides single classes."""
    app = app or current_app._get_current_object()
    found = app.extensions.get("socket_rate_limiter")
    if found is None:
        found = app.extensions["socket_rate_limiter"] = SocketLimiter(
            {**RATES, **app.config.get("SOCKET_RATE_LIMITS", {})})
    return found


def refused(retry_after: float) -> dict[str, Any]:
    """The answer to an event over its limit: whole seconds, rounded up, so the client can wait them out."""
    return {"ok": False, "error": "rate_limited", "retry_after": max(1, math.ceil(retry_after))}
