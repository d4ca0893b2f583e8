"""How many publishers and subscribers one Janus (VideoRoom, the app's configuration) serves on this machine,
with light WebRTC clients, so that Janus, not the clients, is what is measured.

bench/bench_media.py uses Chromium pages, the real browser path; on two cores a dozen of them saturate the
machine while Janus uses under 10% of a core. Here every participant is an aiortc peer connection (Python),
in a few worker processes (bench/media_load/worker.py, run in their own virtualenv: see its requirements.txt)
whose CPU is sampled apart from Janus's. They speak Janus's HTTP API as the
meeting screen does (static/js/media.js): a session, a VideoRoom handle that joins as publisher with the
room's token and publishes, and one subscriber handle that joins with ``streams`` (and the publisher's
private id, which the room requires) and answers Janus's offer.

Shapes (``--shape``):

- ``all``: N participants each publish (audio; ``--media video``: audio and 640x360 video) and subscribe to
  every other one: N x (N - 1) forwarded streams per kind, the worst case (everyone unmuted).
- ``meeting``: one speaker publishes and N - 1 listeners subscribe to it: N - 1 forwarded streams per kind,
  what a meeting forwards while one member has the floor. Listeners join as publishers without media (the
  room needs their private id) and publish nothing.
- ``floor``: the meeting as the app runs it: the listeners also publish their audio, which Janus receives and
  drops (muted at the server with ``moderate``, as media/service.py does to everyone without the floor).

Media are encoded once and replayed, so the publishers packetize, encrypt and send but never encode:
1 s of a 440 Hz tone in Opus (mono, ~38 kbit/s, 50 packets/s) and 2 s of a scrolling 640x360 picture in VP8
(libvpx, realtime, ~260 kbit/s, 30 frames/s, a keyframe every second). Subscribers count each received
stream's RTP packets and payload bytes after SRTP, by SSRC, and neither parse, buffer nor decode them (the
transport's RTP handler is replaced by a counter). Janus's CPU and the workers' (user + system, /proc) are
sampled over a window once every subscribed stream receives; ``delivered`` compares the payload bytes received with what
the publishers send (100% when nothing is lost or late).

    make bench-media-load                 # makes the load generator's virtualenv on first use, then runs
    make bench-media-load ARGS="--participants 10 20 --shape all --media audio"
    make bench-media-load ARGS="--participants 50 100 --shape meeting --media video --json"
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench_media import WINDOW, cpu_seconds, start_janus  # noqa: E402 - Janus as the app configures it

from ecabinet.media.setup import binary  # noqa: E402

WORKER = BENCH / "media_load" / "worker.py"
# aiortc needs pyOpenSSL, whose releases all need an older cryptography than the app pins (DTLS fails with
# the app's): the workers run in a virtualenv of their own.
MEDIA_PYTHON = Path(os.environ.get("BENCH_MEDIA_PYTHON", BENCH / "media_load" / ".venv" / "bin" / "python"))
SETUP = "make bench-media-load (it makes bench/media_load/.venv on first use)"


# --- the main process: one configuration -----------------------------------------------------------

class Workers:
    """The load generator: ``count`` worker processes (media_load/worker.py in its own virtualenv)."""

    def __init__(self, count: int, janus_url: str, token: str, room: int) -> None:
        self.procs = [subprocess.Popen([str(MEDIA_PYTHON), str(WORKER), janus_url, token, str(room)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                      for _ in range(count)]
        try:
            self.sends = self.replies(60)[0]  # each worker's first line: what one publisher sends, per kind
        except RuntimeError:
            self.stop()
            raise

    def replies(self, timeout: float, command: str = "start") -> list[Any]:
        out = []
        for proc in self.procs:
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            line = proc.stdout.readline() if ready else ""
            if not line:
                raise RuntimeError(f"a worker did not answer {command!r} within {timeout:.0f} s")
            status, reply = json.loads(line)
            if status != "ok":
                raise RuntimeError(f"{command}: {reply}")
            out.append(reply)
        return out

    def ask(self, command: str, arguments: list[Any], timeout: float = 120) -> list[Any]:
        for proc, argument in zip(self.procs, arguments, strict=True):
            proc.stdin.write(json.dumps([command, argument]) + "\n")
            proc.stdin.flush()
        return self.replies(timeout, command)

    def received(self) -> dict[int, list[list]]:
        merged: dict[int, list[list]] = {}
        for reply in self.ask("received", [None] * len(self.procs), 30):
            merged.update({int(f): streams for f, streams in reply.items()})
        return merged

    def cpu(self) -> list[float]:
        return [cpu_seconds(p.pid) for p in self.procs]

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.ask("stop", [None] * len(self.procs), 30)
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def plan(participants: int, shape: str, kinds: list[str]) -> tuple[dict[int, list[str]], dict[int, list[int]]]:
    """Who publishes what and who subscribes to whom: feeds 1..N; in a meeting, feed 1 speaks (with
    ``floor``, the listeners publish their audio too, muted at Janus)."""
    feeds = list(range(1, participants + 1))
    if shape == "all":
        return {f: kinds for f in feeds}, {f: [g for g in feeds if g != f] for f in feeds}
    listener = ["audio"] if shape == "floor" else []
    return {f: (kinds if f == 1 else listener) for f in feeds}, {f: ([] if f == 1 else [1]) for f in feeds}


def run(participants: int, shape: str, video: bool, janus: Any, janus_url: str, pid: int,  # noqa: ANN401
        processes: int, idle: float) -> dict[str, Any]:
    kinds = ["audio", "video"] if video else ["audio"]
    publishes, subscribes = plan(participants, shape, kinds)
    room = secrets.randbelow(2**40) + 1
    secret = secrets.token_hex(8)
    token = "bench-" + secrets.token_hex(8)
    janus.admin("add_token", token=token, plugins=["janus.plugin.videoroom"])
    janus.create_room(room, secret, "bench", max(100, participants + 1))
    janus.allow(room, secret, [token])
    processes = max(1, min(processes, participants))
    share = [[f for f in publishes if (f - 1) % processes == w] for w in range(processes)]
    expected = {f: len(subscribes[f]) * len(kinds) for f in publishes}
    result: dict[str, Any] = {"participants": participants, "video": video, "plugin": "videoroom",
                              "client": "aiortc", "shape": shape, "generator_processes": processes,
                              "streams_in": sum(len(k) for k in publishes.values()),
                              "streams_out": sum(expected.values())}
    workers = None
    try:
        workers = Workers(processes, janus_url, token, room)
        started = time.monotonic()
        workers.ask("join", [{f: publishes[f] for f in mine} for mine in share], 60 + participants)
        if shape == "floor":  # as the app does to everyone without the floor (media/service.py)
            for feed in range(2, participants + 1):
                janus.moderate(room, secret, feed, "0", True)  # aiortc's first m-line: the audio
        workers.ask("subscribe", [{f: subscribes[f] for f in mine} for mine in share], 60 + 2 * participants)
        result["setup_s"] = round(time.monotonic() - started, 1)
        deadline = time.monotonic() + 30 + participants
        while time.monotonic() < deadline:  # every subscribed stream receives
            now = workers.received()
            if all(len(now[f]) == expected[f] and all(s[1] > 0 for s in now[f]) for f in expected):
                break
            time.sleep(1)
        time.sleep(3)  # ramp-up: keyframes, the first RTCP
        janus_before, generator_before, before = cpu_seconds(pid), workers.cpu(), workers.received()
        start = time.monotonic()
        time.sleep(WINDOW)
        elapsed = time.monotonic() - start
        janus_after, generator_after, after = cpu_seconds(pid), workers.cpu(), workers.received()
    except RuntimeError as exc:
        result["error"] = str(exc)
        return result
    finally:
        if workers is not None:
            workers.stop()
        janus.destroy_room(room, secret)
        janus.remove_token(token)
    janus_cpu = (janus_after - janus_before) / elapsed
    streams = [(b[0], a[1] - b[1], a[2] - b[2]) for f in expected for a, b in zip(after[f], before[f], strict=False)]
    got = {k: sum(s[2] for s in streams if s[0] == k) for k in kinds}
    sent = {k: workers.sends[k] * elapsed * sum(1 for s in streams if s[0] == k) for k in kinds}
    streams_out = result["streams_out"]
    result.update({
        "janus_cpu_percent": round(janus_cpu * 100, 1),
        "janus_cpu_percent_per_forwarded_stream": round(janus_cpu * 100 / max(streams_out, 1), 3),
        "janus_cpu_percent_above_idle_per_forwarded_stream": round(
            (janus_cpu - idle) * 100 / max(streams_out, 1), 3),
        "generator_cpu_percent": round((sum(generator_after) - sum(generator_before)) / elapsed * 100, 1),
        # a worker is one event loop: at 100% of a core it is what runs out
        "generator_busiest_process_cpu_percent": round(max(
            (a - b) / elapsed * 100 for a, b in zip(generator_after, generator_before, strict=True)), 1),
        "forwarded_packets_per_s": round(sum(s[1] for s in streams) / elapsed),
        "janus_cpu_us_per_forwarded_packet": round(janus_cpu * 1e6 * elapsed / max(sum(s[1] for s in streams), 1), 1),
        "received_kbit_s_total": round(sum(s[2] for s in streams) * 8 / elapsed / 1000),
        "delivered_percent": {k: round(100 * got[k] / sent[k], 1) if sent[k] else None for k in kinds},
        "streams_received": sum(1 for s in streams if s[1] > 0),
        "every_stream_received": len(streams) == streams_out and all(s[1] > 0 for s in streams),
        "load_average": round(os.getloadavg()[0], 2)})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--shape", nargs="+", choices=["all", "meeting", "floor"], default=["all", "meeting"],
                        help="all: everyone publishes and receives everyone; meeting: one speaker, N - 1 listeners; "
                             "floor: the same, the listeners publishing audio muted at Janus")
    parser.add_argument("--media", nargs="+", choices=["audio", "video"], default=["audio", "video"],
                        help="audio: audio only; video: audio and 640x360 video")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2, help="load generator processes")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if binary() is None:
        print(json.dumps({"skipped": "Janus is not installed"}))
        return
    if not MEDIA_PYTHON.exists():
        print(json.dumps({"skipped": f"no load generator virtualenv ({MEDIA_PYTHON}): {SETUP}"}))
        return
    folder = Path(tempfile.mkdtemp(prefix="bench-media-load-"))
    proc, janus, janus_url = start_janus(folder)
    results = []
    try:
        before, start = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(WINDOW / 2)  # Janus with no room: its own timers and threads
        idle = (cpu_seconds(proc.pid) - before) / (time.monotonic() - start)
        if not args.json:
            print(json.dumps({"janus_idle_cpu_percent": round(idle * 100, 2)}), flush=True)
        for video in [m == "video" for m in args.media]:
            for shape in args.shape:
                for n in args.participants:
                    results.append(run(n, shape, video, janus, janus_url, proc.pid, args.processes, idle))
                    if not args.json:
                        print(json.dumps(results[-1]), flush=True)
    finally:
        proc.terminate()
        proc.wait(10)
    if args.json:
        print(json.dumps({"janus_idle_cpu_percent": round(idle * 100, 2), "media": results}))


if __name__ == "__main__":
    main()
