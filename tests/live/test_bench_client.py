"""The load benchmarks' lean Socket.IO client (bench/lean_socket.py) against the real server: it must see
what python-socketio's client sees, or the benchmark numbers would measure something else."""

from __future__ import annotations

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import PASSWORD
from tests.helpers import cookie_header, http_login

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from lean_socket import LeanSocket  # noqa: E402


async def _session(base_url: str, cookie: str, meeting_id: int, item_id: int, chair_cookie: str) -> dict:
    headers = {"Origin": base_url, "Cookie": cookie}
    tablet, chair = LeanSocket(), LeanSocket()
    events: list[dict] = []
    arrived = asyncio.Event()

    def on_event(data: dict) -> None:
        events.append(data)
        if data.get("type") == "agenda.current_item":
            arrived.set()

    tablet.on("event", on_event)
    await tablet.connect(base_url, headers=headers, timeout=10)
    await chair.connect(base_url, headers={"Origin": base_url, "Cookie": chair_cookie}, timeout=10)
    joined = await tablet.call("join", {"meeting_id": meeting_id, "last_seq": None}, timeout=10)
    await chair.call("join", {"meeting_id": meeting_id, "last_seq": None}, timeout=10)
    moved = await chair.call("chair.set_item", {"meeting_id": meeting_id, "item_id": item_id}, timeout=10)
    await asyncio.wait_for(arrived.wait(), 10)
    refused = await tablet.call("chair.set_item", {"meeting_id": meeting_id, "item_id": item_id}, timeout=10)
    await tablet.disconnect()
    await chair.disconnect()

    foreign = LeanSocket()
    try:
        await foreign.connect(base_url, headers={"Origin": "http://evil.example", "Cookie": cookie}, timeout=10)
        foreign_error = None
    except ConnectionError as exc:
        foreign_error = str(exc)
    return {"joined": joined, "moved": moved, "events": events, "refused": refused, "foreign": foreign_error}


def test_lean_client_joins_receives_the_chairs_move_and_is_refused_like_any_client(live_server, in_session, cabinet):
    member = cookie_header(http_login(live_server.url, "member@example.gov.vn", PASSWORD))
    chair = cookie_header(http_login(live_server.url, "chair@example.gov.vn", PASSWORD))
    item_id = in_session.items[1].id
    # A thread of its own: the browser tests' Playwright leaves an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        seen = pool.submit(asyncio.run, _session(live_server.url, member, in_session.id, item_id, chair)).result()

    assert seen["joined"]["ok"] and seen["moved"]["ok"]
    moves = [e for e in seen["events"] if e["type"] == "agenda.current_item"]
    assert moves and moves[-1]["seq"] == seen["moved"]["seq"]
    assert seen["refused"] == {"ok": False, "error": "forbidden"}  # a member sending a chair action
    assert seen["foreign"]  # a foreign Origin is turned away at the handshake
