"""A request that waits on the PDF engine holds no database connection while it waits.

SQLite has one connection per process: an upload that kept it through its intake would hold up every
other request and socket event of the instance (seconds for an ordinary PDF, 20 s for a crafted one);
on PostgreSQL each such upload would hold one of the pool's connections. So the upload, the new version
(its intake, then the measuring of moved highlights) and the reader's copy each do their reads, give
the connection back, wait, and only then record.

Nothing here depends on timing: each wait is held open by the test (a gate in front of the engine's
call, or the intake's child process stopped with SIGSTOP) while the test looks at the pool, asks
``/healthz`` and makes a socket round trip, then let go.
"""

from __future__ import annotations

import contextvars
import json
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from flask import Flask
from flask.globals import _cv_app
from sqlalchemy import select

from bench.bench_upload_responsiveness import million_object_pdf
from ecabinet.documents import service
from ecabinet.documents.models import Annotation, Document
from ecabinet.documents.service import copies, uploads
from ecabinet.extensions import db
from ecabinet.pdf.sandbox import WORKER_SCRIPT
from tests.conftest import PASSWORD, IsolatedClient, LiveServer
from tests.documents.app_fixtures import *  # noqa: F403
from tests.documents.app_fixtures import actor, signed_in, upload_http
from tests.helpers import cookie_header, http_login

WAIT_S = 60  # only ever reached when something is broken


class Gate:
    """Stands in front of an engine call: records that the call began, waits until the test opens it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()
        real = getattr(owner, name)

        def gated(*args: Any, **kwargs: Any) -> Any:
            self.entered.set()
            assert self.opened.wait(WAIT_S), "the test never opened the gate"
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, gated)


def _isolated(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in an app context of its own, as the server runs every socket event."""
    db.session.rollback()

    def run() -> Any:
        _cv_app.set(None)
        return fn()

    return contextvars.copy_context().run(run)


def _socket(app: Flask, email: str):
    browser = app.test_client()
    signed_in(browser, email)
    sio = _isolated(lambda: app.extensions["socketio"].test_client(app, flask_test_client=browser,
                                                                   headers={"Origin": "http://localhost"}))
    assert sio.is_connected()
    return sio


def _while_waiting(app: Flask, gate: Gate, request: Callable[[], Any], *, meeting_id: int, sio) -> Any:
    """Make ``request`` in another thread; while it waits at the gate, the instance serves on without it."""
    answer: dict[str, Any] = {}

    def make() -> None:
        with app.app_context():
            answer["response"] = request()

    db.session.rollback()  # the test's own session holds no connection either
    waiting = threading.Thread(target=make, daemon=True)
    waiting.start()
    try:
        assert gate.entered.wait(WAIT_S), "the request never reached the engine"
        assert db.engine.pool.checkedout() == 0
        health = app.test_client().get("/healthz")
        assert health.status_code == 200 and health.get_json()["database"] == "ok"
        ack = _isolated(lambda: sio.emit("vote.list", {"meeting_id": meeting_id}, callback=True))
        assert ack["ok"], ack
        assert waiting.is_alive() and "response" not in answer  # all of it happened during the wait
        db.session.rollback()
        assert db.engine.pool.checkedout() == 0
    finally:
        gate.opened.set()
        waiting.join(WAIT_S)
    assert not waiting.is_alive()
    return answer["response"]


@pytest.fixture
def secretary_client(app, with_guest, cabinet, storage):  # noqa: F811 - fixtures from app_fixtures
    app.test_client_class = IsolatedClient
    client = app.test_client()
    return client, signed_in(client, "secretary@example.gov.vn")


def test_an_upload_holds_no_connection_during_its_intake(app, with_guest, secretary_client, briefing,
                                                         monkeypatch):
    client, token = secretary_client
    sio = _socket(app, "member@example.gov.vn")
    gate = Gate(monkeypatch, uploads, "inspect_pdf")
    url = f"/meetings/{with_guest.id}/items/{with_guest.items[0].id}/documents"
    response = _while_waiting(app, gate, lambda: upload_http(client, token, url, briefing, "to-trinh.pdf"),
                              meeting_id=with_guest.id, sio=sio)
    assert response.status_code == 201, response.get_data(as_text=True)
    document = db.session.get(Document, response.get_json()["document"]["id"])
    assert document.item_id == with_guest.items[0].id and document.latest.page_count >= 1


def test_a_refused_upload_is_still_audited_after_the_wait(app, with_guest, secretary_client, monkeypatch):
    from ecabinet.audit.models import AuditEntry

    client, token = secretary_client
    sio = _socket(app, "member@example.gov.vn")
    gate = Gate(monkeypatch, uploads, "inspect_pdf")
    url = f"/meetings/{with_guest.id}/items/{with_guest.items[0].id}/documents"
    broken = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    response = _while_waiting(app, gate, lambda: upload_http(client, token, url, broken, "x.pdf"),
                              meeting_id=with_guest.id, sio=sio)
    assert response.status_code >= 400 and response.get_json()["code"]
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "document.upload_refused" in actions and "document.upload" not in actions


def test_a_new_version_holds_no_connection_during_its_intake(app, meeting_doc, secretary_client, briefing_v2,
                                                             monkeypatch):
    client, token = secretary_client
    sio = _socket(app, "member@example.gov.vn")
    gate = Gate(monkeypatch, uploads, "inspect_pdf")
    url = f"/documents/{meeting_doc.id}/versions"  # read here: the request's thread must not use this session
    response = _while_waiting(app, gate, lambda: upload_http(client, token, url, briefing_v2, "v2.pdf"),
                              meeting_id=meeting_doc.meeting_id, sio=sio)
    assert response.status_code == 201 and response.get_json()["document"]["version"] == 2


def test_a_new_version_measures_moved_highlights_holding_no_connection(app, with_guest, cabinet, secretary_client,
                                                                       tmp_path, monkeypatch):
    from ecabinet.documents.demo_pdf import make_demo_pdf

    article = "Điều 5 quy định về trình tự lập kế hoạch đầu tư công trung hạn."
    make_demo_pdf("Tờ trình", ["Mở đầu.", article], tmp_path / "v1.pdf", one_page_per_paragraph=True)
    make_demo_pdf("Tờ trình", ["Mở đầu.", "Nội dung mới chen vào trước.", article], tmp_path / "v2.pdf",
                  one_page_per_paragraph=True)
    document = service.upload(actor(cabinet["secretary"]), with_guest.items[0], (tmp_path / "v1.pdf").open("rb"),
                              "v1.pdf")
    old_rects = [[0.5, 0.5, 0.2, 0.02]]
    mark = service.add_annotation(actor(cabinet["member"]), document, {
        "kind": "highlight", "page": 2, "quote": "Điều 5 quy định về trình tự", "rects": old_rects})
    db.session.commit()
    document_id, mark_id = document.id, mark.id
    client, token = secretary_client
    sio = _socket(app, "member@example.gov.vn")
    gate = Gate(monkeypatch, uploads, "locate_quotes_isolated")
    response = _while_waiting(
        app, gate, lambda: upload_http(client, token, f"/documents/{document_id}/versions",
                                       (tmp_path / "v2.pdf").read_bytes(), "v2.pdf"),
        meeting_id=with_guest.id, sio=sio)
    assert response.status_code == 201, response.get_data(as_text=True)
    moved = db.session.get(Annotation, mark_id)
    assert moved.page == 3 and moved.version_number == 2
    rects = json.loads(moved.rects)
    assert len(rects) == 1 and rects != old_rects  # measured in the new file, during the wait


def test_a_readers_copy_is_stamped_holding_no_connection(app, meeting_doc, cabinet, monkeypatch):
    from ecabinet.pdf import copies as engine_copies

    app.test_client_class = IsolatedClient
    reader = app.test_client()
    signed_in(reader, "member@example.gov.vn")
    sio = _socket(app, "member2@example.gov.vn")
    gate = Gate(monkeypatch, engine_copies, "stamp_pdf_isolated")
    document_id = meeting_doc.id  # read here: the request's thread must not use this session
    response = _while_waiting(app, gate, lambda: reader.get(f"/documents/{document_id}/download"),
                              meeting_id=meeting_doc.meeting_id, sio=sio)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    code = response.headers["X-Copy-Code"]
    assert copies.find_copy(code).user_id == cabinet["member"].id
    # The next request reuses the cached copy: nothing to stamp, so nothing waits at the gate.
    gate.opened.clear()
    again = reader.get(f"/documents/{document_id}/file", headers={"Range": "bytes=0-99"})
    assert again.status_code == 206 and again.headers["X-Copy-Code"] == code


# --- a real server: the intake's own child process, stopped ------------------------------------------

@pytest.fixture(scope="session")
def million_objects(tmp_path_factory) -> Path:
    """One page and a million small dictionaries beside it (about 75 MB)."""
    return million_object_pdf(tmp_path_factory.mktemp("crafted") / "million-objects.pdf")


def _intake_child(server_pid: int) -> int | None:
    """The one-shot worker a descendant of the server started for an intake (not a pooled ``--serve`` one)."""
    parents: dict[int, int] = {}
    commands: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    for pid, argv in commands.items():
        if WORKER_SCRIPT in argv and "--serve" not in argv:
            ancestor = parents.get(pid)
            while ancestor and ancestor != server_pid:
                ancestor = parents.get(ancestor)
            if ancestor == server_pid:
                return pid
    return None


def test_a_live_server_answers_while_a_million_object_upload_is_in_intake(app, db_url, with_guest, cabinet,
                                                                          million_objects, tmp_path):
    db.session.commit()
    meeting_id, item_id = with_guest.id, with_guest.items[0].id
    # A pool of one on PostgreSQL too: a request that holds the connection then holds up /healthz.
    server = LiveServer(db_url, tmp_path, DATABASE_POOL_SIZE="1").start()
    sock = None
    try:
        secretary = http_login(server.url, "secretary@example.gov.vn", PASSWORD)
        token = re.search(r'name="csrf-token" content="([^"]+)"', secretary.get(server.url + "/", timeout=10).text)
        assert token
        member = http_login(server.url, "member@example.gov.vn", PASSWORD)
        sock = socketio.Client(reconnection=False, websocket_extra_options={"origin": server.url})
        sock.connect(server.url, headers={"Cookie": cookie_header(member)}, transports=["websocket"], wait_timeout=10)
        answer: dict[str, Any] = {}

        def upload() -> None:
            with million_objects.open("rb") as fh:
                answer["response"] = secretary.post(
                    f"{server.url}/meetings/{meeting_id}/items/{item_id}/documents",
                    files={"file": ("million-objects.pdf", fh, "application/pdf")},
                    headers={"X-CSRFToken": token.group(1), "Accept": "application/json"}, timeout=180)

        uploading = threading.Thread(target=upload, daemon=True)
        uploading.start()
        deadline = time.monotonic() + 120
        child = None
        while child is None and uploading.is_alive() and time.monotonic() < deadline:
            child = _intake_child(server.proc.pid)
            time.sleep(0.005)
        assert child is not None, "the upload's intake never started"
        os.kill(child, signal.SIGSTOP)  # the intake now waits for as long as the test wants
        try:
            health = requests.get(server.url + "/healthz", timeout=10)
            assert health.status_code == 200 and health.json()["database"] == "ok"
            ack = sock.call("vote.list", {"meeting_id": meeting_id}, timeout=10)
            assert ack["ok"], ack
            assert uploading.is_alive() and "response" not in answer
        finally:
            try:
                os.kill(child, signal.SIGCONT)
            except ProcessLookupError:
                pass
        uploading.join(180)
        assert "response" in answer
        # Accepted or refused by the intake (it may run out of time): either way an answer, not a failure.
        assert answer["response"].status_code < 500, answer["response"].text[:500]
    finally:
        if sock is not None and sock.connected:
            sock.disconnect()
        server.stop()
