"""Notifications: a message to some users, stored in the unit of work and emailed after it commits.

A notification is stored as an English msgid with its parameters, never as text: each reader sees it
in their own language (``notification_text``), and each recipient's email is rendered in theirs.
Email goes through the job queue, queued only after the commit (a rolled-back change notifies nobody)
and only when SMTP_URL is set.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from ecabinet.accounts.models import User
from ecabinet.core import uow
from ecabinet.core.actor import Actor
from ecabinet.core.i18n import LANGUAGES
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.notifications.models import Notification


def notify(user_ids: Iterable[int], key: str, params: Mapping[str, Any] | None = None,
           meeting_id: int | None = None, email: bool = True) -> list[Notification]:
    """Store one notification per user (``key`` is an English msgid with ``%(name)s`` parameters) and,
    if ``email``, queue its email once the unit of work has committed."""
    ids = list(dict.fromkeys(user_ids))  # one row per reader, even when a caller names someone twice
    stored = json.dumps(dict(params or {}), ensure_ascii=False)
    rows = [Notification(user_id=user_id, meeting_id=meeting_id, key=key, params=stored) for user_id in ids]
    db.session.add_all(rows)
    if email and ids and current_app.config.get("SMTP_URL"):
        uow.after_commit(_queue_emails, ids, key, stored)
    return rows


def _queue_emails(user_ids: list[int], key: str, params: str) -> None:
    """After the commit: one job per language, its text rendered in that language."""
    from ecabinet.notifications.tasks import send_notification_email

    default = current_app.config["DEFAULT_LOCALE"]
    by_language: dict[str, list[str]] = {}
    rows = db.session.execute(select(User.email, User.locale)
                              .where(User.id.in_(user_ids), User.active.is_(True)).order_by(User.id))
    for address, locale in rows:
        by_language.setdefault(locale if locale in LANGUAGES else default, []).append(address)
    values = json.loads(params)
    for language, recipients in by_language.items():
        with force_locale(language):
            text = gettext(key, **values)
        send_notification_email(recipients, text)


def notices_sent(meeting_id: int, keys: Iterable[str]) -> dict[int, dict[str, tuple[datetime, int]]]:
    """Who was sent which of these messages about a meeting: per user, per key, (the last time, how many
    times). The notifications themselves are the record of who was told and when."""
    rows = db.session.execute(
        select(Notification.user_id, Notification.key, func.max(Notification.created_at), func.count())
        .where(Notification.meeting_id == meeting_id, Notification.key.in_(list(keys)))
        .group_by(Notification.user_id, Notification.key))
    sent: dict[int, dict[str, tuple[datetime, int]]] = {}
    for user_id, key, last, count in rows:
        sent.setdefault(user_id, {})[key] = (last, count)
    return sent


def notification_text(note: Notification) -> str:
    """The notification in the current reader's language."""
    return gettext(note.key, **json.loads(note.params or "{}"))


def notifications_for(user: User, limit: int = 20) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id.desc()).limit(limit)))


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_all_read(actor: Actor) -> int:
    if actor.user is None:
        return 0
    rows = db.session.scalars(select(Notification).where(Notification.user_id == actor.user.id,
                                                         Notification.read_at.is_(None))).all()
    now = utcnow()
    for row in rows:
        row.read_at = now
    return len(rows)
