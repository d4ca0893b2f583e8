"""The app's calls to Janus (HTTP, loopback): tokens through the admin API, rooms and moderation through
a VideoRoom handle of the app's own.

Every call is a short HTTP request with a timeout. Callers hold no database connection while they wait
(``uow.release()`` or a commit first). A failure is a :class:`JanusError` with Janus's words.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

TIMEOUT = 5.0
PLUGIN = "janus.plugin.videoroom"


class JanusError(Exception):
    """Janus refused a request or could not be reached."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def _post(url: str, body: dict[str, Any], timeout: float = TIMEOUT) -> dict[str, Any]:
    body = {"transaction": secrets.token_hex(6), **body}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - a configured URL
            answer = json.loads(response.read() or b"{}")
    except (OSError, ValueError, urllib.error.URLError) as exc:
        raise JanusError(f"Janus is unreachable: {exc}") from exc
    if answer.get("janus") == "error":
        error = answer.get("error", {})
        raise JanusError(error.get("reason", "Janus refused the request."), error.get("code"))
    return answer


@dataclass
class Janus:
    """One Janus server: ``url`` its Janus API, ``admin_url`` its admin API."""

    url: str
    admin_url: str
    admin_secret: str
    room_admin_key: str
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _handle: tuple[int, int] | None = field(default=None, repr=False)
    _token: str | None = field(default=None, repr=False)

    # --- the admin API ----------------------------------------------------------------------------

    def admin(self, request: str, **fields: Any) -> dict[str, Any]:
        return _post(self.admin_url, {"janus": request, "admin_secret": self.admin_secret, **fields})

    def add_token(self, token: str) -> None:
        self.admin("add_token", token=token, plugins=[PLUGIN])

    def remove_token(self, token: str) -> None:
        try:
            self.admin("remove_token", token=token)
        except JanusError as exc:
            if exc.code != 470:  # not a known token (already removed): nothing to do
                raise

    def handle_info(self, session: int, handle: int) -> dict[str, Any]:
        """What Janus knows of a handle (its plugin's view included: a publisher's room, feed and streams)."""
        return _post(f"{self.admin_url}/{session}/{handle}", {"janus": "handle_info",
                                                              "admin_secret": self.admin_secret}).get("info", {})

    def ping(self) -> bool:
        try:
            self.admin("ping")
        except JanusError:
            return False
        return True

    # --- the app's own VideoRoom handle -----------------------------------------------------------

    def _open(self) -> tuple[int, int]:
        if self._token is None:
            self._token = "app-" + secrets.token_urlsafe(24)
            self.add_token(self._token)
        session = _post(self.url, {"janus": "create", "token": self._token})["data"]["id"]
        handle = _post(f"{self.url}/{session}", {"janus": "attach", "plugin": PLUGIN,
                                                  "token": self._token})["data"]["id"]
        return session, handle

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        """A synchronous VideoRoom request (create, destroy, allowed, kick, moderate, listparticipants)."""
        for attempt in (1, 2):
            with self._lock:
                if self._handle is None:
                    self._handle = self._open()
                session, handle = self._handle
            try:
                answer = _post(f"{self.url}/{session}/{handle}", {"janus": "message", "body": body,
                                                                  "token": self._token})
            except JanusError as exc:
                # Janus restarted (sessions and tokens lost) or the session timed out: open a new one once.
                if attempt == 1 and exc.code in (403, 458, 459, 460):
                    with self._lock:
                        self._handle = None
                        if exc.code == 403:
                            self._token = None
                    continue
                raise
            data = answer.get("plugindata", {}).get("data", {})
            if data.get("error"):
                raise JanusError(data["error"], data.get("error_code"))
            return data
        raise JanusError("Janus did not answer.")  # pragma: no cover

    def keepalive(self) -> None:
        if self._handle is not None:
            try:
                _post(f"{self.url}/{self._handle[0]}", {"janus": "keepalive", "token": self._token})
            except JanusError:
                with self._lock:
                    self._handle = None

    # --- rooms ------------------------------------------------------------------------------------

    def exists(self, room: int) -> bool:
        return bool(self.request({"request": "exists", "room": room}).get("exists"))

    def create_room(self, room: int, secret: str, description: str, publishers: int) -> None:
        try:
            self.request({"request": "create", "room": room, "admin_key": self.room_admin_key, "secret": secret,
                          "description": description[:100], "publishers": publishers, "is_private": True,
                          "permanent": False, "allowed": [], "audiolevel_event": True,
                          "audio_active_packets": 50, "audio_level_average": 40, "audiolevel_ext": True,
                          "bitrate": 512000, "fir_freq": 10, "notify_joining": True, "require_pvtid": True,
                          "record": False, "lock_record": True, "audiocodec": "opus", "videocodec": "vp8"})
        except JanusError as exc:
            if exc.code != 427:  # the room exists already
                raise

    def destroy_room(self, room: int, secret: str) -> None:
        try:
            self.request({"request": "destroy", "room": room, "secret": secret})
        except JanusError as exc:
            if exc.code != 426:  # no such room
                raise

    def allow(self, room: int, secret: str, tokens: list[str], add: bool = True) -> None:
        self.request({"request": "allowed", "room": room, "secret": secret, "action": "add" if add else "remove",
                      "allowed": tokens})

    def participants(self, room: int) -> list[dict[str, Any]]:
        return self.request({"request": "listparticipants", "room": room}).get("participants", [])

    def kick(self, room: int, secret: str, feed: int) -> None:
        try:
            self.request({"request": "kick", "room": room, "secret": secret, "id": feed})
        except JanusError as exc:
            if exc.code not in (426, 428):  # no such room, no such feed: gone already
                raise

    def moderate(self, room: int, secret: str, feed: int, mid: str, mute: bool) -> None:
        self.request({"request": "moderate", "room": room, "secret": secret, "id": feed, "mid": mid,
                      "mute": mute})
