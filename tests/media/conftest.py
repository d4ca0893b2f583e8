"""A real Janus on loopback for the media tests, configured by the app's own generator
(ecabinet/media/setup.py), and a small client of its HTTP API that acts as a browser would."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import pytest
import requests

from ecabinet.media.service import room_admin_key
from ecabinet.media.setup import binary, command, write_config
from tests.conftest import IN_CI, LiveServer, free_port
from tests.helpers import ServerProcess
from tests.live.conftest import in_session  # noqa: F401 - fixtures reused by the media tests
from tests.meetings.conftest import cabinet, draft, published  # noqa: F401


class JanusServer(ServerProcess):
    """Janus with the configuration the app's generator writes, on loopback ports of its own."""

    name = "janus"
    start_timeout = 15.0

    def __init__(self, folder: Path) -> None:
        super().__init__(folder / "janus.log")
        self.folder = folder
        self.secret = secrets.token_urlsafe(16)
        self.url = f"http://127.0.0.1:{free_port()}/janus"
        self.admin_url = f"http://127.0.0.1:{free_port()}/admin"

    @property
    def app_env(self) -> dict[str, str]:
        """What the app needs to reach this Janus, as environment variables."""
        return {"JANUS_URL": self.url, "JANUS_ADMIN_URL": self.admin_url, "JANUS_ADMIN_SECRET": self.secret}

    def start(self) -> Self:
        write_config(self.folder, janus_url=self.url, admin_url=self.admin_url, admin_secret=self.secret,
                     room_admin_key=room_admin_key(self.secret), rtp_ports="30000-39999", debug_level=3)
        return super().start()

    def command(self) -> list[str]:
        return [*command(self.folder), "--disable-colors"]

    def ready(self) -> bool:
        answer = requests.post(self.admin_url, json={"janus": "ping", "transaction": "t",
                                                     "admin_secret": self.secret}, timeout=1).json()
        return answer.get("janus") == "pong"


@pytest.fixture(scope="module")
def janus_server(tmp_path_factory) -> Iterator[JanusServer]:
    if binary() is None:
        reason = "Janus is not installed (apt-get install janus)"
        if IN_CI:
            pytest.fail(f"CI=true: {reason}", pytrace=False)
        pytest.skip(reason)
    server = JanusServer(tmp_path_factory.mktemp("janus")).start()
    yield server
    server.stop()


@pytest.fixture
def media_app(app, janus_server):
    """The test app, talking to the test Janus, its follow-up work done inline."""
    app.config.update(JANUS_URL=janus_server.url, JANUS_ADMIN_URL=janus_server.admin_url,
                      JANUS_ADMIN_SECRET=janus_server.secret, MEDIA_INLINE=True)
    app.extensions.pop("media_janus", None)
    return app


@pytest.fixture
def media_server(app, db_url, tmp_path, janus_server) -> Iterator[LiveServer]:
    server = LiveServer(db_url, tmp_path, **janus_server.app_env).start()
    yield server
    server.stop()


class JanusClient:
    """What a browser does with a token: a Janus session, a VideoRoom handle, a join."""

    def __init__(self, url: str, token: str | None, http: requests.Session | None = None) -> None:
        self.url = url
        self.token = token
        self.http = http or requests.Session()  # a signed-in one for the app's pass-through
        self.session: int | None = None
        self.handle: int | None = None

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {"transaction": secrets.token_hex(4), **body}
        if self.token is not None:
            body["token"] = self.token
        return self.http.post(self.url + path, json=body, timeout=5).json()

    def message(self, body: dict[str, Any]) -> dict[str, Any]:
        """A VideoRoom request: Janus's answer, with the plugin's (or the pass-through's) error if any."""
        answer = self._post(f"/{self.session}/{self.handle}", {"janus": "message", "body": body})
        if answer.get("janus") == "ack":
            return self.next_event()
        return answer

    def create(self) -> dict[str, Any]:
        answer = self._post("", {"janus": "create"})
        if answer.get("janus") == "success":
            self.session = answer["data"]["id"]
        return answer

    def attach(self) -> dict[str, Any]:
        answer = self._post(f"/{self.session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})
        if answer.get("janus") == "success":
            self.handle = answer["data"]["id"]
        return answer

    def join(self, room: int, feed: int, room_token: str | None) -> dict[str, Any]:
        """Join as a publisher; returns the plugin's answer (joined, or an error)."""
        body = {"request": "join", "ptype": "publisher", "room": room, "id": feed, "display": "x"}
        if room_token is not None:
            body["token"] = room_token
        ack = self._post(f"/{self.session}/{self.handle}", {"janus": "message", "body": body})
        if ack.get("janus") == "error":
            return ack
        return self.next_event()

    def next_event(self) -> dict[str, Any]:
        params = {"maxev": 1, "rid": int(time.time() * 1000)}
        if self.token is not None:
            params["token"] = self.token
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            answer = self.http.get(f"{self.url}/{self.session}", params=params, timeout=35).json()
            if answer.get("janus") == "event":
                return answer
            if answer.get("janus") == "error":
                return answer
        raise AssertionError("no event from Janus")
