"""WSGI entry point for gunicorn's gevent worker: ``gunicorn -k gevent -w 1 wsgi:app``.

gevent patches the standard library before anything else is imported. Redis's client then uses
gevent's sockets, and psycopg 3 (3.1.14 and later) notices the patched process and waits on
gevent's hub; tests/core/test_gevent.py proves both.
"""

from gevent import monkey

monkey.patch_all()

from ecabinet import create_app  # noqa: E402

app = create_app()
