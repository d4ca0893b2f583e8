"""``/metrics``: Prometheus metrics of this instance, for the operator only.

Who may read them: an administrator's signed-in session, or ``Authorization: Bearer <METRICS_TOKEN>``
(for the Prometheus server). Anyone else gets a 404, as for a page that does not exist.

Every instance is one process (one gunicorn gevent worker), so its counters live in that process and
Prometheus scrapes each instance on its own address; a sum over instances is a query, not something
an instance knows. The gauges (open sockets, database connections, job queue) are read at scrape time.
"""

from __future__ import annotations

import hmac
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from ecabinet.core.admission import room_gate
from ecabinet.core.policy import public, user_or_none

# A registry of the app's own: the default one would also collect every other library's metrics, and
# one registry per process is what a scrape of one instance should show.
REGISTRY = CollectorRegistry()
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"

REQUESTS = Counter("ecabinet_http_requests", "HTTP requests answered, by endpoint, method and status.",
                   ["endpoint", "method", "status"], registry=REGISTRY)
LATENCY = Histogram("ecabinet_http_request_duration_seconds", "Time to answer an HTTP request, by endpoint.",
                    ["endpoint"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))

bp = Blueprint("metrics", __name__)


def _open_sockets() -> int:
    from ecabinet.extensions import socketio

    server = getattr(socketio, "server", None)
    return len(getattr(getattr(server, "eio", None), "sockets", None) or {})


def _pool() -> tuple[int, int]:
    """(checked out, pool size) of the database pool."""
    from ecabinet.extensions import db

    pool = db.engine.pool
    checked_out = pool.checkedout() if hasattr(pool, "checkedout") else 0
    size = pool.size() if hasattr(pool, "size") else 0
    return int(checked_out), int(size)


def _queue_depth() -> int | None:
    """Jobs waiting in the huey queue; None when it cannot be read at once (it is not worth a slow scrape)."""
    url = current_app.config.get("REDIS_URL")
    try:
        if url:
            import redis

            from ecabinet.jobs import huey

            client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
            try:
                return int(client.llen(huey.storage.queue_key))
            finally:
                client.close()
        from ecabinet.jobs import huey

        return int(huey.pending_count())
    except (OSError, sqlite3.Error, RedisError, AttributeError) as exc:
        current_app.logger.debug("job queue depth not readable: %s", exc)
        return None


class _Gauges(Collector):
    """Read at each scrape, in the scraping request."""

    def collect(self) -> Iterator[Any]:
        sockets = GaugeMetricFamily("ecabinet_open_sockets", "Socket.IO connections open on this instance.",
                                    labels=["instance"])
        sockets.add_metric([INSTANCE], _open_sockets())
        yield sockets
        checked_out, size = _pool()
        pool = GaugeMetricFamily("ecabinet_db_pool_checked_out",
                                 "Database connections of this instance's pool in use.", labels=["instance"])
        pool.add_metric([INSTANCE], checked_out)
        yield pool
        pool_size = GaugeMetricFamily("ecabinet_db_pool_size", "Connections the pool keeps.", labels=["instance"])
        pool_size.add_metric([INSTANCE], size)
        yield pool_size
        gate = GaugeMetricFamily("ecabinet_live_admission_waiting",
                                 "Tablets waiting at the live room's gate to connect or join (a reconnection storm).",
                                 labels=["instance"])
        gate.add_metric([INSTANCE], room_gate().waiting)
        yield gate
        depth = _queue_depth()
        if depth is not None:
            queue = GaugeMetricFamily("ecabinet_job_queue_depth", "Jobs waiting for the job worker.")
            queue.add_metric([], depth)
            yield queue


REGISTRY.register(_Gauges())


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or os.environ.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode()):
        return True
    from ecabinet.accounts.policy import can_manage_users

    user = user_or_none()
    return user is not None and can_manage_users(user)


@bp.route("/metrics")
@public  # its own check below: a bearer token is no signed-in user, and anyone else must learn nothing
def metrics() -> Response:
    if not _allowed():
        abort(404)
    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST.split(";")[0],
                    headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _finish(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        # The rule's endpoint, never the path: a path per id or per mistyped URL would grow without bound.
        endpoint = request.endpoint or "unmatched"
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    return response


def init_metrics(app: Flask) -> None:
    """Register ``/metrics`` and time every request of ``app``."""
    app.register_blueprint(bp)
    # First of the app's hooks: a request answered early by another hook (a redirect, a refusal) is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
