"""Under gevent, the PostgreSQL driver and the Redis client must yield to the event loop while they wait.

If either blocked, one slow query would freeze every socket of every meeting on the instance. The
check runs in a child process that is monkey-patched the way wsgi.py patches production, with
gevent's monitor thread watching for a blocked loop.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.conftest import POSTGRES_URL, ROOT
from tests.helpers import GEVENT_WATCH

PROBE = textwrap.dedent("""
    import gevent
    gevent.config.monitor_thread = True
    gevent.config.max_blocking_time = 0.2
    from gevent import monkey
    monkey.patch_all()
    import json, sys
    import gevent.events
    from zope.interface import implementer  # gevent depends on zope.interface

    {watch}

    result = {}
    kind, url = sys.argv[1], sys.argv[2]

    def warmed_up(first_use):
        # Importing the driver and setting up its first connection are CPU work, not waiting: on a
        # slow machine they alone pass max_blocking_time. Only the waiting after them is judged.
        first_use()
        gevent.sleep(0.3)
        del blocked[:]
        return ticks[0]

    if kind == "postgresql":
        import sqlalchemy as sa
        engine = sa.create_engine(url)
        def ping():
            for conn in [engine.connect(), engine.connect()]:  # both connections of the pool below
                conn.execute(sa.text("SELECT 1"))
                conn.close()
        before = warmed_up(ping)
        # Two slow queries at once on two connections: if the driver cooperates they overlap.
        def slow():
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT pg_sleep(1)"))
        jobs = [gevent.spawn(slow) for _ in range(2)]
        gevent.joinall(jobs, raise_error=True)
    else:
        import redis
        client = redis.Redis.from_url(url)
        before = warmed_up(client.ping)
        client.blpop(["ecabinet-test-never-filled"], timeout=1)
    result["ticks_while_waiting"] = ticks[0] - before
    gevent.sleep(0.3)  # give the monitor a chance to report
    result["blocked"] = blocked
    print(json.dumps(result))
""").replace("{watch}", GEVENT_WATCH)


def _probe(kind: str, url: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, kind, url], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_postgresql_driver_yields_to_the_event_loop(database):
    if database.kind != "postgresql":
        return  # only the PostgreSQL driver waits on the network; SQLite is a local file
    result = _probe("postgresql", POSTGRES_URL)
    # ~100 ticks happen in one second of waiting when the loop is free; none when it is blocked.
    assert result["ticks_while_waiting"] > 20
    assert result["blocked"] == []


def test_redis_client_yields_to_the_event_loop(redis_url):
    result = _probe("redis", redis_url)
    assert result["ticks_while_waiting"] > 20
    assert result["blocked"] == []
