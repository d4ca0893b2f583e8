"""Webhooks: the outbox written with the change, signed deliveries to a real HTTP receiver on loopback,
retries and their log, the visibility rule, and the administrator's page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from ecabinet.api import webhooks
from ecabinet.api.models import ApiClient, WebhookDelivery
from ecabinet.audit.models import AuditEntry
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from tests.api.conftest import ADMIN
from tests.conftest import PASSWORD
from tests.helpers import csrf_from, login

TOLERANCE = 300  # seconds


def verify(secret: str, headers, body: bytes, now: float | None = None) -> dict:  # noqa: ANN001
    """The receiver's check, as docs/api.md gives it."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > TOLERANCE:
        raise ValueError("timestamp too old or too new")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body,
                                         hashlib.sha256).digest()).decode()
    for signature in headers["webhook-signature"].split():
        version, _, value = signature.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return json.loads(body)
    raise ValueError("bad signature")


class Receiver:
    """An HTTP server on 127.0.0.1 that verifies each request and answers the statuses it is given."""

    def __init__(self) -> None:
        self.secret = ""
        self.answers: list[int] = []
        self.received: list[dict] = []
        self.seen: set[str] = set()
        self.raw: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the library's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.raw.append((headers, body))
                try:
                    payload = verify(receiver.secret, headers, body)
                except (KeyError, ValueError):
                    self.send_response(401)
                    self.end_headers()
                    return
                status = receiver.answers.pop(0) if receiver.answers else 200
                if 200 <= status < 300 and headers["webhook-id"] not in receiver.seen:
                    receiver.seen.add(headers["webhook-id"])
                    receiver.received.append(payload)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks?x=1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def post(self, headers: dict, body: bytes) -> int:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.server.server_address[1], timeout=5)
        conn.request("POST", "/hooks", body=body, headers=headers)
        status = conn.getresponse().status
        conn.close()
        return status

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hooked(app, world, receiver):
    """The finance and foreign clients send to the receiver; the job queue runs jobs at once."""
    from ecabinet.jobs import huey

    secrets = {}
    for name in ("finance", "foreign"):
        client = db.session.get(ApiClient, world["clients"][name][0])
        secrets[name] = webhooks.set_webhook(ADMIN, client, receiver.url)
    db.session.commit()
    receiver.secret = secrets["finance"]
    before = huey.immediate
    huey.immediate = True
    yield {**world, "secrets": secrets}
    huey.immediate = before


def _close_ballot(world: dict, *, secret: bool = False) -> None:
    """The voting domain's record of a closed ballot (its audit entry and room event), as when it counts."""
    from ecabinet.voting import service as voting
    from ecabinet.voting.models import Ballot, BallotStatus
    from ecabinet.voting.service.shared import record_change

    if secret:
        ballot = voting.create_ballot(ADMIN, voting.BallotData(
            title="Bỏ phiếu kín", kind="live", meeting_id=world["meeting"], item_id=world["first"]))
        ballot.secret, ballot.status, ballot.outcome, ballot.closed_at = True, BallotStatus.CLOSED, "adopted", utcnow()
    else:
        ballot = db.session.get(Ballot, world["ballot"])
    record_change(ADMIN, "ballot.close", ballot, {"outcome": ballot.outcome})


def _deliveries(client_id: int) -> list[WebhookDelivery]:
    db.session.rollback()
    return list(db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.client_id == client_id)))


def test_a_closed_ballot_is_delivered_once_signed_and_only_to_who_may_see_it(app, hooked, receiver):
    _close_ballot(hooked)
    db.session.commit()
    finance, foreign = hooked["clients"]["finance"][0], hooked["clients"]["foreign"][0]
    [delivery] = _deliveries(finance)
    assert _deliveries(foreign) == []  # the item is not the other organisation's, nor its meeting
    assert delivery.status == "delivered" and [a.status_code for a in delivery.log] == [200]
    [payload] = receiver.received
    assert payload["type"] == "outcome.decided"
    data = payload["data"]
    assert data["meeting_id"] == hooked["meeting"] and data["item_id"] == hooked["first"]
    assert data["ballot"]["id"] == hooked["ballot"] and data["ballot"]["outcome"] == "adopted"
    assert data["ballot"]["votes_cast"] == 0 and "eligible_count" in data["ballot"]
    headers, body = receiver.raw[0]
    assert headers["webhook-id"] == delivery.event_id and body.decode() == delivery.payload

    # Forged: a body changed, or a signature made with another key, is refused.
    assert receiver.post(headers, body.replace(b"adopted", b"rejected")) == 401
    forged = {**headers, "webhook-signature": webhooks.sign(webhooks.new_secret(), headers["webhook-id"],
                                                            int(headers["webhook-timestamp"]), body)}
    assert receiver.post(forged, body) == 401
    # Replayed later: the old timestamp is refused, and a new timestamp breaks the signature.
    with pytest.raises(ValueError, match="timestamp"):
        verify(receiver.secret, headers, body, now=time.time() + TOLERANCE + 1)
    assert receiver.post({**headers, "webhook-timestamp": str(int(time.time()) + 5)}, body) == 401
    assert len(receiver.received) == 1


def test_a_secret_ballot_gives_only_its_result(app, hooked, receiver):
    _close_ballot(hooked, secret=True)
    db.session.commit()
    [payload] = receiver.received
    assert set(payload["data"]["ballot"]) == {"id", "title", "secret", "outcome", "closed_at"}
    assert payload["data"]["ballot"]["secret"] is True


def test_failures_are_retried_with_backoff_and_logged(app, hooked, receiver):
    receiver.answers = [500, 500]
    _close_ballot(hooked)
    db.session.commit()
    [delivery] = _deliveries(hooked["clients"]["finance"][0])
    assert delivery.status == "pending" and delivery.attempts == 1
    first_retry = delivery.next_attempt_at
    assert timedelta(seconds=55) <= first_retry - delivery.log[0].at <= timedelta(seconds=65)
    assert webhooks.attempt(delivery.id) is None  # not due yet: nothing sent
    assert webhooks.attempt(delivery.id, now=first_retry + timedelta(seconds=1)) == "pending"
    [delivery] = _deliveries(hooked["clients"]["finance"][0])
    assert delivery.next_attempt_at - delivery.log[1].at == timedelta(seconds=webhooks.BACKOFF[1])
    assert delivery.id in webhooks.due(now=delivery.next_attempt_at + timedelta(minutes=2))
    assert webhooks.attempt(delivery.id, now=delivery.next_attempt_at) == "delivered"
    [delivery] = _deliveries(hooked["clients"]["finance"][0])
    assert [a.status_code for a in delivery.log] == [500, 500, 200] and delivery.delivered_at is not None
    assert all(a.duration_ms >= 0 and a.error is None for a in delivery.log)
    assert len(receiver.received) == 1 and webhooks.due(now=utcnow() + timedelta(days=1)) == []


def test_an_unreachable_receiver_fails_after_the_last_attempt(app, hooked, receiver):
    receiver.close()
    _close_ballot(hooked)
    db.session.commit()
    [delivery] = _deliveries(hooked["clients"]["finance"][0])
    for _ in range(webhooks.MAX_ATTEMPTS - 1):
        assert webhooks.attempt(delivery.id, now=delivery.next_attempt_at) is not None
        [delivery] = _deliveries(hooked["clients"]["finance"][0])
    assert delivery.status == "failed" and len(delivery.log) == webhooks.MAX_ATTEMPTS
    assert all(a.status_code is None and a.error for a in delivery.log)


def test_a_rolled_back_change_sends_nothing(app, hooked, receiver):
    _close_ballot(hooked)
    db.session.flush()
    db.session.rollback()
    assert _deliveries(hooked["clients"]["finance"][0]) == [] and receiver.raw == []


def test_an_action_status_change_goes_to_its_organisation(app, hooked, receiver):
    from ecabinet.minutes import service as minutes
    from ecabinet.minutes.models import ActionItem

    action = db.session.get(ActionItem, hooked["own_action"])
    minutes.update_action(ADMIN, action, "in_progress", "Đang soạn")
    other = db.session.get(ActionItem, hooked["other_action"])
    minutes.update_action(ADMIN, other, "done", "")
    db.session.commit()
    [payload] = receiver.received  # the foreign ministry's receiver has the other secret: checked apart
    assert payload["type"] == "action.status_changed"
    assert payload["data"] == {"action_id": hooked["own_action"], "meeting_id": hooked["meeting"],
                               "title": "Hoàn thiện Nghị định", "status": "in_progress",
                               "previous_status": "open"}
    [foreign] = _deliveries(hooked["clients"]["foreign"][0])
    assert json.loads(foreign.payload)["data"]["action_id"] == hooked["other_action"]


def test_a_submission_status_change_goes_to_clients_with_the_scope(app, hooked, receiver):
    from ecabinet.api import service as api

    client, _token = api.register_client(ADMIN, api.ClientData(
        name="intake", organisation_id=hooked["finance"], scopes=["submissions:write"]))
    receiver.secret = webhooks.set_webhook(ADMIN, client, receiver.url)
    db.session.commit()
    # What the submissions service hands its status hook (tests/submissions checks that it does).
    accepted = SimpleNamespace(id=41, organisation_id=hooked["finance"], status=SimpleNamespace(value="accepted"))
    webhooks.submission_status_changed(accepted, "submitted")
    db.session.commit()
    [payload] = receiver.received
    assert payload == {**payload, "type": "submission.status_changed",
                       "data": {"submission_id": 41, "status": "accepted", "previous_status": "submitted"}}
    assert _deliveries(hooked["clients"]["finance"][0]) == []  # no submissions:write scope


@pytest.mark.parametrize("url, message", [
    ("ftp://example.gov.vn/hook", "must start with https://"),
    ("http://example.gov.vn/hook", "must start with https://"),
    ("https://user:pw@example.gov.vn/hook", "user name or password"),
    ("https://10.1.2.3/hook", "private, loopback or reserved"),
    ("https://[::1]:8443/hook", "private, loopback or reserved"),
    ("https://169.254.169.254/latest", "private, loopback or reserved"),
    ("https://localhost/hook", "private, loopback or reserved"),
    ("https://example.gov.vn:99999/", "not a valid URL"),
])
def test_an_invalid_webhook_url_is_refused(app, world, url, message):
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = False  # as in production
    client = db.session.get(ApiClient, world["clients"]["finance"][0])
    with pytest.raises(webhooks.WebhookError, match=message):
        webhooks.set_webhook(ADMIN, client, url)
    db.session.rollback()
    assert webhooks.check_url("https://hooks.example.gov.vn/x") == "https://hooks.example.gov.vn/x"


def test_the_administrator_sets_the_webhook_rotates_and_sends_again(app, client, hooked, receiver, users):
    login(client, "admin@example.gov.vn", PASSWORD)
    finance = hooked["clients"]["finance"][0]
    page = client.get(f"/admin/api-clients/webhook?client_id={finance}")
    assert page.status_code == 200
    csrf = csrf_from(page.get_data(as_text=True))
    refused = client.post("/admin/api-clients/webhook", data={"csrf_token": csrf, "client_id": finance,
                                                                 "url": "gopher://x"})
    assert refused.status_code == 400 and "https://" in refused.get_data(as_text=True)
    rotated = client.post("/admin/api-clients/webhook/secret", data={"csrf_token": csrf, "client_id": finance})
    assert rotated.status_code == 200
    secret = "whsec_" + rotated.get_data(as_text=True).split("<code>whsec_", 1)[1].split("</code>", 1)[0]
    receiver.secret = secret
    _close_ballot(hooked)
    db.session.commit()
    [delivery] = _deliveries(finance)
    page = client.get(f"/admin/api-clients/webhook?client_id={finance}").get_data(as_text=True)
    assert "Các lần gửi" in page and "Deliveries" not in page and "Gửi lại" in page  # in Vietnamese
    assert receiver.secret[6:] not in page  # the secret is shown once only
    resent = client.post("/admin/api-clients/webhook/resend",
                         data={"csrf_token": csrf, "client_id": finance, "delivery_id": delivery.id})
    assert resent.status_code == 200 and "HTTP 200" in resent.get_data(as_text=True)
    [delivery] = _deliveries(finance)
    assert delivery.status == "delivered" and len(delivery.log) == 2
    assert len(receiver.received) == 1  # the same webhook-id: the receiver knows it already
    other = hooked["clients"]["foreign"][0]
    assert client.post("/admin/api-clients/webhook/resend",
                       data={"csrf_token": csrf, "client_id": other, "delivery_id": delivery.id}).status_code == 404
    assert client.post("/admin/api-clients/webhook/resend",
                       data={"csrf_token": csrf, "client_id": finance, "delivery_id": "x"}).status_code == 404
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "api_client",
                                                                     AuditEntry.object_id == str(finance))))
    assert client.get("/admin/api-clients/webhook?client_id=x").status_code == 404
    assert {"api.webhook_set", "api.webhook_secret_rotated", "api.webhook_resent"} <= actions
    leaked = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.details.contains(secret[6:20])))
    assert leaked == 0
