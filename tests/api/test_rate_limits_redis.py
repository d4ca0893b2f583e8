"""With REDIS_URL set, the per-client token bucket lives in Redis: several instances of the app draw on one
budget per client. Without Redis reachable, each instance counts on its own."""

from __future__ import annotations

import secrets
import threading

import pytest

from ecabinet.api import service as api
from tests.api.conftest import bearer
from tests.api.test_api import token


@pytest.fixture
def prefix(redis_url):
    """A key prefix of this test's own, removed afterwards."""
    import redis

    found = f"ecabinet:test:api:rate:{secrets.token_hex(4)}:"
    yield found
    server = redis.Redis.from_url(redis_url)
    for key in server.scan_iter(found + "*"):
        server.delete(key)


def _instance(db_url: str, redis_url: str, prefix: str):
    from ecabinet import create_app
    from tests.conftest import make_test_config

    return create_app(make_test_config(db_url, REDIS_URL=redis_url, API_RATE_BURST=4, API_RATE_PER_SECOND=0.01,
                                       API_RATE_REDIS_PREFIX=prefix))


def test_two_instances_share_one_budget_per_client(app, world, db_url, redis_url, prefix):
    import redis

    from ecabinet.extensions import db

    instances = [_instance(db_url, redis_url, prefix) for _ in range(2)]
    try:
        clients = [instance.test_client() for instance in instances]
        headers = bearer(token(world))
        # Four requests' burst in all, whichever instance answers them.
        statuses = [clients[n % 2].get("/api/v1/actions", headers=headers).status_code for n in range(6)]
        assert statuses == [200, 200, 200, 200, 429, 429]
        refused = clients[1].get("/api/v1/actions", headers=headers)
        assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
        assert int(refused.headers["Retry-After"]) >= 1
        # Another client has its own bucket, on either instance.
        assert clients[0].get("/api/v1/meetings", headers=bearer(token(world, "foreign"))).status_code == 200
        keys = redis.Redis.from_url(redis_url).keys(prefix + "*")
        assert len(keys) == 2 and all(redis.Redis.from_url(redis_url).ttl(k) > 0 for k in keys)
        assert isinstance(instances[0].extensions["ecabinet_api_buckets"], api.RedisTokenBuckets)
    finally:
        for instance in instances:
            with instance.app_context():
                db.session.remove()
                db.engine.dispose()


def test_the_shared_bucket_never_gives_more_than_its_burst_at_once(redis_url, prefix):
    buckets = api.RedisTokenBuckets(redis_url, prefix)
    taken: list[float | None] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(5):
            answer = buckets.take(7, 0.001, 10)
            with lock:
                taken.append(answer)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 40 and taken.count(None) == 10
    assert all(wait is None or wait > 0 for wait in taken)


def test_the_bucket_refills_at_its_rate(redis_url, prefix):
    import time

    buckets = api.RedisTokenBuckets(redis_url, prefix)
    assert [buckets.take(1, 50.0, 2) for _ in range(2)] == [None, None]
    wait = buckets.take(1, 50.0, 2)
    assert wait is not None and 0 < wait <= 0.02
    time.sleep(0.05)  # 50 a second: two and a half tokens back, capped at two
    assert buckets.take(1, 50.0, 2) is None


def test_without_redis_each_instance_counts_on_its_own(caplog):
    buckets = api.RedisTokenBuckets("redis://127.0.0.1:1/0", "unreachable:")
    answers = [buckets.take(1, 0.01, 2) for _ in range(3)]
    assert answers[:2] == [None, None] and answers[2] is not None and answers[2] > 0
    assert sum("Redis unavailable" in r.getMessage() for r in caplog.records) == 1  # warned once, not per request
