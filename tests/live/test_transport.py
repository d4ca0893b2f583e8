"""The shared-frame WebSocket and the untimed packet queue (ecabinet/live/transport.py).

Every broadcast test over real sockets goes through them (tests/live, tests/voting); these check what
those cannot see: the bytes are exactly those wsproto would have sent on each socket, whatever the
message's length or script, a writer's wait ends with a packet, not with a timer, and a packet encodes
as python-socketio's own would, bytes and all."""

from __future__ import annotations

import gevent
import gevent.queue
import pytest
from socketio.packet import ACK, EVENT, Packet
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

from ecabinet.core.schemas import PayloadJSON
from ecabinet.live.transport import TextFirstPacket, _Frames, queue_class


def _server_connection() -> WSConnection:
    """A server-side wsproto connection after a plain handshake (no extension), as simple-websocket has."""
    client, server = WSConnection(ConnectionType.CLIENT), WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(Request(host="example.gov.vn", target="/socket.io/")))
    next(server.events())
    client.receive_data(server.send(AcceptConnection()))
    return server


@pytest.mark.parametrize("text", [
    "42",
    '42["agenda.current_item",{"meeting_id":1,"seq":7,"item_id":3}]',
    "42" + '["chat","' + "Thủ tướng đề nghị các bộ trưởng cho ý kiến. " * 5 + '"]',  # 126..65535 bytes
    "4" + "x" * 70_000,  # beyond 65,535 bytes: the 8-byte length
])
def test_a_shared_frame_is_what_wsproto_sends_on_each_socket(text):
    assert _Frames().frame(text) == _server_connection().send(TextMessage(data=text))


def test_frames_of_recent_messages_are_reused_and_older_ones_forgotten():
    frames = _Frames()
    first = frames.frame("42[1]")
    assert frames.frame("42[1]") is first
    for n in range(2, 20):
        frames.frame(f"42[{n}]")
    assert frames.frame("42[1]") is not first and frames.frame("42[1]") == first


def test_a_writer_waits_for_its_next_packet_without_a_timer():
    packets = queue_class(gevent.queue.JoinableQueue)()
    gevent.spawn_later(0.05, packets.put, "3")

    assert packets.get(timeout=0.001) == "3"  # the timeout is not armed: the packet ends the wait
    with pytest.raises(gevent.queue.Empty):
        packets.get(block=False)


def test_writers_on_threads_share_the_frames_without_tripping_over_each_other():
    """In threading mode each socket's writer is a thread: many building and evicting at once."""
    import threading

    frames, failures = _Frames(), []
    expected = {f"42[{k}]": _server_connection().send(TextMessage(data=f"42[{k}]")) for k in range(40)}

    def write(n: int) -> None:
        try:
            for i in range(2000):
                text = f"42[{(n * 7 + i) % 40}]"
                assert frames.frame(text) == expected[text]
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            failures.append(exc)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    assert failures == []


class _LibraryPacket(Packet):
    json = PayloadJSON


class _AppPacket(TextFirstPacket):
    json = PayloadJSON


@pytest.mark.parametrize("kind", [EVENT, ACK])
@pytest.mark.parametrize("data", [
    ["agenda.current_item", {"meeting_id": 1, "seq": 7, "items": [{"id": 3, "title": "Nghị định"}]}],
    ["snapshot", {"deep": [[[[{"x": None, "y": 1.5, "z": True}]]]]}],
    ["attachment", {"name": "a.pdf", "bytes": b"%PDF-1.7\x00\xff"}],  # bytes: the binary form
    ["two", [b"one", bytearray(b"two")]],
])
def test_a_packet_encodes_as_the_librarys_own_does(kind, data):
    mine = _AppPacket(kind, data=data, namespace="/", id=12 if kind == ACK else None)
    theirs = _LibraryPacket(kind, data=data, namespace="/", id=12 if kind == ACK else None)
    assert mine.encode() == theirs.encode()
    assert mine.packet_type == theirs.packet_type


def test_a_payload_json_cannot_encode_is_still_an_error():
    with pytest.raises(TypeError):
        _AppPacket(EVENT, data=["when", {"at": object()}]).encode()
