"""The shared-frame WebSocket and the untimed packet queue (ecabinet/live/transport.py).

Every broadcast test over real sockets goes through them (tests/live, tests/voting); these check what
those cannot see: the bytes are exactly those wsproto would have sent on each socket, whatever the
message's length or script, a writer's wait ends with a packet, not with a timer, and a packet encodes
as python-socketio's own would, bytes and all."""

from __future__ import annotations

import gevent
import gevent.lock
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


def _slow_pair():
    """A connected pair of gevent sockets whose sender's kernel buffer is small, as a tablet's on a slow
    network fills."""
    import socket as std_socket

    import gevent.socket

    sender, receiver = gevent.socket.socketpair()
    sender.setsockopt(std_socket.SOL_SOCKET, std_socket.SO_SNDBUF, 4096)
    receiver.setsockopt(std_socket.SOL_SOCKET, std_socket.SO_RCVBUF, 4096)
    return sender, receiver


def _read_slowly(receiver, size: int) -> bytes:
    got = bytearray()
    while len(got) < size:
        gevent.sleep(0.001)  # a slow reader: the sender's buffer stays full
        chunk = receiver.recv(8192)
        if not chunk:
            break
        got += chunk
    return bytes(got)


def test_a_plain_send_on_a_full_buffer_takes_only_part_of_a_frame():
    """Why WholeFrameSocket exists: under gevent one ``send`` of a large frame returns early."""
    sender, receiver = _slow_pair()
    frame = _Frames().frame("42" + "x" * 1_000_000)
    reader = gevent.spawn(_read_slowly, receiver, 1)
    assert sender.send(frame) < len(frame)
    reader.kill()
    sender.close(), receiver.close()


def test_a_large_frame_to_a_slow_reader_arrives_whole_and_frames_never_interleave():
    from ecabinet.live.transport import WholeFrameSocket

    sender, receiver = _slow_pair()
    # The server's threading lock is gevent's (the worker patches threading); this process is not patched.
    whole = WholeFrameSocket(sender, lock=gevent.lock.Semaphore())
    snapshot = _Frames().frame("42" + '["snapshot",' + '"Bộ Tài chính",' * 60_000 + "0]")
    ping = _Frames().frame("2")
    reader = gevent.spawn(_read_slowly, receiver, len(snapshot) + len(ping))

    first = gevent.spawn(whole.send, snapshot)
    second = gevent.spawn_later(0.001, whole.send, ping)  # another sender while the first waits
    gevent.joinall([first, second], timeout=30)

    assert first.value == len(snapshot) and second.value == len(ping)
    assert reader.get(timeout=30) == snapshot + ping
    sender.close(), receiver.close()


def test_the_engineio_websocket_sends_through_a_whole_frame_socket():
    from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

    from ecabinet.live.transport import WholeFrameSocket, websocket_class

    class Connection:
        sock = object()

    ws = websocket_class(SimpleWebSocketWSGI)(handler=None, server=None)
    ws.ws = connection = Connection()
    assert isinstance(connection.sock, WholeFrameSocket) and ws.ws is connection


class _Owner:
    """The part of an Engine.IO socket the WebSocket connection and its queue see."""

    def __init__(self, upgraded: bool = True) -> None:
        self.upgraded, self.upgrading = upgraded, False
        self.queue = queue_class(gevent.queue.JoinableQueue)()

    def handler(self, ws) -> None:  # noqa: ANN001 - Engine.IO's _websocket_handler
        pass


def _direct_pair(upgraded: bool = True, small_buffers: bool = False):
    """A socket's queue, its writer (as Engine.IO's, counting what it sends) and the tablet's end."""
    import gevent.socket
    from wsproto.connection import ConnectionState

    from ecabinet.live.transport import websocket_class

    sender, receiver = _slow_pair() if small_buffers else gevent.socket.socketpair()

    class Connection:
        connected = True

        class ws:  # noqa: N801 - simple-websocket's wsproto connection
            state = ConnectionState.OPEN

    Connection.sock = sender
    owner = _Owner(upgraded)
    from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

    ws = websocket_class(SimpleWebSocketWSGI)(handler=owner.handler, server=None)
    ws._plain = True
    ws.ws = Connection()
    written = []

    def writer() -> None:
        while True:
            pkt = owner.queue.get()
            if pkt is None:
                return
            written.append(pkt)
            ws.send(pkt.encode())

    return owner, ws, gevent.spawn(writer), written, receiver


def _message(text: str):
    from engineio.packet import MESSAGE
    from engineio.packet import Packet as EnginePacket

    return EnginePacket(MESSAGE, text)


def test_a_packet_for_a_waiting_writer_leaves_at_once_from_the_broadcaster():
    """The writer is not woken: the bytes are on the wire before the broadcaster yields."""
    owner, _ws, writer, written, receiver = _direct_pair()
    gevent.sleep(0)  # the writer waits for its first packet
    assert owner.queue.direct is not None

    owner.queue.put(_message('2["agenda.current_item",{"seq":8}]'))
    receiver.setblocking(False)
    assert receiver.recv(4096) == _Frames().frame('42["agenda.current_item",{"seq":8}]')
    assert written == [] and owner.queue.qsize() == 0

    owner.queue.put(None)
    writer.join(timeout=5)


def test_before_the_upgrade_from_polling_packets_wait_in_the_queue():
    owner, _ws, writer, written, receiver = _direct_pair(upgraded=False)
    gevent.sleep(0)
    owner.queue.put(_message("2[1]"))
    gevent.sleep(0.01)
    assert [p.data for p in written] == ["2[1]"]  # the writer sent it, not the broadcaster
    owner.queue.put(None)
    writer.join(timeout=5)


def test_what_a_slow_tablet_does_not_take_at_once_follows_whole_and_first():
    """A large frame to a full buffer: the rest goes through the writer, before the next packet, and a
    ping answered meanwhile by the reading side never lands inside it."""
    owner, ws, writer, written, receiver = _direct_pair(small_buffers=True)
    gevent.sleep(0)
    snapshot = '2["snapshot",' + '"Bộ Tài chính",' * 30_000 + "0]"
    after = '2["agenda.current_item",{"seq":9}]'
    frames = _Frames()
    expected_snapshot, expected_after, ping = frames.frame("4" + snapshot), frames.frame("4" + after), frames.frame("2")
    reader = gevent.spawn(_read_slowly, receiver, len(expected_snapshot) + len(expected_after) + len(ping))

    owner.queue.put(_message(snapshot))  # the kernel takes part; the writer has the rest
    assert len(written) == 0 and owner.queue.qsize() == 1
    owner.queue.put(_message(after))  # behind the rest, in the queue
    pong = gevent.spawn(ws.ws.sock.send, ping)  # another sender on the connection, as the reader's pong
    got = reader.get(timeout=30)

    assert got.startswith(expected_snapshot)
    assert got[len(expected_snapshot):] in (expected_after + ping, ping + expected_after)
    assert pong.get(timeout=5) == len(ping)
    owner.queue.put(None)
    writer.join(timeout=5)


def test_a_socket_under_tls_is_never_written_around_its_encryption():
    import gevent.socket
    import gevent.ssl

    from ecabinet.live.transport import WholeFrameSocket

    plain, other = gevent.socket.socketpair()
    assert WholeFrameSocket(plain)._raw is not None
    assert issubclass(gevent.ssl.SSLSocket, gevent.socket.socket)  # why the check is on the exact type
    tls = gevent.ssl.SSLSocket.__new__(gevent.ssl.SSLSocket)
    assert WholeFrameSocket(tls, lock=gevent.lock.Semaphore())._raw is None
    plain.close(), other.close()
