"""Every notification and email in its reader's language: what a meeting's life sends (the agenda, a
guest's invitation, a new version of a document, a written-opinion ballot sent, reminded and closed, the
minutes circulated), rendered for a Vietnamese and an English reader, with no message of the other
language, no untranslated message id and no raw state code."""

from __future__ import annotations

import io
from datetime import timedelta

from flask_babel import force_locale

from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.notifications import service as notifications
from ecabinet.notifications.models import Notification
from tests.core.test_every_word import PAIRS, RAW_CODES
from tests.documents.app_fixtures import briefing, briefing_v2  # noqa: F401 - fixtures reused here
from tests.meetings.conftest import actor, cabinet, draft, published  # noqa: F401
from tests.security.test_access_matrix import world  # noqa: F401
from tests.voting.conftest import make_written


def _misses(text: str, language: str, where: str) -> list[str]:
    found = [f"{where}: raw code {code!r}" for code in sorted(set(RAW_CODES.findall(text)))]
    for english, vietnamese in PAIRS:
        wrong = english if language == "vi" else vietnamese
        if wrong in text:
            found.append(f"{where}: {'English' if language == 'vi' else 'Vietnamese'} {wrong!r}")
    return found


def test_every_notification_and_email_speaks_its_readers_language(app, world, cabinet, briefing_v2):  # noqa: F811
    from ecabinet.documents import service as documents
    from ecabinet.jobs import huey
    from ecabinet.minutes import service as minutes
    from ecabinet.voting import service as voting

    cabinet["member"].locale = "en"
    cabinet["member2"].locale = "vi"
    db.session.commit()
    app.config["SMTP_URL"] = "smtp://127.0.0.1:25"  # queued, not sent: the jobs' arguments are the emails
    huey.flush()
    secretary = actor(cabinet["secretary"])

    documents.replace(secretary, documents.get_document(world["document_id"]), io.BytesIO(briefing_v2), "v2.pdf")
    ballot = make_written(cabinet)
    voting.approve_ballot(actor(cabinet["chair"]), ballot)
    voting.send_ballot(secretary, ballot)
    db.session.commit()
    voting.send_due_reminders(now=utcnow() + timedelta(hours=71))
    voting.close_ballot(secretary, ballot, reason="deadline")
    db.session.commit()
    minutes.circulate(secretary, minutes.get_minutes(world["minutes_id"]), utcnow() + timedelta(days=2))
    db.session.commit()

    misses: list[str] = []
    rows = db.session.query(Notification).all()
    keys = {row.key for row in rows}
    assert len(keys) >= 4, keys
    for row in rows:
        for language in ("vi", "en"):
            with app.test_request_context(), force_locale(language):
                text = notifications.notification_text(row)
            misses += _misses(text, language, f"{language} notification {row.key!r}")
            if language == "vi":
                assert text != row.key, f"untranslated notification {row.key!r}"

    emails = [t for t in huey.pending() if t.name.endswith("send_notification_email")]
    assert emails, "no email was queued"
    for task in emails:
        recipients, text = task.args
        readers = {cabinet[r].email: cabinet[r].locale or "vi" for r in cabinet}
        for language in {readers.get(address, "vi") for address in recipients}:
            misses += _misses(text, language, f"{language} email to {recipients[:2]}")
    huey.flush()
    assert misses == [], "\n".join(sorted(set(misses))[:40])
