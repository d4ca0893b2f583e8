"""Test fixtures: every test that takes ``app`` runs on SQLite and on PostgreSQL.

The schema is built once per database by the real migrations (so triggers and constraints are the
production ones), then each test gets a clean copy: a copied SQLite file, or truncated PostgreSQL
tables in a schema of its own that is dropped at the end.
"""

from __future__ import annotations

import contextvars
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.helpers import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Under pytest-xdist each worker is its own test run: its own Redis database (gw0 15, gw1 13, gw2 12, ...;
# 14 is the benchmarks'), instance folder and pub/sub channel. PostgreSQL schemas are already per run.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_WORKER_NUMBER = int(WORKER[2:]) if WORKER.startswith("gw") and WORKER[2:].isdigit() else 0


def _worker_redis_url(url: str) -> str:
    if not _WORKER_NUMBER:
        return url
    base, _, number = url.rpartition("/")
    return f"{base}/{max(0, int(number) - 1 - _WORKER_NUMBER)}" if number.isdigit() else url


REDIS_URL = _worker_redis_url(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct-horse-battery"

# Tests never write into the developer's instance/ folder.
_TMP = Path(os.environ.get("TMPDIR", "/tmp"))  # noqa: S108
os.environ.setdefault("ECABINET_INSTANCE_DIR", str(_TMP / f"ecabinet-test-{os.getpid()}"))
if WORKER:  # workers inherit the controller's environment: give each its own folder
    os.environ["ECABINET_INSTANCE_DIR"] += f"-{WORKER}"
os.environ["SESSION_COOKIE_SECURE"] = "0"
os.environ["ECABINET_FAST_PASSWORD_HASH_FOR_TESTS"] = "1"
# Redis pub/sub is shared by every database of one server: each test run gets its own channel, so that
# two runs on one Redis never deliver each other's events.
os.environ.setdefault("SOCKETIO_CHANNEL", f"ecabinet-test-{uuid.uuid4().hex[:12]}")
if WORKER:
    os.environ["SOCKETIO_CHANNEL"] += f"-{WORKER}"


def _unavailable(what: str, reason: str) -> None:
    message = f"{what} is not reachable ({reason}); start it or set the TEST_* URL."
    if IN_CI:
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


def _pg_admin_engine() -> sa.Engine:
    return sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3}, poolclass=sa.pool.NullPool)


@dataclass
class TestDatabase:
    kind: str
    base_url: str
    template: Path | None = None
    schema: str | None = None
    tmp: Path | None = None
    counter: list[int] = field(default_factory=lambda: [0])

    def fresh(self) -> str:
        """A clean database URL for one test."""
        if self.kind == "sqlite":
            self.counter[0] += 1
            path = self.tmp / f"test-{self.counter[0]}.sqlite3"
            # The backup API copies a consistent database, including what is still in the WAL file.
            with sqlite3.connect(self.template) as src, sqlite3.connect(path) as dst:
                src.backup(dst)
            return f"sqlite:///{path}"
        engine = sa.create_engine(self.base_url, poolclass=sa.pool.NullPool)
        # The previous test's background work (a ballot tally sender thread, for one) may still be
        # reading: the truncation's table locks can then deadlock with its reads, and PostgreSQL may
        # pick the truncation to abort. It only has to be tried again.
        for attempt in range(5):
            try:
                with engine.begin() as conn:
                    tables = [r[0] for r in conn.execute(sa.text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = :s AND tablename <> 'alembic_version'"),
                        {"s": self.schema})]
                    if tables:
                        conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{self.schema}"."{t}"' for t in tables)
                                             + " RESTART IDENTITY CASCADE"))
                break
            except sa.exc.OperationalError as exc:
                if "deadlock detected" not in str(exc) or attempt == 4:
                    raise
                time.sleep(0.2)
        engine.dispose()
        return self.base_url


def build_schema(url: str) -> None:
    """Run the migrations, in a child process so that nothing of the app lingers in this one."""
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "ecabinet", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory) -> Iterator[TestDatabase]:
    if request.param == "sqlite":
        tmp = tmp_path_factory.mktemp("sqlite")
        template = tmp / "template.sqlite3"
        build_schema(f"sqlite:///{template}")
        yield TestDatabase("sqlite", f"sqlite:///{template}", template=template, tmp=tmp)
        return
    try:
        with _pg_admin_engine().connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        _unavailable("PostgreSQL at " + POSTGRES_URL, type(exc).__name__)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = _pg_admin_engine()
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        build_schema(url)
        yield TestDatabase("postgresql", url, schema=schema)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def make_test_config(url: str, **extra) -> dict:
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SESSION_COOKIE_SECURE": False,
            "LOGIN_RATE_LIMIT": "1000 per minute",
            # Produce final minutes in the request instead of the job worker, which tests do not run.
            "MINUTES_FINALISE_INLINE": True,
            # The test body and the requests it makes each hold a connection.
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 5, "max_overflow": 5, "pool_timeout": 10},
            # A checkpoint file per app: the audit checkpoints of one test's database are not another's.
            "AUDIT_CHECKPOINT_FILE": os.path.join(os.environ["ECABINET_INSTANCE_DIR"],
                                                  f"audit-checkpoints-{uuid.uuid4().hex}.jsonl"),
            **extra}


@pytest.fixture
def db_url(database: TestDatabase) -> str:
    return database.fresh()


@pytest.fixture
def app(db_url: str):
    from ecabinet import create_app
    from ecabinet.core import background
    from ecabinet.extensions import db

    app = create_app(make_test_config(db_url))
    with app.app_context():
        yield app
        # A tally sender left running would read the next test's database while it is emptied.
        background.stop(app)
        db.session.remove()
        db.engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, as in production, even though the test holds one.

    Without this, Flask reuses the test's app context and ``g`` (CSRF token, signed-in session)
    leaks from one request into the next. The test's own database transaction is ended around
    each request so that it sees what the request committed.
    """

    def open(self, *args, **kwargs):
        from flask.globals import _cv_app

        from ecabinet.extensions import db

        db.session.rollback()

        def isolated():
            _cv_app.set(None)
            return super(IsolatedClient, self).open(*args, **kwargs)

        try:
            return contextvars.copy_context().run(isolated)
        finally:
            db.session.rollback()


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def users(app):
    """One active user per role, all with PASSWORD."""
    from ecabinet.accounts import service
    from ecabinet.accounts.models import Role
    from ecabinet.core.actor import Actor
    from ecabinet.extensions import db

    made = {}
    for role in Role:
        made[role.value] = service.create_user(
            Actor.system("test"),
            service.UserData(email=f"{role.value}@example.gov.vn", name=f"Test {role.value}",
                             title=f"{role.value} title", organisation="Bộ Thử nghiệm", role=role),
            PASSWORD)
    db.session.commit()  # services only flush: the fixture is the boundary
    return made


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer(ServerProcess):
    """The app under gunicorn's gevent worker, as in production, on a loopback port."""

    def __init__(self, db_url: str, tmp: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(tmp / f"server-{self.port}.log", cwd=ROOT, env={
            **os.environ, "DATABASE_URL": db_url, "SESSION_COOKIE_SECURE": "0",
            "LOGIN_RATE_LIMIT": "1000 per minute", "ECABINET_INSTANCE_DIR": str(tmp / "instance"),
            "MINUTES_FINALISE_INLINE": "1",
            "PYTHONUNBUFFERED": "1", **env})

    def command(self) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1", "-b", f"127.0.0.1:{self.port}",
                "--graceful-timeout", "2", "wsgi:app"]

    def ready(self) -> bool:
        import requests

        return requests.get(self.url + "/healthz", timeout=1).ok


@pytest.fixture
def live_server(app, db_url, tmp_path) -> Iterator[LiveServer]:
    server = LiveServer(db_url, tmp_path).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        _unavailable("Redis at " + REDIS_URL, type(exc).__name__)
    return REDIS_URL


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable("Chromium at " + CHROMIUM, "not installed; apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


def pytest_collection_modifyitems(config, items) -> None:  # noqa: ANN001
    """Browser tests run on SQLite only. What a page shows and how it behaves in Chromium does not depend
    on the database; the rules behind every page and event are tested on both databases through HTTP and
    real sockets. Running each Chromium flow twice doubled the suite's slowest part."""
    skip = pytest.mark.skip(reason="a browser flow runs on SQLite; its rules are tested on both databases")
    for item in items:
        callspec = getattr(item, "callspec", None)
        if item.get_closest_marker("both_databases") is not None:
            continue  # the whole flow of a capability, end to end on each database
        if "browser" in getattr(item, "fixturenames", ()) and callspec is not None \
                and callspec.params.get("database") == "postgresql":
            item.add_marker(skip)
