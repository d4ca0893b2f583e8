"""The Socket.IO WebSocket declines permessage-deflate, which browsers and socket.io-client offer: a
compressor per socket cost 130-165 KB of worker memory per tablet (docs/realtime.md, "Compression")."""

from __future__ import annotations

import base64
import os
import socket
from urllib.parse import urlsplit

from tests.conftest import PASSWORD
from tests.helpers import cookie_header, http_login


def _upgrade(base_url: str, cookie: str, offer: str | None) -> str:
    parts = urlsplit(base_url)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET /socket.io/?EIO=4&transport=websocket HTTP/1.1", f"Host: {parts.netloc}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
             f"Origin: {base_url}", f"Cookie: {cookie}"]
    if offer:
        lines.append(f"Sec-WebSocket-Extensions: {offer}")
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")


def test_the_websocket_upgrade_declines_compression(users, live_server):
    cookie = cookie_header(http_login(live_server.url, users["member"].email, PASSWORD))
    head = _upgrade(live_server.url, cookie, "permessage-deflate; client_max_window_bits")
    assert head.startswith("HTTP/1.1 101"), head
    assert "sec-websocket-extensions" not in head.lower(), head
