"""Presence is ephemeral, so it is not numbered: changes are coalesced and sent at most once a second
per meeting (less often in a large one), with the full list of who is online (read from the database, so
every instance agrees).

Each instance sends the list to its own sockets only. An instance whose sockets changed a meeting's
presence tells the others which meetings changed (one small message a second through Redis, ``LiveBus``);
each then reads the list once and sends it to its own sockets of that meeting, if it has any. Sent
through the message queue instead, every instance with a change would send the whole list to every
socket of the room: when an instance dies and its tablets come back through both survivors, each tablet
got every list twice, at the moment the survivors have the least time to spare."""

from __future__ import annotations

import time

import redis
from flask import Flask
from redis.exceptions import RedisError

from ecabinet.core import background, uow
from ecabinet.core.errors import database_unavailable
from ecabinet.extensions import db, socketio

FLUSH_SECONDS = 1.0
# The list grows with the meeting and goes to every socket in it: O(N²) bytes per flush. While people
# keep arriving, a meeting is flushed at most every FLUSH_SECONDS or this much per person online,
# whichever is longer (2,000 online: every 8 s; profiled, the per-second list was 20 MB/s at 2,000).
# The last change always goes out, at most that much later.
SECONDS_PER_PERSON = 0.004
SWEEP_SECONDS = 30.0

_dirty: set[int] = set()  # meetings whose list this instance sends at its next allowed flush
_to_tell: set[int] = set()  # meetings whose presence this instance's sockets changed, for the others
_next_flush: dict[int, float] = {}  # meeting id -> time.monotonic() of its next allowed flush


def changed(meeting_id: int) -> None:
    """A socket of this instance entered or left the meeting (or the sweep forgot one)."""
    _dirty.add(meeting_id)
    _to_tell.add(meeting_id)


def changed_elsewhere(meeting_ids: list[int]) -> None:
    """Another instance's sockets changed these meetings' presence (``LiveBus``)."""
    _dirty.update(meeting_ids)


def _tell_others() -> None:
    told = list(_to_tell)
    _to_tell.difference_update(told)
    if told:
        tell = getattr(socketio.server.manager, "tell_presence", None)  # LiveBus; absent without Redis
        if tell is not None:
            tell(told)


def start(app: Flask) -> None:
    """Start the flusher once per app (a Socket.IO background task: a greenlet under gevent)."""
    if app.extensions.get("live_presence"):
        return
    app.extensions["live_presence"] = True
    background.start(app, _flush_forever)


def _local_sids() -> set[str]:
    """The sockets this process holds (connecting, connected or disconnecting)."""
    return set(socketio.server.manager.rooms.get("/", {}).get(None, {}))


def _held_here(room: str) -> bool:
    """Whether a socket of this process is in the room."""
    return bool(socketio.server.manager.rooms.get("/", {}).get(room))


def _heartbeats(app: Flask) -> redis.Redis | None:
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    client = app.extensions.get("live_heartbeats")
    if client is None:
        client = app.extensions["live_heartbeats"] = redis.Redis.from_url(
            url, socket_timeout=1, socket_connect_timeout=1)
    return client


def _heartbeat_key(app: Flask, instance: str) -> str:
    return f"{app.config.get('SOCKETIO_CHANNEL', 'ecabinet-socketio')}:instance:{instance}"


def beat(app: Flask) -> None:
    """Say that this instance is alive, for the others' sweeps (at every sweep: 3 may be missed)."""
    from ecabinet.live.service import HEARTBEAT_SECONDS, INSTANCE_ID

    client = _heartbeats(app)
    if client is not None:
        try:
            client.set(_heartbeat_key(app, INSTANCE_ID), "1", ex=HEARTBEAT_SECONDS)
        except RedisError:
            app.logger.warning("could not write this instance's heartbeat to Redis")


def alive_instances(app: Flask):  # noqa: ANN201 - fn(instances) -> the living ones, or None
    """For the sweep: which of these instances have beaten lately (None without Redis, or when it fails:
    then nobody judges another host's rows)."""
    def alive(instances: set[str]) -> set[str] | None:
        client = _heartbeats(app)
        if client is None:
            return None
        names = sorted(instances)
        try:
            found = client.mget([_heartbeat_key(app, i) for i in names])
        except RedisError:
            return None
        return {name for name, value in zip(names, found, strict=True) if value is not None}

    return alive


def _sweep(app: Flask) -> None:
    from ecabinet.live import service

    beat(app)
    with app.app_context():
        try:
            changed_meetings = service.sweep_connections(_local_sids, alive_instances(app))
            uow.commit()  # the sweep is a boundary of its own
            for meeting_id in changed_meetings:
                changed(meeting_id)
        except Exception:  # noqa: BLE001 - retried at the next sweep
            app.logger.warning("could not sweep stale live connections", exc_info=True)
        finally:
            db.session.remove()


def _flush_forever(app: Flask) -> None:
    from ecabinet.live import service

    next_sweep = 0.0
    while background.sleep(app, FLUSH_SECONDS):
        if time.monotonic() >= next_sweep:
            # At start (rows of a killed predecessor), then now and then (disconnects lost to an outage).
            next_sweep = time.monotonic() + SWEEP_SECONDS
            _sweep(app)
        _tell_others()
        now = time.monotonic()
        meetings = [m for m in list(_dirty) if _next_flush.get(m, 0.0) <= now]
        if not meetings:
            continue
        _dirty.difference_update(meetings)
        # Nobody here to tell: no read, nothing sent (the instances that hold its sockets send it).
        meetings = [m for m in meetings if _held_here(service.room(m))]
        if not meetings:
            continue
        with app.app_context():
            try:
                for meeting_id in meetings:
                    online = service.online_user_ids(meeting_id)
                    _next_flush[meeting_id] = now + max(FLUSH_SECONDS, len(online) * SECONDS_PER_PERSON) - 0.1
                    socketio.emit("presence", {"meeting_id": meeting_id, "online": online},
                                  to=service.room(meeting_id), ignore_queue=True)
            except Exception as exc:  # noqa: BLE001 - a database hiccup must not end the flusher
                if database_unavailable(exc):  # once a second while PostgreSQL is down: one line, not a traceback
                    app.logger.warning("presence not sent: the database is unavailable")
                else:
                    app.logger.exception("presence flush failed")
            finally:
                db.session.remove()
