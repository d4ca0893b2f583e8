"""Small helpers for driving the app as a user would."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Self

import requests
from urllib3.util import SKIP_HEADER

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def login(client, email: str, password: str):
    """Sign in through the form with Flask's test client; returns the final response."""
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def post_form(client, path: str, data: dict | None = None, page: str | None = None):
    """POST a form with a CSRF token taken from ``page`` (or the home page)."""
    html = client.get(page or "/").get_data(as_text=True)
    return client.post(path, data={**(data or {}), "csrf_token": csrf_from(html)})


def http_login(base_url: str, email: str, password: str) -> requests.Session:
    """Sign in over real HTTP; the returned session carries the cookie."""
    s = requests.Session()
    # Sign-in sessions are held to their browser's User-Agent, and the Socket.IO test clients that reuse
    # this cookie send none: so neither does this one (SKIP_HEADER keeps urllib3's default out too).
    s.headers["User-Agent"] = SKIP_HEADER
    page = s.get(base_url + "/login", timeout=10)
    r = s.post(base_url + "/login", data={"email": email, "password": password,
                                          "csrf_token": csrf_from(page.text)}, timeout=10, allow_redirects=False)
    assert r.status_code == 302, r.text[:500]
    return s


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def joined_member_socket(app, client, meeting_id: int, email: str = "member@example.gov.vn"):  # noqa: ANN001, ANN201
    """A member's tablet joined to the meeting's room through the app's real Socket.IO server, with what
    joining brought already taken off its queue. The caller disconnects it."""
    from tests.conftest import PASSWORD

    login(client, email, PASSWORD)
    sio = app.extensions["socketio"].test_client(app, flask_test_client=client, headers={"Origin": "http://localhost"})
    assert sio.is_connected()
    joined = in_own_app_context(lambda: sio.emit("join", {"meeting_id": meeting_id, "last_seq": None}, callback=True))
    assert joined["ok"], joined
    sio.get_received()
    return sio


def statements_of(action):  # noqa: ANN001, ANN201 - (what action returned, the SQL it sent)
    """Run ``action`` and list every SQL statement it sent to the database."""
    import sqlalchemy as sa

    from ecabinet.extensions import db

    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        return action(), seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def in_own_app_context(fn):  # noqa: ANN001, ANN201
    """Run ``fn`` in an app context of its own, as the server runs every socket event."""
    import contextvars

    from flask.globals import _cv_app

    from ecabinet.extensions import db

    db.session.rollback()

    def run():  # noqa: ANN202
        _cv_app.set(None)
        return fn()

    return contextvars.copy_context().run(run)


class ServerProcess:
    """A server the tests run as a child process: its output goes to ``log``, it counts as started once
    ``ready()`` says so, and stopping it sends SIGTERM, then SIGKILL if it lingers.
    Subclasses say what to run (``command``) and how to ask whether it is ready (``ready``)."""

    name = "server"
    start_timeout = 30.0

    def __init__(self, log: Path, *, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.log = log
        self.cwd = cwd
        self.env = env
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        """One probe; a refused or timed-out request means not yet."""
        raise NotImplementedError

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def start(self) -> Self:
        with self.log.open("wb") as out:  # the child has its own copy of the file
            self.proc = subprocess.Popen(self.command(), cwd=self.cwd, env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_tail()}")
            try:
                if self.ready():
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()  # a fixture whose start failed never stops it
        raise RuntimeError(f"{self.name} did not start: {self.log_tail()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# What a script run under gevent starts before what it measures, put in with
# ``.replace("{watch}", GEVENT_WATCH)``: gevent's monitor of a blocked loop, and a greenlet that ticks
# every 10 ms while the loop runs.
GEVENT_WATCH = """blocked = []
gevent.events.subscribers.append(
    lambda event: blocked.append(str(event)) if isinstance(event, gevent.events.EventLoopBlocked) else None)
gevent.get_hub().start_periodic_monitoring_thread()
ticks = [0]

def ticker():
    while True:
        ticks[0] += 1
        gevent.sleep(0.01)

spinner = gevent.spawn(ticker)
gevent.sleep(0.3)  # let the monitor take its first look
"""
