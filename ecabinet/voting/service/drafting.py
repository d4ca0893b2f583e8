"""Drafting a ballot: the secretariat (or the chair, for a live vote) prepares it; the chair approves a
written-opinion form; a ballot not yet opened can be withdrawn."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import ItemKind, Meeting, MeetingItem, MeetingStatus
from ecabinet.voting import policy
from ecabinet.voting.models import Ballot, BallotKind, BallotQuestion, BallotStatus, Meaning, VoteRule
from ecabinet.voting.service.shared import (
    MAX_QUESTIONS,
    TEXT_MAX,
    TITLE_MAX,
    VotingError,
    live_options,
    record_change,
    require,
    written_options,
)


@dataclass
class BallotData:
    title: str
    kind: BallotKind | str = BallotKind.LIVE
    meeting_id: int | None = None
    item_id: int | None = None
    description: str = ""
    questions: list[str] = field(default_factory=list)  # empty: one question, the title
    options: list[dict[str, Any]] | None = None  # None: the kind's defaults
    rule: VoteRule | str = VoteRule.MAJORITY_CAST
    abstentions_count: bool = False
    secret: bool = False
    allow_change: bool = True
    show_running: bool = False
    allow_substitutes: bool = True
    deadline: datetime | None = None
    attachments: list[dict[str, str]] = field(default_factory=list)


def create_ballot(actor: Actor, data: BallotData) -> Ballot:
    """Draft a ballot. Written-opinion ballots: the secretariat. Live ballots: the secretariat or the chair."""
    kind, rule = _kind_and_rule(data)
    title, description = _texts(data)
    meeting, item = _meeting_and_item(data)
    if kind is BallotKind.LIVE:
        _check_live(actor, meeting)
    elif kind is BallotKind.WRITTEN:
        _check_written(actor, data.deadline)
    else:
        raise VotingError("Consent ballots are made by adopting the consent block.")
    if meeting is not None and meeting.status is MeetingStatus.CLOSED:
        raise VotingError("The meeting is closed.")
    if data.secret and data.show_running:
        raise VotingError("A secret ballot cannot show running counts: they would reveal each vote as it arrives.")
    questions = _questions(data, kind, title)
    options = _clean_options(data.options if data.options is not None else
                             (written_options() if kind is BallotKind.WRITTEN else live_options()))
    attachments = _attachments(data)
    ballot = Ballot(kind=kind, status=BallotStatus.DRAFT, meeting_id=meeting.id if meeting else None,
                    item_id=item.id if item else None, title=title, description=description, rule=rule,
                    abstentions_count=bool(data.abstentions_count), secret=bool(data.secret),
                    allow_change=bool(data.allow_change), show_running=bool(data.show_running),
                    allow_substitutes=bool(data.allow_substitutes), deadline=data.deadline,
                    attachments=json.dumps(attachments, ensure_ascii=False), created_by_id=actor.user_id,
                    created_at=utcnow())
    for n, text in enumerate(questions, start=1):
        ballot.questions.append(BallotQuestion(position=n, text=text, options=json.dumps(options, ensure_ascii=False)))
    db.session.add(ballot)
    db.session.flush()
    record_change(actor, "ballot.create", ballot, {"kind": kind.value, "rule": rule.value, "secret": ballot.secret,
                                                   "item": ballot.item_id})
    return ballot


# --- the steps of create_ballot -------------------------------------------------------------------

def _kind_and_rule(data: BallotData) -> tuple[BallotKind, VoteRule]:
    try:
        return BallotKind(data.kind), VoteRule(data.rule)
    except ValueError as exc:
        raise VotingError("Unknown kind of ballot or rule.") from exc


def _texts(data: BallotData) -> tuple[str, str]:
    title = (data.title or "").strip()
    if not title or len(title) > TITLE_MAX:
        raise VotingError("The title is required (at most %(n)s characters).", n=TITLE_MAX)
    description = (data.description or "").strip()
    if len(description) > TEXT_MAX:
        raise VotingError("The text is longer than %(n)s characters.", n=TEXT_MAX)
    return title, description


def _meeting_and_item(data: BallotData) -> tuple[Meeting | None, MeetingItem | None]:
    if data.meeting_id is None:
        meeting = None
    else:
        meeting = meetings.get_meeting(data.meeting_id)
        if meeting is None:
            raise VotingError("Unknown meeting.")
    if data.item_id is None:
        return meeting, None
    item = meetings.get_item(meeting, data.item_id) if meeting is not None else None
    if item is None:
        raise VotingError("Unknown agenda item.")
    if item.kind is not ItemKind.DECISION:
        raise VotingError("Only items for decision are voted on.")
    return meeting, item


def _check_live(actor: Actor, meeting: Meeting | None) -> None:
    if meeting is None:
        raise VotingError("A live vote belongs to a meeting.")
    if actor.user is not None:
        require(policy.may_draft_live(actor.user, meeting), "Only the secretariat or the chair may prepare a vote.")


def _check_written(actor: Actor, deadline: datetime | None) -> None:
    if actor.user is not None:
        require(policy.may_draft_written(actor.user), "Only the secretariat may do this.")
    if deadline is None:
        raise VotingError("A written-opinion ballot needs a deadline.")
    if deadline.tzinfo is None:
        raise VotingError("The deadline needs a time zone.")
    if deadline <= utcnow():
        raise VotingError("The deadline must be in the future.")


def _questions(data: BallotData, kind: BallotKind, title: str) -> list[str]:
    questions = [q.strip() for q in (data.questions or []) if q and q.strip()] or [title]
    if len(questions) > MAX_QUESTIONS or any(len(q) > TEXT_MAX for q in questions):
        raise VotingError("At most %(n)s questions, each at most %(m)s characters.", n=MAX_QUESTIONS, m=TEXT_MAX)
    if kind is BallotKind.LIVE and len(questions) != 1:
        raise VotingError("A live vote decides one resolution.")
    return questions


def _clean_options(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned, keys = [], set()
    for option in options:
        key = str(option.get("key", "")).strip()
        label = str(option.get("label", "")).strip() or key
        try:
            meaning = Meaning(option.get("meaning", Meaning.ABSTAIN))
        except ValueError as exc:
            raise VotingError("Each option means yes, no, abstain or other.") from exc
        if not re.fullmatch(r"[a-z0-9_]{1,32}", key) or key in keys or len(label) > 100:
            raise VotingError("Each option needs a distinct short key (a–z, 0–9, _) and a label.")
        keys.add(key)
        cleaned.append({"key": key, "label": label, "meaning": meaning.value,
                        "needs_comment": bool(option.get("needs_comment", False))})
    if len(cleaned) < 2:
        raise VotingError("A ballot needs at least two options.")
    return cleaned


def _attachments(data: BallotData) -> list[dict[str, str]]:
    attachments = [{"title": str(a.get("title", ""))[:200], "url": str(a.get("url", ""))[:500]}
                   for a in (data.attachments or []) if a.get("title") or a.get("url")]
    if any(a["url"] and not a["url"].startswith(("/", "https://")) for a in attachments):
        raise VotingError("Attached documents are links inside e-Cabinet or https addresses.")
    return attachments


# --- approving and withdrawing --------------------------------------------------------------------

def approve_ballot(actor: Actor, ballot: Ballot) -> None:
    """The chair approves a written-opinion form drafted by the secretariat."""
    if actor.user is not None:
        require(policy.is_chair_for(actor.user, ballot), "Only the chair may do this.")
    if ballot.kind is not BallotKind.WRITTEN:
        raise VotingError("Only written-opinion ballots are approved before sending.")
    if ballot.status is not BallotStatus.DRAFT:
        raise VotingError("This ballot is not a draft.")
    ballot.status = BallotStatus.APPROVED
    ballot.approved_by_id = actor.user_id
    ballot.approved_at = utcnow()
    record_change(actor, "ballot.approve", ballot)


def cancel_ballot(actor: Actor, ballot: Ballot) -> None:
    """Withdraw a ballot that has not been opened."""
    if actor.user is not None:
        require(policy.may_manage(actor.user, ballot), "Only the secretariat or the chair may do this.")
    if ballot.status not in (BallotStatus.DRAFT, BallotStatus.APPROVED):
        raise VotingError("Only a ballot that has not been opened can be withdrawn.")
    ballot.status = BallotStatus.CANCELLED
    record_change(actor, "ballot.cancel", ballot)
