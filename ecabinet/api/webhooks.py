"""Webhooks: a client's URL is told of outcomes, conclusions and status changes (docs/api.md, "Webhooks").

The outbox pattern: the domain events of a transaction are turned, inside its commit, into
``webhook_delivery`` rows, one per event and client that may see it, so an event is never lost nor sent
for a change that was rolled back. After the commit a job sends each row; a failed send is retried with
backoff, and a periodic job sends whatever is overdue (a lost job, a worker restart). Each request is
signed as the Standard Webhooks specification says: ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ecabinet.api import policy
from ecabinet.api.models import ApiClient, DeliveryStatus, WebhookAttempt, WebhookDelivery
from ecabinet.audit import service as audit
from ecabinet.core import domain_events, uow
from ecabinet.core.actor import Actor
from ecabinet.core.domain_events import MeetingChange
from ecabinet.core.errors import DomainError
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting, MeetingItem
from ecabinet.minutes.models import ActionItem, Conclusion
from ecabinet.submissions import hooks as submission_hooks
from ecabinet.voting.models import Ballot

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 - marks a secret, is none
# Seconds to wait after the 1st, 2nd ... failed attempt; after the last, the delivery has failed.
BACKOFF = (60, 300, 1800, 7200, 43200)
MAX_ATTEMPTS = len(BACKOFF) + 1
# A claimed delivery is not claimed again for this long (longer than any send can take).
LEASE = timedelta(minutes=2)
# The periodic job leaves a just-due delivery to its own queued job for this long.
OVERDUE = timedelta(minutes=1)
TIMEOUT = 10.0  # seconds, connecting and reading (WEBHOOK_TIMEOUT)
USER_AGENT = "ecabinet-webhooks/1"

EVENTS = {
    "outcome.decided": "outcomes:read",
    "conclusion.issued": "outcomes:read",
    "action.status_changed": "outcomes:read",
    "submission.status_changed": "submissions:write",
}


class WebhookError(DomainError):
    pass


# --- settings -------------------------------------------------------------------------------------

def _allow_loopback() -> bool:
    setting = current_app.config.get("WEBHOOK_ALLOW_LOOPBACK")
    return bool(current_app.config.get("TESTING")) if setting is None else bool(setting)


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> str:
    """The URL, tidied, or a WebhookError saying what is wrong with it.

    Only https, no user name or password in it, and (against requests to the app's own network) no
    loopback, private, link-local or reserved address. Plain http is allowed only to the loopback
    interface, and only when WEBHOOK_ALLOW_LOOPBACK (by default: in testing) allows it."""
    url = (url or "").strip()
    if not url or len(url) > 500:
        raise WebhookError("Give a webhook URL of at most 500 characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookError("The webhook URL is not a valid URL.") from exc
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise WebhookError("The webhook URL must start with https:// and name a host.")
    if parts.username is not None or parts.password is not None:
        raise WebhookError("The webhook URL must not contain a user name or password.")
    if parts.fragment:
        raise WebhookError("The webhook URL must not contain a fragment (#).")
    if port == 0:
        raise WebhookError("The webhook URL is not a valid URL.")
    local = _allow_loopback() and _is_loopback(host)
    if parts.scheme == "http" and not local:
        raise WebhookError("The webhook URL must start with https://.")
    if not local:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = None
        if ip is not None and not _public(ip) or host.lower() == "localhost" or host.lower().endswith(".localhost"):
            raise WebhookError("The webhook URL must not point to a private, loopback or reserved address.")
    return url


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_secret() -> str:
    """``whsec_`` and 32 random bytes in base64: the Standard Webhooks form of a secret."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def set_webhook(actor: Actor, client: ApiClient, url: str) -> str | None:
    """Set (or, with an empty URL, remove) the client's webhook URL. Returns the new signing secret when
    the client had none, to be shown once."""
    if not client.active:
        raise WebhookError("This client has been revoked.")
    if not (url or "").strip():
        client.webhook_url = None
        audit.record(actor, "api.webhook_removed", object_type="api_client", object_id=client.id)
        return None
    client.webhook_url = check_url(url)
    secret = None
    if client.webhook_secret is None:
        secret = client.webhook_secret = new_secret()
        client.webhook_secret_at = utcnow()
    # The secret itself is never audited: only that one was made.
    audit.record(actor, "api.webhook_set", object_type="api_client", object_id=client.id,
                 details={"url": client.webhook_url, "new_secret": secret is not None})
    return secret


def rotate_secret(actor: Actor, client: ApiClient) -> str:
    """A new signing secret, shown once; the former one stops signing at once."""
    if not client.active:
        raise WebhookError("This client has been revoked.")
    if client.webhook_url is None:
        raise WebhookError("Set the client's webhook URL first.")
    client.webhook_secret = new_secret()
    client.webhook_secret_at = utcnow()
    audit.record(actor, "api.webhook_secret_rotated", object_type="api_client", object_id=client.id)
    return client.webhook_secret


def resend(actor: Actor, delivery: WebhookDelivery) -> None:
    """Send a delivery again (same ``webhook-id``, so a receiver that has it already can ignore it), with a
    full new set of attempts."""
    if not delivery.client.active or delivery.client.webhook_url is None:
        raise WebhookError("This client has no webhook URL to send to.")
    if delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0:
        raise WebhookError("This delivery is being sent.")
    delivery.status, delivery.attempts = DeliveryStatus.PENDING, 0
    delivery.next_attempt_at = utcnow()
    audit.record(actor, "api.webhook_resent", object_type="api_client", object_id=delivery.client_id,
                 details={"event": delivery.event_id, "type": delivery.event_type})
    _enqueue_after_commit([delivery.id])


def deliveries(client: ApiClient, limit: int = 30) -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.client_id == client.id)
                                   .order_by(WebhookDelivery.id.desc()).limit(limit)))


def get_delivery(delivery_id: int | None) -> WebhookDelivery | None:
    return db.session.get(WebhookDelivery, delivery_id) if delivery_id else None


# --- signing --------------------------------------------------------------------------------------

def sign(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,`` and the base64 HMAC-SHA256 of ``id.timestamp.body``, keyed
    with the base64-decoded part of the secret after ``whsec_``."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    mac = hmac.new(key, f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


# --- the outbox -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    type: str
    organisation_id: int | None  # None: decided per client by ``visible``
    data: dict[str, Any]
    meeting: Meeting | None = None
    item: MeetingItem | None = None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _outcome_events(change: MeetingChange) -> list[Event]:
    if change.type == "ballot.close":
        ballot = db.session.get(Ballot, change.details.get("ballot_id"))
        if ballot is None or ballot.item_id is None:
            return []  # a ballot on no item is seen by no client (as in GET .../outcomes)
        item = db.session.get(MeetingItem, ballot.item_id)
        result: dict[str, Any] = {"id": ballot.id, "title": ballot.title, "secret": ballot.secret,
                                  "outcome": ballot.outcome, "closed_at": _iso(ballot.closed_at)}
        if not ballot.secret:  # a secret ballot: its result and nothing more
            result.update(votes_cast=ballot.votes_cast, eligible_count=ballot.eligible_count)
        return [Event("outcome.decided", None, {
            "meeting_id": item.meeting_id, "item_id": item.id, "item_title": item.title,
            "item_outcome": item.outcome, "ballot": result}, item.meeting, item)]
    if change.type == "consent.adopt":
        events = []
        for item_id in change.details.get("items", []):
            item = db.session.get(MeetingItem, item_id)
            if item is not None:
                events.append(Event("outcome.decided", None, {
                    "meeting_id": item.meeting_id, "item_id": item.id, "item_title": item.title,
                    "item_outcome": item.outcome, "ballot": None}, item.meeting, item))
        return events
    if change.type == "conclusion.issue":
        conclusion = db.session.scalar(select(Conclusion).where(Conclusion.meeting_id == change.meeting_id))
        if conclusion is None or conclusion.issued_at is None:
            return []
        return [Event("conclusion.issued", None, {
            "meeting_id": change.meeting_id, "issued_at": _iso(conclusion.issued_at),
            "url": f"/api/v1/meetings/{change.meeting_id}/conclusion",
            "_actions": [(a.id, a.organisation_id) for a in conclusion.actions]},
            db.session.get(Meeting, change.meeting_id))]
    return []


def _visible(client: ApiClient, ev: Event) -> bool:
    if not policy.has_scope(client, EVENTS[ev.type]):
        return False
    if ev.item is not None:
        return policy.item_visible(client, ev.item)
    if ev.meeting is not None:
        return policy.meeting_visible(client, ev.meeting)
    return ev.organisation_id == client.organisation_id


def _for_client(client: ApiClient, ev: Event) -> dict[str, Any]:
    data = {k: v for k, v in ev.data.items() if not k.startswith("_")}
    if ev.type == "conclusion.issued":  # only the client's own action items
        data["action_ids"] = [a for a, org in ev.data["_actions"] if org == client.organisation_id]
    return data


def _receivers(session: Session) -> list[ApiClient]:
    return list(session.scalars(select(ApiClient).where(ApiClient.webhook_url.is_not(None),
                                                        ApiClient.revoked_at.is_(None))))


def stage(session: Session, events: list[Event]) -> list[int]:
    """Write the deliveries of these events, in the current transaction; queue them after its commit."""
    if not events:
        return []
    clients = _receivers(session)
    if not clients:
        return []
    now = utcnow()
    rows = []
    for ev in events:
        for client in clients:
            if not _visible(client, ev):
                continue
            event_id = "msg_" + uuid.uuid4().hex
            body = json.dumps({"type": ev.type, "timestamp": now.isoformat(), "data": _for_client(client, ev)},
                              separators=(",", ":"), ensure_ascii=False)
            rows.append(WebhookDelivery(client_id=client.id, event_id=event_id, event_type=ev.type, payload=body,
                                        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now,
                                        created_at=now))
    if not rows:
        return []
    session.add_all(rows)
    session.flush()
    ids = [r.id for r in rows]
    _enqueue_after_commit(ids)
    return ids


_WATCHED = {"ballot.close", "consent.adopt", "conclusion.issue", "action.update"}


@domain_events.subscribe
def _on_meeting_changes(session: Session, changes: list[MeetingChange]) -> None:
    if not any(c.type in _WATCHED for c in changes):
        return  # most commits (the live room's) concern no webhook: not even a query
    events = [ev for change in changes for ev in _outcome_events(change)]
    for change in changes:
        # The minutes service names the action and both statuses; a progress note alone changes no status.
        details = change.details
        if change.type != "action.update" or details.get("previous") == details.get("status"):
            continue
        action = session.get(ActionItem, details.get("action_id"))
        if action is not None and action.organisation_id is not None:
            events.append(Event("action.status_changed", action.organisation_id, {
                "action_id": action.id, "meeting_id": change.meeting_id, "title": action.title,
                "status": details["status"], "previous_status": details.get("previous")}))
    stage(session, events)


@submission_hooks.status_changed.register("api.webhooks")
def submission_status_changed(submission: Any, previous: str | None) -> None:
    """Tell the submitting organisation's clients (scope ``submissions:write``) that a submission's status
    changed, staged in the submissions service's unit of work like the other events."""
    if submission.organisation_id is None:
        return
    db.session.flush()  # a new submission gets its id
    stage(db.session(), [Event("submission.status_changed", submission.organisation_id, {
        "submission_id": submission.id, "status": submission.status.value, "previous_status": previous})])


def _enqueue_after_commit(ids: list[int]) -> None:
    uow.after_commit(_enqueue, list(ids))


def _enqueue(ids: list[int]) -> None:
    from ecabinet.api import tasks

    for delivery_id in ids:
        try:
            tasks.send_webhook(delivery_id)
        except Exception:  # noqa: BLE001 - the row is committed: the periodic job sends it
            log.warning("webhook delivery %s not queued", delivery_id, exc_info=True)


# --- sending --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    event_id: str
    url: str | None
    secret: str | None
    body: bytes


def claim(delivery_id: int, now: datetime) -> Claimed | None:
    """Take a due delivery for one attempt (none other takes it for LEASE); None when it is not due."""
    taken = db.session.execute(update(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.status == DeliveryStatus.PENDING,
        WebhookDelivery.next_attempt_at <= now).values(next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)).rowcount
    if not taken:
        return None
    row = db.session.get(WebhookDelivery, delivery_id)
    client = row.client
    usable = client.active and client.webhook_url and client.webhook_secret
    return Claimed(row.id, row.event_id, client.webhook_url if usable else None,
                   client.webhook_secret if usable else None, row.payload.encode())


def attempt(delivery_id: int, now: datetime | None = None) -> str | None:
    """One attempt: claim (and commit), send with no database connection held, record (and commit).
    Returns the delivery's status afterwards, or None when it was not due. This is a boundary."""
    now = now or utcnow()
    claimed = claim(delivery_id, now)
    uow.commit()  # the session gives its connection back while the request waits on the network
    if claimed is None:
        return None
    started = time.monotonic()
    status_code, error = _send(claimed) if claimed.url else (None, "The client has no webhook URL.")
    duration = int((time.monotonic() - started) * 1000)
    status = record(claimed.delivery_id, now, status_code, error, duration)
    uow.commit()
    if status == DeliveryStatus.PENDING:
        _schedule_retry(claimed.delivery_id)
    return status


def record(delivery_id: int, now: datetime, status_code: int | None, error: str | None, duration_ms: int) -> str:
    row = db.session.get(WebhookDelivery, delivery_id)
    row.log.append(WebhookAttempt(at=now, status_code=status_code, error=(error or None) and error[:500],
                                  duration_ms=duration_ms))
    row.attempts += 1
    if status_code is not None and 200 <= status_code < 300:
        row.status, row.delivered_at, row.next_attempt_at = DeliveryStatus.DELIVERED, utcnow(), None
    elif row.attempts >= MAX_ATTEMPTS or error == "The client has no webhook URL.":
        row.status, row.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        row.next_attempt_at = now + timedelta(seconds=BACKOFF[row.attempts - 1])
    db.session.flush()
    return row.status


def _schedule_retry(delivery_id: int) -> None:
    from ecabinet.api import tasks

    row = db.session.get(WebhookDelivery, delivery_id)
    if row is None or row.next_attempt_at is None:
        return
    delay = max(0.0, (row.next_attempt_at - utcnow()).total_seconds())
    db.session.rollback()  # only read: give the connection back
    try:
        tasks.send_webhook.schedule(args=(delivery_id,), delay=delay)
    except Exception:  # noqa: BLE001 - the periodic job sends it when due
        log.warning("webhook retry %s not scheduled", delivery_id, exc_info=True)


def due(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Deliveries overdue by more than OVERDUE: their own job was lost (or the worker was down)."""
    now = now or utcnow()
    return list(db.session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now - OVERDUE)
        .order_by(WebhookDelivery.next_attempt_at).limit(limit)))


def _send(claimed: Claimed) -> tuple[int | None, str | None]:
    """POST the body, signed; no redirect is followed. (status, None) or (None, what went wrong)."""
    parts = urlsplit(claimed.url)
    host, https = parts.hostname or "", parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        address = _address(host, port)
    except (OSError, WebhookError) as exc:
        return None, str(exc) or type(exc).__name__
    timeout = float(current_app.config.get("WEBHOOK_TIMEOUT", TIMEOUT))
    timestamp = int(time.time())
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "webhook-id": claimed.event_id,
               "webhook-timestamp": str(timestamp),
               "webhook-signature": sign(claimed.secret or "", claimed.event_id, timestamp, claimed.body)}
    conn_class = http.client.HTTPSConnection if https else http.client.HTTPConnection
    conn = conn_class(host, port, timeout=timeout)
    # Connect to the address that was checked, not to whatever the name resolves to a moment later.
    conn._create_connection = lambda _addr, *args: socket.create_connection((address, port), *args)  # noqa: SLF001
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=claimed.body, headers=headers)
        response = conn.getresponse()
        response.read(65536)
        return response.status, None
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    finally:
        conn.close()


def _address(host: str, port: int) -> str:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise WebhookError("The webhook host has no address.")
    if not (_allow_loopback() and _is_loopback(host)):
        for address in addresses:
            if not _public(ipaddress.ip_address(address.split("%")[0])):
                raise WebhookError("Refused: the webhook host resolves to a private, loopback or reserved address.")
    return addresses[0]
