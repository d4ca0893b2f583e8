"""Background jobs of the notifications domain: notification emails, sent by the huey worker, never on a request."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from ecabinet.jobs import app_context, huey


@huey.task(retries=3, retry_delay=60)
def send_notification_email(recipients: list[str], text: str) -> None:
    """Send one notification to each recipient through SMTP_URL (smtp://user:pass@host:port or smtps://…)."""
    with app_context():
        from flask import current_app

        url = current_app.config.get("SMTP_URL")
        sender = current_app.config.get("SMTP_FROM") or "e-cabinet@localhost"
    if not url:
        return
    parts = urlsplit(url)
    smtp_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with smtp_class(parts.hostname or "localhost", parts.port or (465 if parts.scheme == "smtps" else 25),
                    timeout=30) as smtp:
        if parts.scheme == "smtp+starttls":
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        for recipient in recipients:
            message = EmailMessage()
            message["From"] = sender
            message["To"] = recipient
            message["Subject"] = "e-Cabinet"
            message.set_content(text)
            smtp.send_message(message)
