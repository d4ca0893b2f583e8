"""A lean Socket.IO client for the load benchmarks: the real protocol over a real socket, at little CPU.

Why: the benchmarks run 2,000 clients in one process on the same 2 cores as the server. python-socketio's
``AsyncClient`` (on aiohttp) spends 120-150 µs of this process's CPU on each message it receives, so one
broadcast to 2,000 clients kept the load tool busy for 250-300 ms: the measurement measured the load
tool. A tablet is its own device. This client speaks the same protocol to the same server (Engine.IO 4
over a WebSocket, Socket.IO 5 packets, acknowledgements, the server's pings) but parses frames itself
in an ``asyncio.Protocol`` and decodes only the events a benchmark asked for.

Not a general client: one connection to the default namespace, text frames only (no binary
attachments, no per-message compression, which it does not offer), no reconnection. The real client
stays available in the benchmarks (``--client python-socketio``) to compare the two.

    sock = LeanSocket()
    sock.on("event", handler)            # handler(data) for 42["event", data]
    await sock.connect("http://127.0.0.1:5000", headers={"Origin": ..., "Cookie": ...})
    ack = await sock.call("join", {...}, timeout=30)
    await sock.disconnect()
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

HandshakeError = ConnectionError

_MAX_HEADER = 64 * 1024


class LeanSocket(asyncio.Protocol):
    """One Socket.IO connection; the subset of ``socketio.AsyncClient`` the benchmarks use."""

    def __init__(self) -> None:
        self.handlers: dict[str, Callable[..., Any]] = {}
        # Event names as their frames begin: '42["name"' (plain) — checked before any JSON is decoded.
        self._prefixes: dict[bytes, str] = {}
        self.transport: asyncio.Transport | None = None
        self.connected = False
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._handshake: asyncio.Future[bytes] | None = None
        self._upgraded = False
        self._ns_connected: asyncio.Future[None] | None = None
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._next_ack = 0
        self._closed: asyncio.Future[None] | None = None

    # --- the API -----------------------------------------------------------------------------

    def on(self, event: str, handler: Callable[..., Any]) -> None:
        self.handlers[event] = handler
        if event not in ("connect", "disconnect"):
            self._prefixes[b'2["' + event.encode() + b'"'] = event

    async def connect(self, url: str, headers: dict[str, str] | None = None, timeout: float = 60) -> None:
        loop = asyncio.get_running_loop()
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        self._handshake = loop.create_future()
        self._ns_connected = loop.create_future()
        self._closed = loop.create_future()
        async with asyncio.timeout(timeout):
            await loop.create_connection(lambda: self, host, port)
            key = base64.b64encode(os.urandom(16)).decode()
            lines = ["GET /socket.io/?EIO=4&transport=websocket HTTP/1.1", f"Host: {host}:{port}",
                     "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                     "Sec-WebSocket-Version: 13"]
            lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
            assert self.transport is not None
            self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            status = await self._handshake
            first_line = status.split(b"\r\n", 1)[0]
            if b" 101 " not in first_line + b" ":
                raise HandshakeError(f"WebSocket upgrade refused: {first_line.decode(errors='replace')}")
            await self._ns_connected
        self.connected = True

    async def call(self, event: str, data: Any, timeout: float = 60) -> Any:
        ack_id = self._next_ack
        self._next_ack += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        self._send_text(f"42{ack_id}" + json.dumps([event, data], separators=(",", ":")))
        try:
            async with asyncio.timeout(timeout):
                return await future
        finally:
            self._acks.pop(ack_id, None)

    async def emit(self, event: str, data: Any) -> None:
        self._send_text("42" + json.dumps([event, data], separators=(",", ":")))

    async def disconnect(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self._send_text("41")
        self._send_frame(0x8, b"\x03\xe8")
        self.transport.close()

    # --- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        was = self.connected
        self.connected = False
        for future in (self._handshake, self._ns_connected):
            if future is not None and not future.done():
                future.set_exception(ConnectionError(f"connection closed: {exc}"))
        for future in self._acks.values():
            if not future.done():
                future.set_exception(ConnectionError("connection closed"))
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)
        handler = self.handlers.get("disconnect")
        if was and handler:
            handler("transport close" if exc is None else str(exc))

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if not self._upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > _MAX_HEADER and self._handshake and not self._handshake.done():
                    self._handshake.set_exception(HandshakeError("response headers too long"))
                return
            status = bytes(buffer[:end])
            del buffer[:end + 4]
            self._upgraded = True
            if self._handshake and not self._handshake.done():
                self._handshake.set_result(status)
            if b" 101 " not in status.split(b"\r\n", 1)[0] + b" ":
                return
        # Frames from the server are never masked (RFC 6455 5.1).
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            length = second & 0x7F
            offset = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length = struct.unpack_from("!H", buffer, 2)[0]
                offset = 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length = struct.unpack_from("!Q", buffer, 2)[0]
                offset = 10
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset:offset + length])
            del buffer[:offset + length]
            self._frame(first & 0x80, first & 0x0F, payload)

    # --- frames and packets ------------------------------------------------------------------------

    def _frame(self, fin: int, opcode: int, payload: bytes) -> None:
        if opcode == 0x0:  # continuation
            self._fragments.append(payload)
            if fin:
                message, self._fragments = b"".join(self._fragments), []
                self._packet(message)
        elif opcode == 0x1:
            if fin:
                self._packet(payload)
            else:
                self._fragments = [payload]
        elif opcode == 0x9:
            self._send_frame(0xA, payload)
        elif opcode == 0x8:
            if self.transport is not None:
                self.transport.close()

    def _packet(self, message: bytes) -> None:
        kind = message[:1]
        if kind == b"4":  # Engine.IO message: a Socket.IO packet
            body = message[1:]
            if body[:1] == b"2":
                for prefix, event in self._prefixes.items():
                    if body.startswith(prefix):
                        args = json.loads(body[1:])
                        self.handlers[event](*args[1:])
                        return
            elif body[:1] == b"3":  # an acknowledgement: 3<id>[...]
                bracket = body.find(b"[")
                future = self._acks.get(int(body[1:bracket]))
                if future is not None and not future.done():
                    values = json.loads(body[bracket:])
                    future.set_result(values[0] if len(values) == 1 else tuple(values))
            elif body[:1] == b"0":  # namespace connected
                if self._ns_connected is not None and not self._ns_connected.done():
                    self._ns_connected.set_result(None)
                handler = self.handlers.get("connect")
                if handler:
                    handler()
            elif body[:1] == b"4":  # namespace connection refused
                if self._ns_connected is not None and not self._ns_connected.done():
                    self._ns_connected.set_exception(ConnectionError(f"connection refused: {body[1:].decode()}"))
            elif body[:1] == b"1" and self.transport is not None:  # the server disconnected us
                self.transport.close()
        elif kind == b"2":  # Engine.IO ping: answer at once, or the server drops the socket
            self._send_text("3" + message[1:].decode())
        elif kind == b"0":  # Engine.IO open: now join the default namespace
            self._send_text("40")
        elif kind == b"1" and self.transport is not None:
            self.transport.close()

    def _send_text(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionError("not connected")
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        # Client frames must be masked (RFC 6455 5.3); XOR as one big integer, not byte by byte.
        mask = os.urandom(4)
        repeated = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big") if n else b""
        self.transport.write(header + mask + masked)
