"""What the submission services share: their error, the limits, the checks of who acts, and the record
of each step (audit entry and notices)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.audit import service as audit
from ecabinet.core.actor import Actor
from ecabinet.core.errors import DomainError
from ecabinet.core.roles import Role
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.notifications.service import notify
from ecabinet.pdf.errors import PdfError
from ecabinet.submissions import hooks, policy
from ecabinet.submissions.models import Submission, SubmissionComment, SubmissionStatus

TITLE_MAX = 300
SUMMARY_MAX = 5000
COMMENT_MAX = 2000
MAX_FILES = 10

# Still in the secretariat's hands: it may be returned, accepted, withdrawn or merged.
PENDING = (SubmissionStatus.SUBMITTED, SubmissionStatus.RETURNED)

# Notices (English msgids; the reader's language at reading time).
N_NEW = "New submission from %(ministry)s: “%(title)s”."
N_NEW_VERSION = "%(ministry)s sent a new version of “%(title)s”."
N_RETURNED = "Your submission “%(title)s” was returned for revision."
N_ACCEPTED_MEETING = "Your submission “%(title)s” was accepted and put on the agenda of “%(meeting)s”."
N_ACCEPTED_WRITTEN = "Your submission “%(title)s” was accepted and will be decided by written opinions."
N_WITHDRAWN = "The submission “%(title)s” was withdrawn."
N_MERGED = "Your submission “%(title)s” was merged into “%(into)s”."
N_OUTCOME = "A decision was reached on your submission “%(title)s”."


def set_status(submission: Submission, status: SubmissionStatus | None = None) -> None:
    """Move the submission to ``status`` (a new one keeps its own) and tell the layers above (webhooks)."""
    previous = None if status is None else submission.status.value
    if status is not None:
        submission.status = status
    for changed in hooks.status_changed:
        changed(submission, previous)


class SubmissionError(DomainError):
    """A submission request that cannot be carried out. ``field`` names the form field it is about."""

    def __init__(self, message: str, field: str | None = None, cause: PdfError | None = None, **params: Any) -> None:
        if cause is not None:
            params["reason"] = str(cause)
        super().__init__(message, **params)
        self.field = field
        self.cause = cause

    def translated(self) -> str:
        from flask_babel import gettext

        params = dict(self.params)
        if self.cause is not None:  # the engine's own sentence (ecabinet/pdf/errors.py), in the reader's words
            params["reason"] = gettext(self.cause.message, **self.cause.params)
        return gettext(self.message, **params)


def require(allowed: bool, message: str = "You are not allowed to do this.") -> None:
    if not allowed:
        raise SubmissionError(message)


def require_secretary(actor: Actor) -> None:
    """The system actor (the demo data, the CLI) acts as the secretariat."""
    require(actor.user is None or policy.is_secretary(actor.user), "Only the secretariat may do this.")


def require_pending(submission: Submission) -> None:
    if submission.status not in PENDING:
        raise SubmissionError("This submission is no longer waiting for the secretariat.")


def record(actor: Actor, action: str, submission: Submission, details: dict[str, Any] | None = None) -> None:
    submission.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, action, object_type="submission", object_id=submission.id,
                 details={"title": submission.title, **(details or {})})


def add_comment(actor: Actor, submission: Submission, step: str, body: str) -> SubmissionComment | None:
    body = (body or "").strip()
    if len(body) > COMMENT_MAX:
        raise SubmissionError("The comment is longer than %(n)s characters.", field="comment", n=COMMENT_MAX)
    if not body:
        return None
    comment = SubmissionComment(submission_id=submission.id, author_id=actor.user_id, step=step,
                                version_number=submission.current_version, body=body, created_at=utcnow())
    submission.comments.append(comment)
    return comment


def liaisons_of(submission: Submission) -> list[int]:
    """Who hears of the ministry's submission: its active liaisons."""
    query = select(User.id).where(User.role == Role.LIAISON, User.active.is_(True),
                                  User.organisation_id == submission.organisation_id)
    return list(db.session.scalars(query))


def secretariat() -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.role == Role.SECRETARY, User.active.is_(True))))


def tell_ministry(submission: Submission, key: str, **params: Any) -> None:
    notify(liaisons_of(submission), key, {"title": submission.title, **params})


def tell_secretariat(submission: Submission, key: str, **params: Any) -> None:
    notify(secretariat(), key, {"title": submission.title, "ministry": submission.organisation.name, **params})
