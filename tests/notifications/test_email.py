"""Notification emails go through a real SMTP conversation (a small server on loopback), from the job."""

from __future__ import annotations

import socketserver
import threading

import pytest


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive messages: greeting, EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            command = line.decode().strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self.wfile.write(b"250 test\r\n")
            elif command.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                self.wfile.write(b"250 OK\r\n")
            elif command == "DATA":
                self.wfile.write(b"354 go ahead\r\n")
                body = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(data)
                self.server.messages.append(b"".join(body).decode())  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif command == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"502 not implemented\r\n")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_notification_email_is_sent_by_the_job(smtp_server, monkeypatch):
    import ecabinet.jobs
    from ecabinet.notifications.tasks import send_notification_email

    host, port = smtp_server.server_address
    monkeypatch.setenv("SMTP_URL", f"smtp://{host}:{port}")
    monkeypatch.setenv("SMTP_FROM", "thuky@ecabinet.gov.vn")
    monkeypatch.setattr(ecabinet.jobs, "_app", None)  # the worker builds its app from this environment
    send_notification_email.call_local(["a@example.gov.vn", "b@example.gov.vn"],
                                       "Chương trình phiên họp đã được công bố.")
    assert len(smtp_server.messages) == 2
    assert "To: a@example.gov.vn" in smtp_server.messages[0]
    assert "From: thuky@ecabinet.gov.vn" in smtp_server.messages[0]
