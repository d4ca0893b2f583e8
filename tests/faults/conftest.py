"""Fixtures for fault injection: a meeting with thirty voters, a hard kill of the app server, and private
PostgreSQL and Redis servers that a test may stop and start (the shared ones are never touched)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import IN_CI, PASSWORD, LiveServer, free_port
from tests.meetings.conftest import actor

VOTERS = 30


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def voting_meeting(app):
    """A meeting in session with a chair, a secretary and thirty members, all checked in, and a live
    ballot on its first item, open. Returns (meeting, ballot, {email: user})."""
    from ecabinet.accounts import service as accounts
    from ecabinet.accounts.models import Role
    from ecabinet.core.actor import Actor
    from ecabinet.extensions import db
    from ecabinet.meetings import service as meetings
    from ecabinet.meetings.models import CheckInMode
    from ecabinet.voting import service as voting

    system = Actor.system("test")

    def user(email: str, role: Role):
        return accounts.create_user(system, accounts.UserData(email=email, name=email.split("@")[0], role=role),
                                    PASSWORD)

    secretary = user("secretary@example.gov.vn", Role.SECRETARY)
    chair = user("chair@example.gov.vn", Role.CHAIR)
    members = {f"member{n:02d}@example.gov.vn": user(f"member{n:02d}@example.gov.vn", Role.MEMBER)
               for n in range(VOTERS)}
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    meeting = meetings.create_meeting(actor(secretary), meetings.MeetingData(
        title="Phiên họp Chính phủ thường kỳ", starts_at=start, ends_at=start + timedelta(hours=2),
        chair_id=chair.id))
    meetings.add_item(actor(secretary), meeting, meetings.ItemData(title="Nghị quyết A"))
    meetings.publish(actor(secretary), meeting)
    meetings.start_meeting(actor(chair), meeting)
    for person in [chair, *members.values()]:
        meetings.check_in(actor(secretary), meeting, meetings.participant_of(meeting, person), CheckInMode.ROOM)
    ballot = voting.create_ballot(actor(secretary), voting.BallotData(
        title="Thông qua Nghị quyết A", kind="live", meeting_id=meeting.id, item_id=meeting.items[0].id))
    voting.open_ballot(actor(chair), ballot)
    db.session.commit()
    return meeting, ballot, {"chair@example.gov.vn": chair, **members}


def kill_hard(server: LiveServer) -> None:
    """SIGKILL the gunicorn master and its workers at once: nothing runs its shutdown code."""
    assert server.proc is not None
    pid = server.proc.pid
    children = Path(f"/proc/{pid}/task/{pid}/children")
    workers = [int(p) for p in children.read_text().split()] if children.exists() else []
    for target in [*workers, pid]:
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.proc.wait(10)
    for worker in workers:  # reaped by init once the master is gone; wait until they have left
        deadline = time.monotonic() + 10
        while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
            if "Z" in (Path(f"/proc/{worker}/stat").read_text().split()[2:3] or [""]):
                break
            time.sleep(0.05)


def run_bounded(cmd: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout, **kw)


# --- a private PostgreSQL ------------------------------------------------------------------------

def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


class PrivatePostgres:
    """initdb + pg_ctl as the ``postgres`` user, in a temporary folder, on a free loopback port."""

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.log = root / "postgres.log"

    def _as_postgres(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return run_bounded(["runuser", "-u", "postgres", "--", *args], timeout)

    def init(self) -> None:
        self._as_postgres(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                          "--no-sync", "-E", "UTF8", "--locale=C.UTF-8", timeout=90)

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
                   "-c max_connections=60 -c shared_buffers=16MB")
        self._as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                          "-w", "-t", "30", "start", timeout=40)

    def stop(self, mode: str = "immediate") -> None:
        self._as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "20",
                          "stop", timeout=30)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of our own, with the schema built by the real migrations. Always removed."""
    from tests.conftest import build_schema

    bindir = _pg_bin()
    if bindir is None or shutil.which("runuser") is None:
        _unavailable("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) or runuser are not installed")
    if os.geteuid() != 0:
        _unavailable("starting a private PostgreSQL needs root (to run it as the postgres user)")
    root = Path(tempfile.mkdtemp(prefix="ecabinet-pg-"))
    shutil.chown(root, "postgres", "postgres")
    server = PrivatePostgres(bindir, root)
    try:
        server.init()
        server.start()
        build_schema(server.url)
        yield server
    finally:
        if server.running():
            try:
                server.stop("immediate")
            except (subprocess.SubprocessError, OSError):
                pid = int((server.data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


def truncate_all(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        tables = [r[0] for r in conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"))]
        conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


# --- a private Redis -----------------------------------------------------------------------------

class PrivateRedis:
    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.root = root
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.root)], stdout=(self.root / "redis.log").open("ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        _unavailable("redis-server is not installed (apt-get install redis-server)")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()
