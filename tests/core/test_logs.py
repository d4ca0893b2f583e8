"""Structured logs: with LOG_FORMAT=json, every line the app writes while answering is one JSON object
carrying the request id (the proxy's, or a new one), and in a Socket.IO handler the socket id and event."""

from __future__ import annotations

import json
import logging
import time

import requests
import socketio

from ecabinet.core.logs import RequestContext, json_formatter
from tests.conftest import PASSWORD, LiveServer
from tests.helpers import cookie_header, http_login


def _json_lines(server: LiveServer) -> list[dict]:
    lines = []
    for line in server.log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))  # a line that starts as JSON must be whole JSON
    return lines


def _wait_for(server: LiveServer, found, what: str) -> list[dict]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = _json_lines(server)
        if any(found(line) for line in lines):
            return lines
        time.sleep(0.1)
    raise AssertionError(f"no log line for {what}: {server.log.read_text()[-2000:]}")


def test_json_logs_follow_a_request_and_a_socket(app, users, db_url, tmp_path):
    server = LiveServer(db_url, tmp_path, LOG_FORMAT="json").start()
    try:
        # The proxy's id is kept and sent back; the access line carries it.
        answer = requests.get(server.url + "/login", headers={"X-Request-ID": "hap-0a1b2c3d4e5f"}, timeout=10)
        assert answer.headers["X-Request-ID"] == "hap-0a1b2c3d4e5f"
        lines = _wait_for(server, lambda x: x.get("request_id") == "hap-0a1b2c3d4e5f", "the proxy's id")
        access = next(x for x in lines if x.get("request_id") == "hap-0a1b2c3d4e5f")
        assert access["logger"] == "ecabinet.access" and access["status"] == 200
        assert access["method"] == "GET" and access["path"] == "/login" and access["duration_ms"] >= 0

        # An id that is not one (too long, or a forged log line) is replaced; an odd path stays in its field.
        forged = 'x"}\n{"level": "CRITICAL"'
        answer = requests.get(server.url + "/n%C3%B4where%0A%7B%22level%22%3A%22CRITICAL%22%7D",
                              headers={"X-Request-ID": "y" * 400}, timeout=10)
        made = answer.headers["X-Request-ID"]
        assert made and len(made) == 32 and made != "y" * 400
        lines = _wait_for(server, lambda x: x.get("request_id") == made, "a made id")
        odd = next(x for x in lines if x.get("request_id") == made)
        assert odd["path"].startswith("/nôwhere\n") and odd["status"] == 404
        assert not any(x.get("level") == "CRITICAL" for x in lines), forged

        # A refused socket event is logged with the socket's id, the event and the user.
        session = http_login(server.url, "member@example.gov.vn", PASSWORD)
        client = socketio.Client(reconnection=False)
        client.connect(server.url, headers={"Cookie": cookie_header(session),
                                            "X-Request-ID": "hap-socket-0001"}, transports=["websocket"])
        try:
            refused = client.call("join", {"meeting_id": "not a number"}, timeout=10)
            assert refused["ok"] is False
            sid = client.get_sid()
        finally:
            client.disconnect()
        lines = _wait_for(server, lambda x: x.get("event") == "join", "the socket event")
        line = next(x for x in lines if x.get("event") == "join")
        assert line["socket_id"] == sid and line["user_id"] == users["member"].id
        assert line["request_id"] == "hap-socket-0001" and "refused" in line["message"]
    finally:
        server.stop()


def test_without_json_logs_an_answer_still_carries_its_request_id(client):
    answer = client.get("/login", headers={"X-Request-ID": "hap-0123456789"})
    assert answer.headers["X-Request-ID"] == "hap-0123456789"
    assert len(client.get("/login").headers["X-Request-ID"]) == 32


def test_a_record_outside_any_request_is_plain_json():
    record = logging.LogRecord("ecabinet.jobs", logging.WARNING, __file__, 1, "intake of %s: %s", ("a.pdf", "é\n"),
                               None)
    assert RequestContext().filter(record)
    line = json_formatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "intake of a.pdf: é\n" and parsed["level"] == "WARNING"
    assert "request_id" not in parsed

