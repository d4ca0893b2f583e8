"""Floods held off: socket events are rate limited per socket and per user before anything else runs; a
member's comments per item are bounded; a snapshot carries only the latest comments of each item, older
ones come a page at a time; refused handshakes are audited in aggregate per source address."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from flask_babel import force_locale
from sqlalchemy import event, func, select

from ecabinet.audit.models import AuditEntry
from ecabinet.core.ratelimit import RATES, USER_FACTOR, Rate, SocketLimiter, limiter
from ecabinet.extensions import db
from ecabinet.live import service
from ecabinet.live.guard import refused_handshakes
from ecabinet.live.models import Comment
from tests.conftest import PASSWORD
from tests.helpers import login
from tests.meetings.conftest import actor


def _socket(app, client):  # noqa: ANN001
    sio = app.extensions["socketio"].test_client(app, flask_test_client=client, headers={"Origin": "http://localhost"})
    assert sio.is_connected()
    return sio


@pytest.fixture
def member_socket(app, client, in_session, cabinet):
    login(client, cabinet["member"].email, PASSWORD)
    sio = _socket(app, client)
    yield sio, in_session
    if sio.is_connected():
        sio.disconnect()


def _comment(sio, meeting, n: int | str):  # noqa: ANN001
    return sio.emit("comment.post", {"meeting_id": meeting.id, "item_id": meeting.items[0].id,
                                     "body": f"Ý kiến {n}", "client_id": f"flood-{n}-{uuid.uuid4().hex[:8]}"},
                    callback=True)


def _stored_comments(meeting) -> int:  # noqa: ANN001
    db.session.rollback()
    return db.session.scalar(select(func.count(Comment.id)).where(Comment.meeting_id == meeting.id))


def _details(entry: AuditEntry) -> dict:
    return json.loads(entry.details)


def _audited(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


# --- the limiter itself, on a clock of its own -----------------------------------------------------------

def test_a_bucket_allows_its_burst_then_refills_at_its_rate():
    limits = SocketLimiter({"chatty": Rate(count=5, seconds=10, burst=10)})
    assert all(limits.take("s1", "chatty", now=0.0) is None for _ in range(10))
    wait = limits.take("s1", "chatty", now=0.0)
    assert wait == pytest.approx(2.0)  # one token back every 2 s
    assert limits.take("s1", "chatty", now=1.9) is not None
    assert limits.take("s1", "chatty", now=2.0) is None
    assert limits.take("s1", "chatty", now=2.0) is not None  # a refusal spends nothing, and gets nothing


def test_a_users_sockets_share_the_users_bucket():
    rate = Rate(count=1, seconds=3600, burst=3)
    limits = SocketLimiter({"chatty": rate})
    for n in range(5):
        limits.bind(f"s{n}", 7)
    taken = sum(limits.take(f"s{n}", "chatty", now=0.0) is None for n in range(5) for _ in range(3))
    assert taken == rate.burst * USER_FACTOR  # not 5 sockets x 3


def test_buckets_are_dropped_on_disconnect_and_when_full():
    limits = SocketLimiter(dict(RATES))
    limits.bind("s1", 1)
    limits.take("s1", "chatty", now=0.0)
    limits.take("s2", "read", now=0.0)
    assert len(limits) == 3  # s1's, the user's, s2's
    limits.forget("s1")
    assert limits.user_of("s1") is None and len(limits) == 2
    limits._sweep(now=3600.0)  # both refilled long ago: the same as no bucket
    assert len(limits) == 0


def test_every_event_declares_a_rate_class(app):
    from ecabinet.core.policy import EVENT_RATES, EVENT_RULES

    assert set(EVENT_RULES) == set(EVENT_RATES)
    assert EVENT_RATES["comment.post"] == "chatty" and EVENT_RATES["vote.cast"] == "vote"
    assert EVENT_RATES["join"] == "read" and EVENT_RATES["comments.page"] == "read"
    assert {EVENT_RATES[e] for e in EVENT_RULES if e.startswith("chair.")} == {"chair"}


# --- a flood of comments over a socket -------------------------------------------------------------------

def test_a_comment_flood_is_answered_rate_limited_after_the_burst(app, member_socket):
    sio, meeting = member_socket
    burst, per_second = RATES["chatty"].burst, RATES["chatty"].per_second
    started = time.monotonic()
    answers = [_comment(sio, meeting, n) for n in range(60)]
    elapsed = time.monotonic() - started
    accepted = [a for a in answers if a["ok"]]
    limited = [a for a in answers if not a["ok"]]
    assert all(a["ok"] for a in answers[:burst]), answers[:burst]
    # The burst, and what refilled while the flood lasted; everything else refused, with when to retry.
    assert burst <= len(accepted) <= burst + int(elapsed * per_second) + 1
    assert limited and all(a == {"ok": False, "error": "rate_limited", "retry_after": a["retry_after"]}
                           and a["retry_after"] >= 1 for a in limited)
    # Nothing beyond the limit is stored, nor audited.
    assert _stored_comments(meeting) == len(accepted)
    assert len(_audited("comment.post")) == len(accepted)


def test_a_rate_limited_event_touches_no_database(app, member_socket):
    sio, meeting = member_socket
    while _comment(sio, meeting, "x")["ok"]:
        pass
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert _comment(sio, meeting, "y")["error"] == "rate_limited"
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert statements == []


def test_other_classes_go_on_while_comments_are_limited(app, member_socket):
    sio, meeting = member_socket
    while _comment(sio, meeting, "x")["ok"]:
        pass
    assert sio.emit("join", {"meeting_id": meeting.id}, callback=True)["ok"]


def test_more_sockets_do_not_multiply_a_users_allowance(app, client, in_session, cabinet):
    login(client, cabinet["member"].email, PASSWORD)
    sockets = [_socket(app, client) for _ in range(4)]
    try:
        started = time.monotonic()
        accepted = sum(_comment(sio, in_session, f"{i}-{n}")["ok"] for i, sio in enumerate(sockets)
                       for n in range(RATES["chatty"].burst))
        elapsed = time.monotonic() - started
    finally:
        for sio in sockets:
            sio.disconnect()
    assert accepted <= RATES["chatty"].burst * USER_FACTOR + int(elapsed * RATES["chatty"].per_second) + 1
    assert _stored_comments(in_session) == accepted


def test_a_closed_sockets_buckets_are_dropped(app, member_socket):
    sio, meeting = member_socket
    _comment(sio, meeting, 1)
    limits = limiter(app)
    assert len(limits._sockets) == 1 and len(limits._users) == 1
    sio.disconnect()
    assert limits._sockets == {} and limits._users == {}


# --- comments per member per item ------------------------------------------------------------------------

def test_a_member_may_post_at_most_so_many_comments_on_an_item(app, in_session, cabinet, monkeypatch):
    from ecabinet.live.service import comments

    monkeypatch.setattr(comments, "MAX_COMMENTS_PER_ITEM", 3)
    member, first, second = actor(cabinet["member"]), in_session.items[0].id, in_session.items[1].id
    for n in range(3):
        service.post_comment(member, in_session, first, f"Ý kiến {n}", f"per-item-{n}")
    with pytest.raises(service.LiveError) as refused:
        service.post_comment(member, in_session, first, "Một ý kiến nữa", "per-item-3")
    with force_locale("vi"):
        assert refused.value.translated() == "Bạn đã gửi đủ 3 ý kiến cho vấn đề này."
    with force_locale("en"):
        assert refused.value.translated() == "You have already posted 3 comments on this item."
    # A retry of a stored comment is still answered with it; another item and another member go on.
    assert service.post_comment(member, in_session, first, "Ý kiến 0", "per-item-0").body == "Ý kiến 0"
    service.post_comment(member, in_session, second, "Ý kiến khác", "per-item-4")
    service.post_comment(actor(cabinet["member2"]), in_session, first, "Ý kiến khác", "per-item-5")


# --- bounded snapshots and paging ------------------------------------------------------------------------

def _many_comments(meeting, cabinet, n: int) -> list[int]:  # noqa: ANN001
    item = meeting.items[0]
    rows = [Comment(meeting_id=meeting.id, item_id=item.id, author_id=cabinet["member"].id,
                    client_id=f"bulk-{i:05d}", body=f"Ý kiến {i}") for i in range(n)]
    db.session.add_all(rows)
    db.session.commit()
    return [r.id for r in rows]


def test_a_snapshot_carries_the_latest_comments_of_each_item_and_their_count(app, in_session, cabinet):
    ids = _many_comments(in_session, cabinet, service.COMMENTS_PER_PAGE + 70)
    snap = service.snapshot(cabinet["member"], in_session)
    first = str(in_session.items[0].id)
    assert [c["comment_id"] for c in snap["comments"]] == ids[-service.COMMENTS_PER_PAGE:]
    assert snap["comment_counts"][first] == len(ids)
    assert snap["comments_per_item"] == service.COMMENTS_PER_PAGE


def test_older_comments_come_a_page_at_a_time(app, member_socket, cabinet):
    sio, meeting = member_socket
    ids = _many_comments(meeting, cabinet, 2 * service.COMMENTS_PER_PAGE + 20)
    item_id = meeting.items[0].id
    snap = sio.emit("join", {"meeting_id": meeting.id}, callback=True)["snapshot"]
    seen = [c["comment_id"] for c in snap["comments"]]
    pages = 0
    more = True
    while more:
        page = sio.emit("comments.page", {"meeting_id": meeting.id, "item_id": item_id, "before_id": seen[0]},
                        callback=True)
        assert page["ok"] and page["item_id"] == item_id, page
        assert len(page["comments"]) <= service.COMMENTS_PER_PAGE
        seen = [c["comment_id"] for c in page["comments"]] + seen
        more, pages = page["more"], pages + 1
    assert seen == ids and pages == 2
    newest = sio.emit("comments.page", {"meeting_id": meeting.id, "item_id": item_id}, callback=True)
    assert [c["comment_id"] for c in newest["comments"]] == ids[-service.COMMENTS_PER_PAGE:] and newest["more"]


def test_a_guest_cannot_page_the_comments_of_an_item_they_are_kept_from(app, client, in_session, cabinet):
    login(client, cabinet["guest"].email, PASSWORD)
    sio = _socket(app, client)
    try:
        kept_from = sio.emit("comments.page", {"meeting_id": in_session.id, "item_id": in_session.items[1].id},
                             callback=True)
        invited = sio.emit("comments.page", {"meeting_id": in_session.id, "item_id": in_session.items[0].id},
                           callback=True)
    finally:
        sio.disconnect()
    assert kept_from["ok"] is False and kept_from["error"] in ("not_found", "forbidden")
    assert invited["ok"] is True


# --- refused handshakes, audited in aggregate ------------------------------------------------------------

def _foreign_handshake(client, address: str) -> int:  # noqa: ANN001
    return client.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": "https://evil.example"},
                      environ_base={"REMOTE_ADDR": address}).status_code


def test_refused_handshakes_from_one_address_write_one_entry_per_interval(app, client, users):
    refusals = refused_handshakes(app)
    assert all(_foreign_handshake(client, "203.0.113.9") == 403 for _ in range(200))
    entries = _audited("security.socket_refused")
    assert len(entries) == 1  # the first refusal, at once
    assert entries[0].ip == "203.0.113.9" and _details(entries[0])["count"] == 1
    assert _details(entries[0])["origin"] == "https://evil.example"
    # Another address has an interval of its own.
    assert _foreign_handshake(client, "198.51.100.7") == 403
    assert len(_audited("security.socket_refused")) == 2
    # The interval ends: the 199 counted in memory are written in one entry, which opens the next interval.
    refusals.flush(now=time.monotonic() + refusals.interval + 1)
    entries = [e for e in _audited("security.socket_refused") if e.ip == "203.0.113.9"]
    assert [_details(e)["count"] for e in entries] == [1, 199]
    assert _details(entries[1])["reasons"] == {"origin_not_allowed": 199}
    # An interval that ends with nothing counted closes: the next refusal is written at once again.
    refusals.flush(now=time.monotonic() + 3 * refusals.interval)
    assert len(_audited("security.socket_refused")) == 3
    assert _foreign_handshake(client, "203.0.113.9") == 403
    entries = _audited("security.socket_refused")
    assert len(entries) == 4 and _details(entries[-1])["count"] == 1


def test_refusals_counted_in_an_ended_interval_go_with_the_next_entry(app, users):
    refusals = refused_handshakes(app)
    interval = refusals.interval
    assert refusals.refused("192.0.2.1", "origin_not_allowed", "https://evil.example", now=0.0) is True
    for n in range(5):
        assert refusals.refused("192.0.2.1", "not_signed_in", None, now=1.0 + n) is False
    # The interval has ended, the flusher has not run yet: the next refusal writes them with itself.
    assert refusals.refused("192.0.2.1", "origin_not_allowed", "https://evil.example", now=interval + 1) is True
    assert refusals.refused("192.0.2.1", "origin_not_allowed", "https://evil.example", now=interval + 2) is False
    entries = _audited("security.socket_refused")
    assert [_details(e)["count"] for e in entries] == [1, 6]
    assert _details(entries[1])["reasons"] == {"not_signed_in": 5, "origin_not_allowed": 1}
    assert refusals.flush(now=2 * interval + 1) == 1  # the one counted: written, and its interval stays open
    assert [_details(e)["count"] for e in _audited("security.socket_refused")] == [1, 6, 1]
    assert refusals.flush(now=4 * interval) == 0


def test_refused_anonymous_connections_are_aggregated_with_the_address(app, client, users):
    for _ in range(20):
        sio = app.extensions["socketio"].test_client(app, flask_test_client=client,
                                                     headers={"Origin": "http://localhost"})
        assert not sio.is_connected()
    entries = _audited("security.socket_refused")
    assert len(entries) == 1 and _details(entries[0])["reason"] == "not_signed_in"
    refused_handshakes(app).flush(now=time.monotonic() + refused_handshakes(app).interval + 1)
    assert [_details(e)["count"] for e in _audited("security.socket_refused")] == [1, 19]


def test_a_socket_that_ignores_retry_after_is_closed(app, member_socket):
    """A client that keeps sending after being told to wait is disconnected, so answering it stops
    costing the instance; a real tablet waits out ``retry_after``."""
    from ecabinet.core.ratelimit import DISCONNECT_AFTER_REFUSALS

    sio, meeting = member_socket
    n = 0
    while sio.is_connected() and n < RATES["chatty"].burst + DISCONNECT_AFTER_REFUSALS + 20:
        _comment(sio, meeting, n)
        n += 1
    assert not sio.is_connected()
    assert n <= RATES["chatty"].burst + DISCONNECT_AFTER_REFUSALS + 5
    # The comments accepted before it stayed; nothing after.
    assert _stored_comments(meeting) <= RATES["chatty"].burst + 2
