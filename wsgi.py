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

# What start-up built (modules, the app, SQLAlchemy's mappers: about 160,000 objects) lives as long as
# the process. Frozen, it is left out of the collector's full passes, which stop the event loop for
# every socket: measured, a full pass over it took 60-280 ms.
gc.freeze()
# Young collections every 50,000 allocations instead of 700: between two of them most of a request's
# objects are gone, so far fewer reach the old generation and full passes become rare. Measured at
# 2,000 sockets (two runs): 2 full collections instead of 15, the longest worker pause 85-200 ms (while
# the room filled) instead of 387 ms, none inside a broadcast round; worker memory 279 MiB, not 274.
gc.set_threshold(50_000, 20, 10)
