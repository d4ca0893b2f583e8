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
- a clear state: ``healthy`` says whether events currently reach the other instances (``/healthz``).
"""

from __future__ import annotations

import logging
import time

from socketio import RedisManager

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

    def _set_health(self, healthy: bool, exc: BaseException | None = None) -> None:
        if healthy != self.healthy:
            self.healthy = healthy
            if healthy:
                log.warning("Redis is back: events reach the other instances again")
            else:
                log.error("Redis is unreachable (%s): events reach this instance's clients only", exc)

    def _publish(self, data):  # noqa: ANN001, ANN202 - the library's signature
        if time.monotonic() < self._skip_until:
            return None
        try:
            if not self.connected:
                self._redis_connect()
            result = self.redis.publish(self.channel, self.json.dumps(data))
        except Exception as exc:  # noqa: BLE001 - any Redis failure means "not delivered elsewhere"
            self.connected = False
            self._skip_until = time.monotonic() + PAUSE_SECONDS
            self._set_health(False, exc)
            return None
        self._set_health(True)
        return result

    def _redis_listen_with_retries(self):  # noqa: ANN202
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                self._skip_until = 0.0
                self._set_health(True)
                yield from self.pubsub.listen()
            except Exception as exc:  # noqa: BLE001
                self.connected = False
                self._set_health(False, exc)
                time.sleep(RETRY_SECONDS)  # patched by gevent: only this greenlet waits
