"""A notification is stored in the caller's unit of work, emailed only after it commits (never after a
rollback), and read in each reader's own language."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from ecabinet.extensions import db
from ecabinet.notifications import service
from ecabinet.notifications.models import Notification
from tests.conftest import PASSWORD
from tests.helpers import csrf_from, login

STARTED = "The meeting “%(title)s” has started."
STARTED_VI = "Phiên họp “Phiên thường kỳ” đã bắt đầu."
STARTED_EN = "The meeting “Phiên thường kỳ” has started."


@pytest.fixture
def smtp(app):
    """SMTP configured, and the job queue empty before and after the test."""
    from ecabinet.jobs import huey

    app.config["SMTP_URL"] = "smtp://127.0.0.1:25"
    huey.flush()
    yield
    huey.flush()


def queued_emails() -> list[tuple[list[str], str]]:
    from ecabinet.jobs import huey

    return [tuple(t.args) for t in huey.pending() if t.name.endswith("send_notification_email")]


def stored() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification)) or 0


def test_notify_stores_one_row_per_reader(users):
    ids = [users["member"].id, users["chair"].id, users["member"].id]
    service.notify(ids, STARTED, {"title": "Phiên thường kỳ"})
    db.session.commit()
    rows = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [r.user_id for r in rows] == [users["member"].id, users["chair"].id]
    assert json.loads(rows[0].params) == {"title": "Phiên thường kỳ"}
    assert service.unread_count(users["member"]) == 1


def test_email_is_queued_only_after_the_commit(users, smtp):
    service.notify([users["member"].id], STARTED, {"title": "Phiên thường kỳ"})
    assert queued_emails() == []  # staged, not committed: nobody may hear of it yet
    db.session.commit()
    assert queued_emails() == [(["member@example.gov.vn"], STARTED_VI)]


def test_nothing_is_emailed_after_a_rollback(users, smtp):
    service.notify([users["member"].id], STARTED, {"title": "Phiên thường kỳ"})
    db.session.rollback()
    db.session.commit()  # a later commit does not send what was rolled back
    assert queued_emails() == []
    assert stored() == 0


def test_no_email_when_the_caller_asks_for_none(users, smtp):
    service.notify([users["member"].id], STARTED, {"title": "Phiên thường kỳ"}, email=False)
    db.session.commit()
    assert queued_emails() == [] and stored() == 1


def test_each_recipient_is_emailed_in_their_own_language(users, smtp):
    users["chair"].locale = "en"
    db.session.commit()
    service.notify([users["member"].id, users["chair"].id], STARTED, {"title": "Phiên thường kỳ"})
    db.session.commit()
    assert sorted(queued_emails()) == sorted([(["member@example.gov.vn"], STARTED_VI),
                                              (["chair@example.gov.vn"], STARTED_EN)])


def test_the_text_is_rendered_in_the_readers_language(app, users):
    from flask_babel import force_locale

    (note,) = service.notify([users["member"].id], STARTED, {"title": "Phiên thường kỳ"}, email=False)
    with app.test_request_context():
        with force_locale("vi"):
            assert service.notification_text(note) == STARTED_VI
        with force_locale("en"):
            assert service.notification_text(note) == STARTED_EN


def test_the_home_page_shows_it_in_the_signed_in_readers_language(client, users):
    users["chair"].locale = "en"
    service.notify([users["member"].id, users["chair"].id], STARTED, {"title": "Phiên thường kỳ"}, email=False)
    db.session.commit()
    login(client, "member@example.gov.vn", PASSWORD)
    assert STARTED_VI in client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    other = client.application.test_client()
    login(other, "chair@example.gov.vn", PASSWORD)
    assert STARTED_EN in other.get("/").get_data(as_text=True)


def test_mark_read_clears_the_readers_unread_notifications(client, users):
    service.notify([users["member"].id, users["chair"].id], STARTED, {"title": "Phiên thường kỳ"}, email=False)
    db.session.commit()
    login(client, "member@example.gov.vn", PASSWORD)
    html = client.get("/").get_data(as_text=True)
    r = client.post("/notifications/read", data={"csrf_token": csrf_from(html)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/")
    assert service.unread_count(users["member"]) == 0
    assert service.unread_count(users["chair"]) == 1  # only one's own


def test_mark_read_needs_a_signed_in_user(client, users):
    assert client.post("/notifications/read", data={}).status_code in (302, 400, 401)
