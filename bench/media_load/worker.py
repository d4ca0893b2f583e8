"""One load generator process of bench/bench_media_load.py: aiortc participants of one Janus VideoRoom.

Run by bench_media_load.py (``python worker.py JANUS_URL TOKEN ROOM``) with the interpreter of its own
virtualenv (requirements.txt here: aiortc needs pyOpenSSL, which needs an older cryptography than the app
pins), so it imports nothing of the app. Commands arrive on stdin, one JSON line each; see ``serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import secrets
import struct
import sys
import time
from fractions import Fraction
from typing import Any

AUDIO_PACKETS_PER_S = 50
VIDEO_FPS = 30
VIDEO_SIZE = (640, 360)  # the Chromium pages' fake camera (bench/media_page/bench.js)
PUBLISH_BITRATE = 300000  # as bench/media_page/bench.js asks
SETUP_CONCURRENCY = 8  # negotiations in flight per worker


# --- media, encoded once ---------------------------------------------------------------------------

def encode_media() -> dict[str, list[bytes]]:
    """The replayed loops: ``audio`` 1 s of Opus packets (20 ms each), ``video`` 2 s of VP8 frames."""
    import av

    opus = av.CodecContext.create("libopus", "w")
    opus.sample_rate, opus.layout, opus.format, opus.bit_rate = 48000, "mono", "s16", 32000
    audio: list[bytes] = []
    for i in range(AUDIO_PACKETS_PER_S):
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        frame.sample_rate, frame.pts, frame.time_base = 48000, i * 960, Fraction(1, 48000)
        frame.planes[0].update(b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * (i * 960 + s)
                                                                                   / 48000))) for s in range(960)))
        audio += [bytes(p) for p in opus.encode(frame)]
    vp8 = av.CodecContext.create("libvpx", "w")
    vp8.width, vp8.height = VIDEO_SIZE
    vp8.pix_fmt, vp8.framerate, vp8.time_base = "yuv420p", Fraction(VIDEO_FPS), Fraction(1, VIDEO_FPS)
    vp8.bit_rate, vp8.gop_size = 250000, VIDEO_FPS
    vp8.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    ramp = bytes(range(256)) * 8
    video: list[bytes] = []
    for i in range(2 * VIDEO_FPS):  # a gradient scrolling 4 pixels a frame: every frame differs
        frame = av.VideoFrame(*VIDEO_SIZE, "yuv420p")
        for plane in frame.planes:
            plane.update(ramp[(i * 4) % 256:][:plane.line_size] * (plane.buffer_size // plane.line_size))
        frame.pts, frame.time_base = i, Fraction(1, VIDEO_FPS)
        video += [bytes(p) for p in vp8.encode(frame)]
    video += [bytes(p) for p in vp8.encode(None)]
    return {"audio": audio, "video": video}


def bytes_per_s(media: dict[str, list[bytes]], kind: str) -> float:
    """What one publisher of ``kind`` sends per second (RTP payload, before packetization's few bytes)."""
    loop_s = len(media[kind]) / (AUDIO_PACKETS_PER_S if kind == "audio" else VIDEO_FPS)
    return sum(map(len, media[kind])) / loop_s


# --- the worker processes: aiortc participants ---------------------------------------------------

def count(dtls: Any, data: bytes) -> None:  # noqa: ANN401 - an RTCDtlsTransport
    """One decrypted RTP packet: counted (packets, payload bytes) on its stream's receiver, by SSRC."""
    receiver = dtls._rtp_router.ssrc_table.get(int.from_bytes(data[8:12], "big"))  # noqa: SLF001
    if receiver is None:
        return
    header = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:  # header extensions
        header += 4 + 4 * int.from_bytes(data[header + 2:header + 4], "big")
    receiver.bench_packets = getattr(receiver, "bench_packets", 0) + 1
    receiver.bench_bytes = getattr(receiver, "bench_bytes", 0) + len(data) - header - (
        data[-1] if data[0] & 0x20 else 0)


def count_only() -> None:
    """Subscribers count each stream's RTP packets and payload bytes (after SRTP) by SSRC, as announced in
    Janus's offer, instead of parsing, buffering and decoding them, so the generator spends little on each
    packet: once a subscriber's connection is up (``fast_path``), its RTP is decrypted and counted as it
    arrives, without aioice's queue and aiortc's DTLS loop; RTCP, STUN and DTLS take aiortc's path."""
    import pylibsrtp
    from aioice import ice
    from aiortc.rtcdtlstransport import RTCDtlsTransport

    async def counted(self: Any, data: bytes, arrival_time_ms: int) -> None:  # noqa: ANN401, ARG001
        count(self, data)

    RTCDtlsTransport._handle_rtp_data = counted  # noqa: SLF001

    stun = ice.StunProtocol.datagram_received

    def datagram_received(self: Any, data: bytes, addr: tuple) -> None:  # noqa: ANN401
        if 127 < data[0] < 192:  # RTP or RTCP (STUN starts with 0 or 1, DTLS with 20 to 63)
            self.receiver.data_received(data, self.local_candidate.component)
        else:
            stun(self, data, addr)

    ice.StunProtocol.datagram_received = datagram_received

    def data_received(self: Any, data: bytes, component: int) -> None:  # noqa: ANN401
        dtls = getattr(self, "bench_dtls", None)
        if dtls is not None and 127 < data[0] < 192 and not 192 <= data[1] <= 208:  # RTP, not RTCP
            with contextlib.suppress(pylibsrtp.Error):
                count(dtls, dtls._rx_srtp.unprotect(data))  # noqa: SLF001
            return
        self._queue.put_nowait((data, component))  # noqa: SLF001

    ice.Connection.data_received = data_received


def fast_path(pc: Any) -> None:  # noqa: ANN401 - a connected RTCPeerConnection
    dtls = pc.getTransceivers()[0].receiver.transport
    dtls.transport._connection.bench_dtls = dtls  # noqa: SLF001


async def connected(pc: Any, what: str) -> None:  # noqa: ANN401 - an RTCPeerConnection
    for _ in range(300):  # ICE and DTLS done
        if pc.connectionState in ("connected", "failed", "closed"):
            break
        await asyncio.sleep(0.1)
    if pc.connectionState != "connected":
        raise RuntimeError(f"{what}: connection {pc.connectionState}")


class JanusClient:
    """One Janus session over HTTP (long poll for events), shared by a worker's handles."""

    def __init__(self, http: Any, url: str, token: str) -> None:  # noqa: ANN401 - aiohttp.ClientSession
        self.http, self.url, self.token = http, url, token
        self.session = 0
        self.waiting: dict[str, asyncio.Future] = {}
        self.poller: asyncio.Task | None = None

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {"transaction": body.pop("transaction", secrets.token_hex(6)), "token": self.token, **body}
        async with self.http.post(self.url + path, json=body) as response:
            answer = await response.json()
        if answer.get("janus") == "error":
            raise RuntimeError(f"Janus: {answer['error']}")
        return answer

    async def start(self) -> None:
        self.session = (await self.post("", {"janus": "create"}))["data"]["id"]
        self.poller = asyncio.create_task(self.poll())

    async def poll(self) -> None:
        while True:
            try:
                async with self.http.get(f"{self.url}/{self.session}",
                                         params={"maxev": "50", "token": self.token}) as response:
                    events = await response.json()
            except Exception:  # noqa: BLE001 - a failed poll (Janus busy, a timeout): poll again
                await asyncio.sleep(0.2)
                continue
            for event in events if isinstance(events, list) else [events]:
                waiter = self.waiting.pop(event.get("transaction", ""), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(event)

    async def attach(self) -> int:
        return (await self.post(f"/{self.session}", {"janus": "attach",
                                                     "plugin": "janus.plugin.videoroom"}))["data"]["id"]

    async def message(self, handle: int, body: dict[str, Any], jsep: dict | None = None) -> dict[str, Any]:
        """A VideoRoom request; its asynchronous event (the plugin's data and Janus's jsep, if any)."""
        transaction = secrets.token_hex(6)
        waiter = self.waiting[transaction] = asyncio.get_running_loop().create_future()
        request = {"janus": "message", "transaction": transaction, "body": body, **({"jsep": jsep} if jsep else {})}
        answer = await self.post(f"/{self.session}/{handle}", request)
        event = answer if answer.get("janus") == "success" else await asyncio.wait_for(waiter, 30)
        self.waiting.pop(transaction, None)
        data = event.get("plugindata", {}).get("data", {})
        if data.get("error"):
            raise RuntimeError(f"VideoRoom: {data['error']}")
        return {"data": data, "jsep": event.get("jsep")}


def replay_track(kind: str, loop: list[bytes]) -> Any:  # noqa: ANN401 - an aiortc MediaStreamTrack
    """A track that hands the sender pre-encoded packets at their real-time pace."""
    import av
    from aiortc import MediaStreamTrack

    per_s = AUDIO_PACKETS_PER_S if kind == "audio" else VIDEO_FPS
    step, time_base = (960, Fraction(1, 48000)) if kind == "audio" else (1, Fraction(1, VIDEO_FPS))

    class Replay(MediaStreamTrack):
        def __init__(self) -> None:
            super().__init__()
            self.kind = kind
            self.sent = 0
            self.started = 0.0

        async def recv(self) -> av.Packet:
            if not self.started:
                self.started = time.monotonic()
            delay = self.started + self.sent / per_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            packet = av.Packet(loop[self.sent % len(loop)])
            packet.pts, packet.time_base = self.sent * step, time_base
            self.sent += 1
            return packet

    return Replay()


def peer_connection() -> Any:  # noqa: ANN401 - an aiortc RTCPeerConnection
    from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection

    # No STUN (one machine). Max-bundle: with aiortc's default (balanced), a second video m-line in Janus's
    # offer keeps the first video's transport, which BUNDLE then discards, and never receives.
    return RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


class Participant:
    def __init__(self, janus: JanusClient, room: int, feed: int) -> None:
        self.janus, self.room, self.feed = janus, room, feed
        self.private_id = 0
        self.pcs: list[Any] = []
        self.subscriber: Any = None

    async def join(self, kinds: list[str], media: dict[str, list[bytes]]) -> None:
        """Join as publisher (for the private id); publish ``kinds`` if any."""
        from aiortc import RTCSessionDescription

        handle = await self.janus.attach()
        joined = await self.janus.message(handle, {"request": "join", "ptype": "publisher", "room": self.room,
                                                   "id": self.feed, "display": str(self.feed),
                                                   "token": self.janus.token})
        self.private_id = joined["data"]["private_id"]
        if not kinds:
            return
        pc = peer_connection()
        self.pcs.append(pc)
        for kind in kinds:
            pc.addTransceiver(replay_track(kind, media[kind]), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        answer = await self.janus.message(handle, {"request": "publish", "bitrate": PUBLISH_BITRATE},
                                          {"type": "offer", "sdp": pc.localDescription.sdp})
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["jsep"]["sdp"], type="answer"))
        await connected(pc, f"feed {self.feed}'s publisher")  # subscribers find a feed once its media is up

    async def subscribe(self, feeds: list[int]) -> None:
        """One subscriber connection for every feed in ``feeds``, as the meeting screen subscribes."""
        from aiortc import RTCSessionDescription

        if not feeds:
            return
        handle = await self.janus.attach()
        attached = await self.janus.message(handle, {
            "request": "join", "ptype": "subscriber", "room": self.room, "private_id": self.private_id,
            "streams": [{"feed": f} for f in feeds], "token": self.janus.token})
        pc = self.subscriber = peer_connection()
        self.pcs.append(pc)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=attached["jsep"]["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await self.janus.message(handle, {"request": "start", "room": self.room},
                                 {"type": "answer", "sdp": pc.localDescription.sdp})
        await connected(pc, f"feed {self.feed}'s subscriber")
        fast_path(pc)

    def received(self) -> list[list]:
        """[kind, packets, bytes] for each subscribed stream."""
        if self.subscriber is None:
            return []
        return [[t.kind, getattr(t.receiver, "bench_packets", 0), getattr(t.receiver, "bench_bytes", 0)]
                for t in self.subscriber.getTransceivers() if t.kind in ("audio", "video")]


async def limited(jobs: list, limit: int = SETUP_CONCURRENCY) -> None:
    gate = asyncio.Semaphore(limit)

    async def one(job: Any) -> None:  # noqa: ANN401 - a coroutine
        async with gate:
            await job

    await asyncio.gather(*(one(j) for j in jobs))


async def serve(janus_url: str, token: str, room: int) -> None:
    """The main process's commands, one JSON line each on stdin ([command, argument]); one JSON line on
    stdout answers each (["ok", reply] or ["error", why])."""
    import aiohttp

    media = encode_media()
    count_only()
    loop = asyncio.get_running_loop()
    people: dict[int, Participant] = {}

    def answer(status: str, reply: Any = None) -> None:  # noqa: ANN401 - JSON
        sys.stdout.write(json.dumps([status, reply]) + "\n")
        sys.stdout.flush()

    answer("ok", {kind: bytes_per_s(media, kind) for kind in media})  # ready; what one publisher sends
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=60)) as http:
        janus = JanusClient(http, janus_url, token)
        await janus.start()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            command, argument = json.loads(line) if line else ("stop", None)
            try:
                reply: Any = None
                if command == "join":  # {feed: kinds}
                    for feed in argument:
                        people[int(feed)] = Participant(janus, room, int(feed))
                    await limited([people[int(f)].join(kinds, media) for f, kinds in argument.items()])
                elif command == "subscribe":  # {feed: [feeds]}
                    await limited([people[int(f)].subscribe(feeds) for f, feeds in argument.items()])
                elif command == "received":
                    reply = {f: p.received() for f, p in people.items()}
                elif command == "stop":
                    await asyncio.gather(*(pc.close() for p in people.values() for pc in p.pcs),
                                         return_exceptions=True)
                    if janus.poller:
                        janus.poller.cancel()
                    answer("ok")
                    return
                answer("ok", reply)
            except Exception as exc:  # noqa: BLE001 - reported to the main process, which stops the run
                answer("error", f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    url, token, room = sys.argv[1], sys.argv[2], int(sys.argv[3])
    asyncio.run(serve(url, token, room))
