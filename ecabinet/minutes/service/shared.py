"""What the minutes modules share: the errors, the sanitiser, the lookups and the role checks."""

from __future__ import annotations

import re

import nh3
from sqlalchemy import select

from ecabinet.core.actor import Actor
from ecabinet.core.errors import DomainError
from ecabinet.extensions import db
from ecabinet.meetings import policy as meetings_policy
from ecabinet.meetings.models import Meeting
from ecabinet.minutes.models import Minutes, MinutesRevision, MinutesStatus

MAX_BODY = 500_000
ALLOWED_TAGS = {"h1", "h2", "h3", "h4", "p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "table",
                "thead", "tbody", "tr", "th", "td", "blockquote", "span"}


class MinutesError(DomainError):
    """A minutes request that breaks a rule."""


class EditConflict(MinutesError):
    """Someone saved a newer revision since this editor opened the text."""

    status = 409


def sanitise(html: str) -> str:
    """The editor's rich text, reduced to harmless structure: no script, no style, no attributes."""
    return nh3.clean(html or "", tags=ALLOWED_TAGS, attributes={}, url_schemes=set(), strip_comments=True)


def text_lines(html: str) -> list[str]:
    """The text of the rich text, one line per paragraph, heading, list item or table row."""
    text = re.sub(r"<(br|/p|/h[1-4]|/li|/tr)[^>]*>", "\n", html)
    text = re.sub(r"<[^>]+>", " ", text)
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()]


# --- lookups --------------------------------------------------------------------------------------

def minutes_of(meeting: Meeting) -> list[Minutes]:
    return list(db.session.scalars(select(Minutes).where(Minutes.meeting_id == meeting.id).order_by(Minutes.id)))



def current_body(minutes: Minutes) -> str:
    return minutes.revisions[-1].body if minutes.revisions else ""


def get_revision(minutes: Minutes, number: int) -> MinutesRevision | None:
    return next((r for r in minutes.revisions if r.number == number), None)


# --- who may ------------------------------------------------------------------------------------

def require_secretary(actor: Actor) -> None:
    if not meetings_policy.secretariat_may_act(actor):
        raise MinutesError("Only the secretariat may do this.")


def require_chair(actor: Actor, meeting: Meeting) -> None:
    if actor.user is not None and meeting.chair_id != actor.user.id:
        raise MinutesError("Only the chair of this meeting may do this.")


def require_editable(minutes: Minutes) -> None:
    if minutes.status is not MinutesStatus.DRAFT and minutes.status is not MinutesStatus.CIRCULATED:
        raise MinutesError("Final minutes are locked. Make a correction instead.")
