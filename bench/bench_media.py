"""How much one Janus (VideoRoom, the configuration ecabinet/media/setup.py writes) serves on this machine.

N Chromium pages with fake devices each publish audio (``--video``: audio and 640x360 video) into one room
and subscribe to every other publisher, as the meeting screen does (static/js/media.js). Janus's own CPU
(from /proc, user + system) is sampled over a window once every page receives; reported per forwarded
stream. Browsers and Janus share the machine: the browsers' encoding, not Janus, is what runs out first
here, so the per-stream cost is the number to extrapolate from (docs/media.md).

    .venv/bin/python bench/bench_media.py --participants 2 4 8            # audio only
    .venv/bin/python bench/bench_media.py --participants 2 4 --video      # audio and video
    .venv/bin/python bench/bench_media.py --participants 4 8 --audiobridge  # the same, mixed by AudioBridge
    .venv/bin/python bench/bench_media.py --json

Unmuted here: everyone's audio is forwarded to everyone (the worst case; in a meeting only the one who has
the floor is). The floor's own latency (grant -> first audio bytes at another participant) is measured by
tests/media/test_floor_browser.py, which prints it.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecabinet.media.janus import Janus  # noqa: E402
from ecabinet.media.service import room_admin_key  # noqa: E402
from ecabinet.media.setup import binary, command, write_config  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WINDOW = 10.0
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def serve_page(folder: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    for name, source in (("janus.es.js", ROOT / "node_modules/janus-gateway/dist/janus.es.js"),
                         ("webrtc-adapter.js", ROOT / "node_modules/webrtc-adapter/out/adapter.js")):
        shutil.copy(source, folder / name)
    for page in (ROOT / "bench/media_page").iterdir():
        shutil.copy(page, folder / page.name)
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def bridge_room(janus_url: str, token: str, room: int) -> None:
    """An AudioBridge room (the comparison: mixing instead of forwarding)."""
    def post(path: str, body: dict) -> dict:
        return requests.post(janus_url + path, json={"transaction": "b", "token": token, **body}, timeout=5).json()

    session = post("", {"janus": "create"})["data"]["id"]
    handle = post(f"/{session}", {"janus": "attach", "plugin": "janus.plugin.audiobridge"})["data"]["id"]
    post(f"/{session}/{handle}", {"janus": "message", "body": {"request": "create", "room": room,
                                                                 "sampling_rate": 48000, "record": False}})


def start_janus(folder: Path, audiobridge: bool = False) -> tuple[subprocess.Popen, Janus, str]:
    """Janus on the configuration the app writes (ecabinet/media/setup.py), in ``folder``, on free ports;
    its process, the app's client for it and its Janus API URL, once it answers."""
    secret = secrets.token_urlsafe(16)
    janus_url = f"http://127.0.0.1:{free_port()}/janus"
    admin_url = f"http://127.0.0.1:{free_port()}/admin"
    write_config(folder, janus_url=janus_url, admin_url=admin_url, admin_secret=secret,
                 room_admin_key=room_admin_key(secret), rtp_ports="30000-39999", debug_level=2)
    if audiobridge:  # the app never loads it; the comparison does
        config = folder / "janus.jcfg"
        config.write_text(config.read_text().replace("libjanus_audiobridge.so,", ""))
        (folder / "janus.plugin.audiobridge.jcfg").write_text("general: {\n}\n")
    proc = subprocess.Popen([*command(folder), "--disable-colors"], stdout=(folder / "janus.log").open("wb"),
                            stderr=subprocess.STDOUT)
    janus = Janus(janus_url, admin_url, secret, room_admin_key(secret))
    for _ in range(100):
        if janus.ping():
            break
        time.sleep(0.1)
    return proc, janus, janus_url


def run(participants: int, video: bool, browser, janus: Janus, janus_url: str, page_port: int, pid: int,
        audiobridge: bool = False) -> dict:
    room = secrets.randbelow(2**40) + 1
    secret = secrets.token_hex(8)
    token = "bench-" + secrets.token_hex(8)
    janus.admin("add_token", token=token, plugins=["janus.plugin.videoroom", "janus.plugin.audiobridge"])
    if audiobridge:
        bridge_room(janus_url, token, room)
    else:
        janus.create_room(room, secret, "bench", 100)
        janus.allow(room, secret, [token])
    context = browser.new_context()
    pages = []
    try:
        for n in range(participants):
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{page_port}/{'bridge' if audiobridge else 'bench'}.html?server={janus_url}"
                      f"&token={token}&room={room}"
                      f"&feed={n + 1}&video={'1' if video else '0'}")
            pages.append(page)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # every page receives audio from every other
            stats = [p.evaluate("window.benchStats()") for p in pages]
            if all(s["audio"] > 0 and (not video or s["video"] > 0) for s in stats) and participants > 1:
                break
            time.sleep(0.5)
        time.sleep(3)  # ramp-up (bandwidth estimation, keyframes)
        before_cpu, before = cpu_seconds(pid), [p.evaluate("window.benchStats()") for p in pages]
        start = time.monotonic()
        time.sleep(WINDOW)
        elapsed = time.monotonic() - start
        after_cpu, after = cpu_seconds(pid), [p.evaluate("window.benchStats()") for p in pages]
        janus_cpu = (after_cpu - before_cpu) / elapsed
        kinds = 2 if video else 1
        streams_in = participants * kinds
        # AudioBridge sends each participant one mix (decoded, mixed and encoded for each of them).
        streams_out = participants if audiobridge else participants * (participants - 1) * kinds
        received = sum(a["audio"] + a["video"] - b["audio"] - b["video"] for a, b in zip(after, before, strict=True))
        load = os.getloadavg()[0]
        return {"participants": participants, "video": video, "plugin": "audiobridge" if audiobridge else "videoroom",
                "streams_in": streams_in, "streams_out": streams_out,
                "janus_cpu_percent": round(janus_cpu * 100, 1),
                "janus_cpu_percent_per_forwarded_stream": round(janus_cpu * 100 / max(streams_out, 1), 2),
                "received_kbit_s_total": round(received * 8 / elapsed / 1000),
                "every_page_received": all(a["audio"] > b["audio"] for a, b in zip(after, before, strict=True)),
                "load_average": round(load, 2)}
    finally:
        context.close()
        if not audiobridge:
            janus.destroy_room(room, secret)
        janus.remove_token(token)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--video", action="store_true", help="audio and video (default: audio only)")
    parser.add_argument("--audiobridge", action="store_true", help="audio mixed by AudioBridge instead")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if binary() is None or not Path(CHROMIUM).exists():
        print(json.dumps({"skipped": "Janus or Chromium is not installed"}))
        return
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="bench-media-"))
    proc, janus, janus_url = start_janus(folder, args.audiobridge)
    http_server, page_port = serve_page(folder)
    results = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required"])
            for n in args.participants:
                results.append(run(n, args.video, browser, janus, janus_url, page_port, proc.pid, args.audiobridge))
                if not args.json:
                    print(json.dumps(results[-1]))
            browser.close()
    finally:
        http_server.shutdown()
        proc.terminate()
        proc.wait(10)
        requests.Session().close()
    if args.json:
        print(json.dumps({"media": results}))


if __name__ == "__main__":
    main()
