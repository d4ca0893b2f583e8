"""Request bodies read a piece at a time, with the instance's other work let in between.

Under gevent a read from the client's socket waits cooperatively only when no bytes are there yet. A
large upload sent quickly (a tablet on the ministry's network, a script on the same machine) is nearly
all there already, so parsing its multipart body read 75 MB without ever giving the event loop a turn:
every socket and request of the instance stopped for a quarter of a second
(bench/bench_upload_responsiveness.py). ``CooperativeBodies`` wraps the body of every request larger
than a piece, and the body yields to the loop after each piece read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

PIECE = 256 * 1024


class CooperativeInput:
    """``wsgi.input`` that yields to the event loop after every ``PIECE`` bytes read (``time.sleep(0)``
    is gevent's under its worker; elsewhere it returns at once)."""

    def __init__(self, stream: Any, piece: int = PIECE) -> None:
        self._stream = stream
        self._piece = piece
        self._unyielded = 0

    def _count(self, data: bytes) -> bytes:
        self._unyielded += len(data)
        if self._unyielded >= self._piece:
            self._unyielded = 0
            time.sleep(0)
        return data

    def read(self, *args: Any) -> bytes:
        return self._count(self._stream.read(*args))

    def readline(self, *args: Any) -> bytes:
        return self._count(self._stream.readline(*args))

    def readlines(self, *args: Any) -> list[bytes]:
        lines = self._stream.readlines(*args)
        for line in lines:
            self._count(line)
        return lines

    def __iter__(self) -> Iterator[bytes]:
        for line in self._stream:
            yield self._count(line)

    def __getattr__(self, name: str) -> Any:  # anything else the server's stream offers, as it is
        return getattr(self._stream, name)


class CooperativeBodies:
    """WSGI middleware: a request whose body is longer than a piece, or sent in chunks (its length
    unknown), reads it through ``CooperativeInput``."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if (chunked or (length.isdigit() and int(length) > PIECE)) and "wsgi.input" in environ:
            environ["wsgi.input"] = CooperativeInput(environ["wsgi.input"])
        return self.wsgi_app(environ, start_response)
