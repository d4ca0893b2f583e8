"""WSGI entry point for gunicorn's gevent worker: ``gunicorn -k gevent -w 1 wsgi:app``.

gevent patches the standard library before anything else is imported. Redis's client then uses
gevent's sockets, and psycopg 3 (3.1.14 and later) notices the patched process and waits on
gevent's hub; tests/core/test_gevent.py proves both.
"""

from gevent import monkey

monkey.patch_all()

import gc  # noqa: E402

from ecabinet import create_app  # noqa: E402

app = create_app()

# The job queue and every domain's tasks, loaded now rather than by the first job the instance queues
# (an upload's preparation of copies, a notification): loading them, and opening the queue's storage,
# stopped every socket of the instance for 100-200 ms at that moment (bench_upload_responsiveness.py).
import ecabinet.jobs  # noqa: E402, F401

# What start-up built (modules, the app, SQLAlchemy's mappers: about 160,000 objects) lives as long as
# the process. Frozen, it is left out of the collector's full passes, which stop the event loop for
# every socket: measured, a full pass over it took 60-280 ms.
gc.freeze()
# Young collections every 10,000 allocations instead of 700, and a middle-generation pass every 5 of
# them instead of 10: between two young collections most of a request's objects are gone, so far fewer
# reach the old generations, and the middle one never grows large. With 50,000 and 20 it held the whole
# room's connection objects when 2,000 votes arrived and its first pass stopped the worker for 310 ms,
# which alone put the tally latency p99 at 290-400 ms; with 10,000 and 5 no pause inside the votes
# passed 21 ms on SQLite (68 ms on PostgreSQL) and the p99 was 136-145 ms (bench/bench_tally.py, same
# machine and hour). The room's broadcasts (bench/live_load.py) were no slower: p99 69 ms against 86 ms.
gc.set_threshold(10_000, 5, 10)
