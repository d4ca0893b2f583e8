"""The WebSocket and packet queue under Engine.IO, made cheaper for broadcasts (docs/realtime.md,
"Broadcast cost"): shared frames, a queue without a timer per wait (``queue_class``) whose packets go
straight to the socket while its writer is idle, and packets that do not search their payload for bytes
(``TextFirstPacket``); and frames that always go out whole (``WholeFrameSocket``).

A chair action goes to every tablet of the meeting as the same text. python-socketio encodes the
packet once, but Engine.IO's writer for each socket then frames it again through wsproto: with 2,000
tablets that is 2,000 identical frames built one by one, about a fifth of the worker's CPU for one
broadcast (profiled with ``bench/live_load.py --profile``). Here each socket's writer looks the frame up
among the last few built and sends those bytes (all of them, see ``WholeFrameSocket``); the frame is
built by wsproto's own ``FrameProtocol``, never by hand.

Only for sockets with no WebSocket extension: with permessage-deflate each socket's frames depend on its
own compressor. ``live.guard.NoWebSocketCompression`` removes the offer before this class sees the
request, so in practice every socket qualifies; one with an extension takes the library's path.
"""

from __future__ import annotations

import threading
from typing import Any

import gevent.lock
import gevent.socket
from socketio.packet import ACK, BINARY_ACK, BINARY_EVENT, EVENT, Packet
from wsproto.connection import ConnectionState
from wsproto.frame_protocol import FrameProtocol

# A broadcast's writers run one after the other, so the frame they share is nearly always the last one
# built; a few more cover pings and acknowledgements sent in between.
_CACHED_FRAMES = 8


class _Frames:
    """Server-to-client text frames (unmasked, unfragmented), by message text."""

    def __init__(self) -> None:
        self._frames: dict[str, bytes] = {}
        self._protocol = FrameProtocol(client=False, extensions=[])
        self._lock = threading.Lock()

    def frame(self, text: str) -> bytes:
        found = self._frames.get(text)
        if found is None:
            # Writers are threads in threading mode: the eviction must not race another writer's.
            with self._lock:
                found = self._frames.get(text)
                if found is None:
                    found = bytes(self._protocol.send_data(text, True))
                    if len(self._frames) >= _CACHED_FRAMES:
                        del self._frames[next(iter(self._frames))]
                    self._frames[text] = found
        return found


_frames = _Frames()


class WholeFrameSocket:
    """A WebSocket connection's socket as simple-websocket sees it: each send goes out whole, one at a time.

    simple-websocket (1.1.0) writes each frame with a single ``socket.send``. Under gevent the socket is
    non-blocking underneath, so when the kernel's buffer is full that send takes only part of the frame
    and the rest is dropped (simple-websocket issue #45): a tablet on slow Wi-Fi receiving a meeting's
    snapshot would read a cut frame followed by the next one's bytes, and lose its connection. Here a
    send is a ``sendall``, under a lock, so no frame is cut and two senders on one connection (the packet
    writer, and the reading thread answering a ping) never interleave their bytes."""

    def __init__(self, sock: Any, lock: Any = None) -> None:
        self._sock = sock
        # A gevent socket's senders are greenlets: a gevent lock, which one greenlet may take and another
        # release (``send_now`` and ``send_rest``). Under threading, a thread's lock.
        if lock is None:
            lock = gevent.lock.BoundedSemaphore() if isinstance(sock, gevent.socket.socket) else threading.Lock()
        self._lock = lock
        # The kernel's socket under a plain gevent one, for a send that never waits (``send_now``). Not
        # under TLS (a subclass): those bytes must go through the encryption.
        self._raw = getattr(sock, "_sock", None) if type(sock) is gevent.socket.socket else None

    def send(self, data: bytes, flags: int = 0) -> int:
        with self._lock:
            self._sock.sendall(data, flags)
        return len(data)

    def send_now(self, data: bytes) -> int | None:
        """Send what the kernel takes at once, without waiting for it: the number of bytes taken, or None
        when nothing could be tried (another send is under way, the socket is not a plain one, or it
        failed; the next ``send`` meets the failure). When only part was taken the connection stays
        locked for its rest, which ``send_rest`` must send next, from whichever greenlet."""
        if self._raw is None or not self._lock.acquire(blocking=False):
            return None
        try:
            sent = self._raw.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._lock.release()
            return None
        if sent >= len(data):
            self._lock.release()
        return sent

    def send_rest(self, rest: bytes) -> None:
        """The rest of a frame ``send_now`` began; releases the connection it left locked."""
        try:
            self._sock.sendall(rest)
        finally:
            self._lock.release()

    def __getattr__(self, name: str) -> Any:  # recv, fileno, close...: the socket's own
        return getattr(self._sock, name)


def websocket_class(base: type) -> type:
    """Engine.IO's WebSocket wrapper for the async mode in use (``server.eio._async['websocket']``),
    sending shared frames where it may, and every frame whole (``WholeFrameSocket``)."""

    class SharedFrameWebSocket(base):  # type: ignore[misc, valid-type]
        # The base class makes its simple-websocket connection (``self.ws``) and hands it to Engine.IO at
        # once; its socket is wrapped as it is set, before Engine.IO sends anything on it.
        @property
        def ws(self) -> Any:
            return self.__dict__.get("_ws")

        @ws.setter
        def ws(self, connection: Any) -> None:
            if connection is not None and not isinstance(getattr(connection, "sock", None), WholeFrameSocket):
                connection.sock = WholeFrameSocket(connection.sock)
            self.__dict__["_ws"] = connection
            # The Engine.IO socket this connection serves (the handler is its bound method): its queue may
            # hand packets straight to this connection (``queue_class``).
            owner = getattr(getattr(self, "app", None), "__self__", None)
            if connection is not None and isinstance(getattr(owner, "queue", None), _DirectQueue):
                owner.queue.direct = self

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            # Read before the handshake: the extensions the client offers (the guard removed them).
            self._plain = not environ.get("HTTP_SEC_WEBSOCKET_EXTENSIONS")
            return super().__call__(environ, start_response)

        def _open_plain(self) -> Any:
            ws = getattr(self, "ws", None)
            if (not getattr(self, "_plain", False) or ws is None or not ws.connected
                    or ws.ws.state is not ConnectionState.OPEN):
                return None
            return ws

        def send(self, message: Any) -> Any:
            if type(message) is _RestOfFrame:
                self.ws.sock.send_rest(message)  # before anything else: the connection is locked for it
                return None
            ws = self._open_plain() if isinstance(message, str) else None
            if ws is None:
                return super().send(message)
            ws.sock.send(_frames.frame(message))  # whole; an OSError ends the writer, as the base class's does
            return None

        def send_now(self, packet: Any) -> Any:
            """Send an Engine.IO packet from the caller's greenlet, its writer being idle: None when it all
            went, else what the writer must send (the packet, or the rest of its frame)."""
            owner = getattr(self.app, "__self__", None)
            ws = self._open_plain()
            if ws is None or owner is None or not owner.upgraded or owner.upgrading:
                return packet  # before or during an upgrade from polling the queue is not the writer's
            text = packet.encode()
            if not isinstance(text, str):
                return packet
            frame = _frames.frame(text)
            sent = ws.sock.send_now(frame)
            if sent is None:
                return packet
            return None if sent >= len(frame) else _RestOfFrame(frame[sent:])

    return SharedFrameWebSocket


class _RestOfFrame(bytes):
    """What the kernel did not take of a frame sent at once: the writer sends it, as it were a packet."""

    def encode(self) -> bytes:
        return self


class _DirectQueue:
    """Marks the queues whose packets may skip the writer (``queue_class``)."""


def queue_class(base: type) -> type:
    """gevent's queue for each socket's packets, without a timer per wait, and with no wait at all when
    the socket's writer is idle.

    Engine.IO's writer waits for the next packet with a timeout (ping interval plus ping timeout), and
    gevent arms and disarms a timer for each such wait: one per tablet per broadcast, a tenth of the
    worker's CPU in a broadcast. The timeout is not needed for the writer to end: Engine.IO puts ``None``
    into the queue whenever a socket closes, and its service task closes a socket whose pings go
    unanswered. So a blocking get here waits for that, not for a timer.

    A packet put into the queue of a writer that waits, with nothing before it, is sent there and then
    by the WebSocket connection (``send_now``), in the greenlet that puts it: the same bytes, in the
    same order, one system call, without waking the writer (a switch to it and back, the queue's hand
    over, for each tablet of a broadcast). What the kernel does not take at once goes to the writer as
    before, so a tablet slow to read never holds the broadcast up."""

    class UntimedQueue(base, _DirectQueue):  # type: ignore[misc, valid-type]
        direct: Any = None  # the socket's WebSocket connection, once it has one
        _writer_waits = False

        def get(self, block: bool = True, timeout: float | None = None) -> Any:
            if not block:
                return super().get(False, timeout)
            self._writer_waits = True
            try:
                return super().get(True, None)
            finally:
                self._writer_waits = False

        def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
            # Waiting with an empty queue, the writer has sent all it took: nothing can overtake.
            if self._writer_waits and self.direct is not None and item is not None and not self.qsize():
                item = self.direct.send_now(item)
                if item is None:
                    return
            super().put(item, block, timeout)

    return UntimedQueue


class TextFirstPacket(Packet):
    """A Socket.IO packet that is encoded as text unless its payload turns out to hold bytes.

    python-socketio's packet walks its whole payload when it is made, looking for bytes (which would go
    as binary attachments), and the walk builds a list at every level: for a join's answer, the meeting's
    snapshot, it was about a sixth of the worker's CPU while 2,000 tablets joined, and nothing the app
    sends holds bytes. Here the payload is encoded as JSON at once, and only when that fails on bytes does
    the packet take the library's binary form, so a payload with bytes still arrives as it would have."""

    uses_binary_events = False  # no walk when the packet is made

    def encode(self) -> Any:
        try:
            return super().encode()
        except TypeError:
            if self.packet_type not in (EVENT, ACK) or not Packet.data_is_binary(self.data):
                raise
            self.packet_type = BINARY_EVENT if self.packet_type == EVENT else BINARY_ACK
            return super().encode()


def install(server: Any) -> None:
    """Give a Socket.IO server's Engine.IO the shared-frame WebSocket (gevent and threading modes) and,
    under gevent, the untimed packet queue."""
    eio = getattr(server, "eio", None)
    modes = getattr(eio, "_async", None)
    if not modes or modes.get("_ecabinet_transport"):
        return
    modes = {**modes, "_ecabinet_transport": True}
    if modes.get("websocket") is not None:
        modes["websocket"] = websocket_class(modes["websocket"])
    if getattr(modes.get("queue"), "__module__", "").startswith("gevent"):
        modes["queue"] = queue_class(modes["queue"])
    eio._async = modes
