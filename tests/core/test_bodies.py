"""A large request body is read with the event loop let in between pieces (ecabinet/core/bodies.py)."""

from __future__ import annotations

import io

import gevent
import pytest

from ecabinet.core.bodies import PIECE, CooperativeBodies, CooperativeInput


@pytest.fixture
def cooperative_sleep(monkeypatch):
    """The worker's ``time.sleep`` is gevent's (it patches the process); this test process is not
    patched. Counts the turns given to the loop."""
    import time

    turns = []

    def sleep(seconds: float) -> None:
        turns.append(seconds)
        gevent.sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    return turns


def _read_all(stream) -> bytes:  # noqa: ANN001
    out = bytearray()
    while chunk := stream.read(65536):
        out += chunk
    return bytes(out)


def test_a_body_already_arrived_is_read_whole_with_the_loop_let_in(cooperative_sleep):
    body = bytes(range(256)) * (40 * 1024)  # 10 MiB, all of it there at once
    progress = {"read": 0}
    seen_at = []

    class Counting(io.BytesIO):
        def read(self, *args):  # noqa: ANN001, ANN202
            data = super().read(*args)
            progress["read"] += len(data)
            return data

    other = gevent.spawn(lambda: seen_at.append(progress["read"]))  # another socket's turn
    data = _read_all(CooperativeInput(Counting(body)))

    assert data == body
    assert len(cooperative_sleep) == len(body) // PIECE
    assert seen_at and seen_at[0] <= PIECE  # it ran after the first piece, not after the whole body
    other.join()

    plain = gevent.spawn(lambda: seen_at.append("plain"))
    progress["read"] = 0
    assert _read_all(Counting(body)) == body and not plain.dead  # unwrapped: nothing else ran meanwhile
    plain.join()


def test_lines_and_iteration_pass_through_unchanged(cooperative_sleep):
    text = b"".join(b"line %d\r\n" % n for n in range(100_000))
    assert b"".join(CooperativeInput(io.BytesIO(text))) == text
    assert CooperativeInput(io.BytesIO(text)).readlines() == io.BytesIO(text).readlines()
    stream = CooperativeInput(io.BytesIO(text))
    assert stream.readline() == b"line 0\r\n" and stream.readline(4) == b"line"
    assert stream.tell() == 12  # what the wrapper does not define is the stream's own


@pytest.mark.parametrize(("headers", "wrapped"), [
    ({"CONTENT_LENGTH": str(PIECE + 1)}, True),
    ({"HTTP_TRANSFER_ENCODING": "chunked"}, True),
    ({"CONTENT_LENGTH": str(PIECE)}, False),
    ({"CONTENT_LENGTH": ""}, False),
    ({"CONTENT_LENGTH": "-5"}, False),
    ({}, False),
])
def test_only_a_body_longer_than_a_piece_is_wrapped(headers, wrapped):
    seen = {}

    def app(environ, start_response):  # noqa: ANN001
        seen["input"] = environ["wsgi.input"]
        return [b""]

    stream = io.BytesIO(b"x")
    CooperativeBodies(app)({"wsgi.input": stream, **headers}, lambda *a: None)
    assert isinstance(seen["input"], CooperativeInput) is wrapped
