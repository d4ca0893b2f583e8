"""Publishing an agenda emails the participants through the job queue, once the change is committed."""

from __future__ import annotations


def test_publishing_queues_email_only_when_smtp_is_configured(app, draft, cabinet):
    from ecabinet.extensions import db
    from ecabinet.jobs import huey
    from ecabinet.meetings import service
    from tests.meetings.conftest import actor

    def queued_emails() -> list:
        return [t for t in huey.pending() if t.name.endswith("send_notification_email")]

    huey.flush()
    service.publish(actor(cabinet["secretary"]), draft)
    db.session.commit()
    assert queued_emails() == []
    app.config["SMTP_URL"] = "smtp://127.0.0.1:25"
    service.update_item(actor(cabinet["secretary"]), draft.items[0], service.ItemData(title="Decision A, sửa"))
    service.publish(actor(cabinet["secretary"]), draft)
    db.session.commit()  # the email is queued once the change is committed
    (task,) = queued_emails()
    recipients, _text = task.args
    assert "member@example.gov.vn" in recipients
    huey.flush()
