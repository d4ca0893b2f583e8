"""The Socket.IO message queue between instances (Redis pub/sub), made to ride out a Redis outage.

python-socketio's RedisManager already delivers an emit to this instance's own clients before it
publishes it, so while Redis is down every instance keeps serving its own tablets; only the copies for
the other instances are lost (clients notice the gap in the numbered events and ask for it on the next
event or reconnection). What it lacks, and this class adds:

- a bounded wait: connecting to an unreachable Redis gives up after ``CONNECT_TIMEOUT`` seconds instead
  of the operating system's minutes, and while Redis is known to be down, publishing is skipped for
  ``PAUSE_SECONDS`` instead of trying (and logging) twice on every emit;
- a quick return: the library's listener waits 1, 2, 4 ... up to 60 seconds between reconnection
  attempts, so after a long outage other instances' events could stay away for a minute after Redis
  is back. Here it retries every ``RETRY_SECONDS``;
- a clear state: ``healthy`` says whether events currently reach the other instances (``/healthz``);
- a resync when the queue returns: the events of the outage, and those published in its first moments
  (before every instance has subscribed again, or while one still holds off publishing), never cross.
  So once its listener has subscribed again, an instance tells its own tablets each of its meetings'
  latest event number (``sync``, read from ``live_state``); a tablet that is behind asks for the gap by
  number, as it does on any gap. An instance that dropped publications also asks the others, once it
  can publish again, to resync theirs: a drop after their own resync would otherwise go unnoticed.

It also carries presence between instances (ecabinet/live/presence.py): which meetings' presence an
instance's sockets changed, so that each instance sends the new list to its own sockets. Presence
notes lost to an outage are made good by the resync, which has every instance send its meetings' lists.
"""

from __future__ import annotations

import logging
import time

from flask import Flask
from socketio import RedisManager
from sqlalchemy import select

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 2.0
RETRY_SECONDS = 1.0
PAUSE_SECONDS = 1.0


class LiveBus(RedisManager):
    name = "ecabinet-redis"

    def __init__(self, url: str, channel: str) -> None:
        super().__init__(url, channel=channel, redis_options={"socket_connect_timeout": CONNECT_TIMEOUT})
        self.healthy = True
        self._skip_until = 0.0
        self._dropped = False  # a publication was lost since the others were last asked to resync
        self._resync_channel = f"{channel}:resync"
        self._presence_channel = f"{channel}:presence"

    def _redis_connect(self) -> None:
        super()._redis_connect()
        # The confirmation of a subscription is what says from when on nothing published is missed.
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=False)

    def _set_health(self, healthy: bool, exc: BaseException | None = None) -> None:
        if healthy != self.healthy:
            self.healthy = healthy
            if healthy:
                log.warning("Redis is back: events reach the other instances again")
            else:
                log.error("Redis is unreachable (%s): events reach this instance's clients only", exc)

    def _publish(self, data):  # noqa: ANN001, ANN202 - the library's signature
        return self._send(self.channel, self.json.dumps(data))

    def tell_presence(self, meeting_ids: list[int]) -> None:
        """Tell the other instances that this instance's sockets changed these meetings' presence."""
        self._send(self._presence_channel, self.json.dumps({"host_id": self.host_id, "meetings": sorted(meeting_ids)}))

    def _send(self, channel: str, text: str) -> int | None:
        """Publish, or drop while Redis is known to be down; a drop has the others resync once it is back
        (their tablets then ask for the events, and every instance sends its presence lists again)."""
        if time.monotonic() < self._skip_until:
            self._dropped = True
            return None
        try:
            if not self.connected:
                self._redis_connect()
            result = self.redis.publish(channel, text)
        except Exception as exc:  # noqa: BLE001 - any Redis failure means "not delivered elsewhere"
            self.connected = False
            self._dropped = True
            self._skip_until = time.monotonic() + PAUSE_SECONDS
            self._set_health(False, exc)
            return None
        self._set_health(True)
        self._ask_others_to_resync()
        return result

    def _ask_others_to_resync(self) -> None:
        if not self._dropped:
            return
        self._dropped = False
        try:
            self.redis.publish(self._resync_channel, self.host_id)
        except Exception:  # noqa: BLE001 - asked again after the next successful publication
            self._dropped = True

    def _redis_listen_with_retries(self):  # noqa: ANN202
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel, self._resync_channel, self._presence_channel)
                self._skip_until = 0.0
                self._set_health(True)
                for message in self.pubsub.listen():
                    if message["type"] == "subscribe" and _text(message["channel"]) == self.channel:
                        self._resync()
                        self._ask_others_to_resync()
                    elif message["type"] == "message" and _text(message["channel"]) == self._resync_channel:
                        if _text(message["data"]) != self.host_id:
                            self._resync()
                    elif message["type"] == "message" and _text(message["channel"]) == self._presence_channel:
                        self._presence_elsewhere(message["data"])
                    else:
                        yield message
            except Exception as exc:  # noqa: BLE001
                self.connected = False
                self._set_health(False, exc)
                time.sleep(RETRY_SECONDS)  # patched by gevent: only this greenlet waits

    def _presence_elsewhere(self, data: bytes | str) -> None:
        from ecabinet.live import presence

        try:
            note = self.json.loads(_text(data))
            meetings = [m for m in note["meetings"] if isinstance(m, int) and not isinstance(m, bool)]
        except (ValueError, TypeError, KeyError):
            log.warning("ignored a presence note that is not one")
            return
        if note.get("host_id") != self.host_id:
            presence.changed_elsewhere(meetings)

    # --- resync ----------------------------------------------------------------------------------------

    def _resync(self) -> None:
        """Tell this instance's tablets, in the background, each of their meetings' latest event number,
        and who is online in each (presence notes of the outage were lost)."""
        from ecabinet.live import presence

        meetings = self._local_meetings()
        if meetings:
            presence.changed_elsewhere(list(meetings))
            self.server.start_background_task(self._send_sync, meetings)

    def _local_meetings(self) -> dict[int, Flask]:
        """The meetings whose room has a socket on this instance, with the app that serves it."""
        from ecabinet.live.service import room

        meetings: dict[int, Flask] = {}
        for name, sids in list(self.rooms.get("/", {}).items()):
            number = name.rpartition(":")[2] if isinstance(name, str) else ""
            if not sids or not number.isdigit() or room(int(number)) != name:
                continue
            app = next((a for sid in list(sids) if (a := self._app_of(sid)) is not None), None)
            if app is not None:
                meetings[int(number)] = app
        return meetings

    def _app_of(self, sid: str) -> Flask | None:
        eio_sid = self.eio_sid_from_sid(sid, "/")
        return self.server.environ.get(eio_sid, {}).get("flask.app") if eio_sid else None

    def _send_sync(self, meetings: dict[int, Flask]) -> None:
        from ecabinet.extensions import db
        from ecabinet.live.models import LiveState
        from ecabinet.live.service import room

        app = next(iter(meetings.values()))
        with app.app_context():
            try:
                latest = dict(db.session.execute(select(LiveState.meeting_id, LiveState.last_seq)
                                                 .where(LiveState.meeting_id.in_(meetings))).tuples().all())
            except Exception:  # noqa: BLE001 - the database is down too: the tablets ask at their next event
                log.warning("could not resync the live rooms after the message queue returned", exc_info=True)
                return
            finally:
                db.session.remove()
        for meeting_id, seq in latest.items():
            # This instance's sockets only: every instance resyncs its own.
            self.server.emit("sync", {"meeting_id": meeting_id, "seq": seq}, to=room(meeting_id),
                             namespace="/", ignore_queue=True)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
