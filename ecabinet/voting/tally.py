"""The live participation tally: coalesced, not numbered (docs/realtime.md, "Ballot tally").

A vote is recorded in the audit log but is not a numbered meeting event: with 2,000 voters that would
be 2,000 broadcasts to 2,000 tablets. Instead each instance sends at most one ``ballot.tally`` per
open ballot per ``INTERVAL``, with absolute counts read from the database after the commit, so a lost
or late message is repaired by the next one. The first vote after a quiet period goes out at once.
``version`` (votes cast plus changes) only grows, so a client keeps the highest it has seen, and two
instances sending out of order do no harm. Opening and closing stay numbered events with the counts.

Several instances (behind the proxy, with Redis): votes of one ballot arrive at all of them, and each
would send its own tally every ``INTERVAL``. The window is claimed in Redis (``SET NX PX``) instead:
the instance that claims it sends the tally, with counts read after the claim; one that finds the
window taken keeps its ballot pending and tries again when the window ends, so a vote it committed
after the other's read is counted by the next tally. One tally per ballot per window, whichever
instances the votes came through. Without Redis (or while it is down) each instance sends its own.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import redis
from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy import func, select

from ecabinet.core import background
from ecabinet.core.errors import database_unavailable
from ecabinet.extensions import db, socketio

# Seconds between two tallies of one ballot from one instance: short enough to feel live, long enough
# that a room voting at once gets a handful of broadcasts instead of one per vote.
INTERVAL = float(os.environ.get("BALLOT_TALLY_SECONDS", "0.15"))

# After a failed read (the database restarting), the pending tallies are tried again after this long,
# doubled at each further failure up to the maximum.
RETRY_SECONDS = 0.25
MAX_RETRY_SECONDS = 4.0
REDIS_RETRY_SECONDS = 5.0  # after Redis failed to answer a claim, each instance sends its own this long
IDLE_SECONDS = 60.0  # a sender with nothing to send for this long ends; the next vote starts another
_KEY = "ecabinet.voting.tally"


class _Sender:
    """Per app: the ballots to send, and the event that wakes the sender. Made in the serving process,
    at the first vote, so that the event is gevent's when gevent has patched threading."""

    def __init__(self) -> None:
        self.dirty: dict[int, int] = {}  # ballot id -> meeting id
        self.wake = threading.Event()
        self.running = False
        self.failures = 0  # failed sends in a row, for the backoff


def changed(ballot_id: int, meeting_id: int) -> None:
    """A vote of this ballot was committed: schedule a tally (called after the commit)."""
    app = current_app._get_current_object()
    sender = app.extensions.setdefault(_KEY, _Sender())
    sender.dirty[ballot_id] = meeting_id
    if not sender.running and background.running(app):
        sender.running = True
        background.start(app, _send_forever, sender, wake=sender.wake)
    sender.wake.set()


def _redis(app: Flask) -> redis.Redis | None:
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    client = app.extensions.get(_KEY + ".redis")
    if client is None:
        client = app.extensions[_KEY + ".redis"] = redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return client


def claim(app: Flask, ballot_id: int) -> float:
    """0 when this instance sends this window's tally of the ballot; otherwise the seconds until the
    window another instance claimed ends."""
    client = _redis(app)
    if client is None or time.monotonic() < app.extensions.get(_KEY + ".down_until", 0.0):
        return 0.0
    key = f"{app.config.get('SOCKETIO_CHANNEL', 'ecabinet-socketio')}:tally:{ballot_id}"
    try:
        if client.set(key, os.getpid(), nx=True, px=max(1, round(INTERVAL * 1000))):
            return 0.0
        left = client.pttl(key)
    except RedisError:
        # Redis is down: every instance sends its own, as on one instance, and nothing is lost; it is
        # asked again in a few seconds rather than waited for at every window.
        app.extensions[_KEY + ".down_until"] = time.monotonic() + REDIS_RETRY_SECONDS
        return 0.0
    return max(left, 1) / 1000 if left and left > 0 else 0.001


def _send_forever(app: Flask, sender: _Sender) -> None:
    """A Socket.IO background task (a greenlet under gevent)."""
    while background.running(app):
        if not sender.wake.wait(IDLE_SECONDS) and not sender.dirty:
            sender.running = False
            if not sender.dirty:
                return
            sender.running = True
        sender.wake.clear()
        if not background.running(app):
            break
        pending = {}
        while sender.dirty:
            ballot_id, meeting_id = sender.dirty.popitem()
            pending[ballot_id] = meeting_id
        started, emitting = time.monotonic(), 0.0
        claimed_elsewhere: dict[int, int] = {}
        sent_any, claim_ends = False, INTERVAL
        with app.app_context():
            try:
                for ballot_id, meeting_id in list(pending.items()):
                    left = claim(app, ballot_id)
                    if left:
                        claimed_elsewhere[ballot_id] = meeting_id
                        claim_ends = min(claim_ends, left)
                    else:
                        emitting += send(ballot_id, meeting_id)
                        sent_any = True
                    del pending[ballot_id]
                sender.failures = 0
            except Exception as exc:  # noqa: BLE001 - a database hiccup must not end the sender
                _keep_pending(app, sender, pending, exc)
            finally:
                db.session.remove()
        if claimed_elsewhere:
            # Another instance sends this window's tally: ours waits for the next window (after the pause
            # below), in case a vote committed here came after that instance read the counts.
            for ballot_id, meeting_id in claimed_elsewhere.items():
                sender.dirty.setdefault(ballot_id, meeting_id)
            sender.wake.set()
            if not sent_any and not pending:
                # Only the window's end is waited for, not a whole interval: the claim may be this
                # instance's own from the last window, ending in a few milliseconds (waiting a full
                # interval then gave 300 ms gaps between tallies on PostgreSQL + Redis).
                background.sleep(app, claim_ends)
                continue
        if pending:
            # Not sent: wait a little (longer while it keeps failing), then read them again, without
            # waiting for another vote. A tally read after the database is back carries every vote.
            background.sleep(app, min(RETRY_SECONDS * 2 ** (sender.failures - 1), MAX_RETRY_SECONDS))
            continue
        # Coalesce: whatever arrives from now on waits for the rest of the interval, and at least as
        # long as the emits took (one emit to 2,000 sockets costs ~50 ms of the worker's CPU), so that
        # the tallies never take more than half of the worker's time from the votes themselves. Only
        # the emits count: waiting for a database connection behind the votes is not the worker's time,
        # and counting it stretched the pause to 300 ms while the votes queued for SQLite's connection.
        spent = time.monotonic() - started
        background.sleep(app, max(INTERVAL - spent, emitting))


def _keep_pending(app: Flask, sender: _Sender, pending: dict[int, int], exc: Exception) -> None:
    """The ballots whose tally was not sent stay pending (a vote committed meanwhile is pending anyway)."""
    for ballot_id, meeting_id in pending.items():
        sender.dirty.setdefault(ballot_id, meeting_id)
    sender.wake.set()
    sender.failures += 1
    if database_unavailable(exc):  # while PostgreSQL restarts: one line per attempt, not a traceback
        app.logger.warning("ballot tally not sent (the database is unavailable); retrying")
    else:
        app.logger.exception("ballot tally failed; retrying")


def version(ballot: Any) -> int:
    """Votes cast plus changes: grows with every cast or change, never falls."""
    from ecabinet.voting.models import BallotParticipation

    changes = db.session.scalar(select(func.coalesce(func.sum(BallotParticipation.changes), 0))
                                .where(BallotParticipation.ballot_id == ballot.id)) or 0
    return ballot.votes_cast + changes


def tally(ballot: Any) -> dict[str, Any]:
    """Absolute counts of an open ballot, as the ``ballot.tally`` message carries them."""
    from ecabinet.voting.service import running_counts

    return {"meeting_id": ballot.meeting_id, "ballot_id": ballot.id, "status": ballot.status.value,
            "voted": ballot.votes_cast, "eligible": ballot.eligible_count, "version": version(ballot),
            "running": running_counts(ballot)}


def send(ballot_id: int, meeting_id: int) -> float:
    """Send the tally of one open ballot to its meeting's room; return the seconds the emit took."""
    from ecabinet.live.service import blocked_sids, room
    from ecabinet.meetings.service import get_meeting
    from ecabinet.voting.models import Ballot, BallotStatus

    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or ballot.status is not BallotStatus.OPEN:
        return 0.0  # the close event carries the final counts
    # Readers kept from the ballot's item get nothing: a tally may carry the running counts of its vote.
    blocked = blocked_sids(get_meeting(meeting_id), ballot.item_id)
    message = tally(ballot)
    db.session.rollback()  # the counts are read: give the connection back before the long part
    started = time.monotonic()
    # sent_at (the server's clock, seconds): lets a load test tell transport time from coalescing delay.
    socketio.emit("ballot.tally", {**message, "sent_at": round(time.time(), 4)}, to=room(meeting_id),
                  skip_sid=blocked or None)
    return time.monotonic() - started
