"""Voting rules: creating, approving, opening, casting, closing, verifying. See docs/voting.md.

Every change takes the acting ``Actor``, checks its rule, records an audit entry last and commits;
a broken rule raises ``VotingError`` before anything changes. Changes that name a meeting become
numbered live events (the live domain builds their ``ballot`` payload with ``ballot_state``), except
casting and changing a vote, whose participation goes out as the coalesced ``ballot.tally`` (tally.py).

Concurrency: casting and closing both start with ``audit.lock_chain()`` and then a guarded no-op
``UPDATE ballot ... WHERE id = :id AND status = 'open'``. That statement takes the ballot's write lock
(a row lock on PostgreSQL, the database write lock on SQLite) *and* checks the status atomically, so a
vote racing the close is either committed before it (and counted) or sees the ballot closed (refused).
New votes are stored by a group commit (``_submit``): one transaction, in the same lock order (chain
lock, then the ballot rows in id order), for every vote queued while the previous one was in flight.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from ecabinet.accounts.models import Role, User
from ecabinet.audit import service as audit
from ecabinet.audit.models import AuditEntry
from ecabinet.core.actor import Actor
from ecabinet.core.errors import DomainError
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import ItemKind, Meeting, MeetingItem, MeetingStatus, Notification
from ecabinet.voting import rules
from ecabinet.voting.models import (
    Ballot,
    BallotKind,
    BallotParticipation,
    BallotQuestion,
    BallotReminder,
    BallotStatus,
    BallotVote,
    BallotVoter,
    Meaning,
    VoteRule,
)

TITLE_MAX = 300
TEXT_MAX = 4000
COMMENT_MAX = 2000
MAX_QUESTIONS = 20
REMINDER_HOURS = (48, 24, 6, 1)  # before the deadline; each sent once
ITEM_OUTCOMES = {rules.ADOPTED: "adopted_by_vote", rules.REJECTED: "rejected_by_vote",
                 rules.NO_QUORUM: "no_quorum", "partly_adopted": "partly_adopted"}
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def live_options() -> list[dict[str, Any]]:
    return [{"key": "approve", "label": "Approve", "meaning": Meaning.YES.value, "needs_comment": False},
            {"key": "reject", "label": "Reject", "meaning": Meaning.NO.value, "needs_comment": False},
            {"key": "abstain", "label": "Abstain", "meaning": Meaning.ABSTAIN.value, "needs_comment": False}]


def written_options() -> list[dict[str, Any]]:
    return [{"key": "agree", "label": "Agree", "meaning": Meaning.YES.value, "needs_comment": False},
            {"key": "disagree", "label": "Disagree", "meaning": Meaning.NO.value, "needs_comment": False},
            {"key": "other", "label": "Other opinion", "meaning": Meaning.OTHER.value, "needs_comment": True}]


N_SENT = "A written-opinion ballot awaits your answer: “%(title)s” (deadline %(deadline)s)."
N_REMINDER = "Reminder: answer the written-opinion ballot “%(title)s” before %(deadline)s."
N_CLOSED = "The ballot “%(title)s” is closed: %(outcome)s."


class VotingError(DomainError):
    """A voting request that cannot be carried out; the message says why."""


# --- lookups --------------------------------------------------------------------------------------

def get_ballot(ballot_id: Any) -> Ballot | None:
    if isinstance(ballot_id, bool) or not isinstance(ballot_id, int | str):
        return None
    try:
        ballot_id = int(ballot_id)
    except ValueError:
        return None
    if not 0 < ballot_id < 2**31:
        return None
    return db.session.get(Ballot, ballot_id)


def ballots_for_meeting(meeting: Meeting) -> list[Ballot]:
    return list(db.session.scalars(select(Ballot).where(Ballot.meeting_id == meeting.id).order_by(Ballot.id)))


def list_ballots() -> list[Ballot]:
    return list(db.session.scalars(select(Ballot).order_by(Ballot.id.desc())))


def is_eligible(ballot: Ballot, user: User | None) -> bool:
    return user is not None and db.session.scalar(select(BallotVoter.id).where(
        BallotVoter.ballot_id == ballot.id, BallotVoter.voter_id == user.id)) is not None


def has_voted(ballot: Ballot, user: User | None) -> bool:
    return user is not None and db.session.scalar(select(BallotParticipation.id).where(
        BallotParticipation.ballot_id == ballot.id, BallotParticipation.voter_id == user.id)) is not None


def pending_ballots_for(user: User) -> list[Ballot]:
    """Open ballots this user may vote in and has not yet voted in (for the home page)."""
    voted = select(BallotParticipation.ballot_id).where(BallotParticipation.voter_id == user.id)
    return list(db.session.scalars(
        select(Ballot).join(BallotVoter, BallotVoter.ballot_id == Ballot.id)
        .where(BallotVoter.voter_id == user.id, Ballot.status == BallotStatus.OPEN, Ballot.id.not_in(voted))
        .order_by(Ballot.deadline.is_(None), Ballot.deadline, Ballot.id)))


def missing_voters(ballot: Ballot) -> list[User]:
    """Eligible voters who have not answered yet (the secretariat's follow-up list)."""
    voted = select(BallotParticipation.voter_id).where(BallotParticipation.ballot_id == ballot.id)
    return list(db.session.scalars(
        select(User).join(BallotVoter, BallotVoter.voter_id == User.id)
        .where(BallotVoter.ballot_id == ballot.id, User.id.not_in(voted)).order_by(User.name)))


def voters_of(ballot: Ballot) -> list[BallotVoter]:
    return list(db.session.scalars(select(BallotVoter).where(BallotVoter.ballot_id == ballot.id)
                                   .order_by(BallotVoter.id)))


# --- drafting -------------------------------------------------------------------------------------

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


def _require_secretary(actor: Actor) -> None:
    if actor.user is not None and actor.user.role is not Role.SECRETARY:
        raise VotingError("Only the secretariat may do this.")


def _is_chair_for(user: User, ballot: Ballot) -> bool:
    if user.role is not Role.CHAIR:
        return False
    if ballot.meeting_id is None:
        return True
    meeting = meetings.get_meeting(ballot.meeting_id)
    return meeting is not None and meeting.chair_id == user.id


def _require_chair(actor: Actor, ballot: Ballot) -> None:
    if actor.user is not None and not _is_chair_for(actor.user, ballot):
        raise VotingError("Only the chair may do this.")


def create_ballot(actor: Actor, data: BallotData) -> Ballot:
    """Draft a ballot. Written-opinion ballots: the secretariat. Live ballots: the secretariat or the chair."""
    try:
        kind = BallotKind(data.kind)
        rule = VoteRule(data.rule)
    except ValueError as exc:
        raise VotingError("Unknown kind of ballot or rule.") from exc
    title = (data.title or "").strip()
    if not title or len(title) > TITLE_MAX:
        raise VotingError("The title is required (at most %(n)s characters).", n=TITLE_MAX)
    description = (data.description or "").strip()
    if len(description) > TEXT_MAX:
        raise VotingError("The text is longer than %(n)s characters.", n=TEXT_MAX)
    meeting = meetings.get_meeting(data.meeting_id) if data.meeting_id is not None else None
    if data.meeting_id is not None and meeting is None:
        raise VotingError("Unknown meeting.")
    item = meetings.get_item(meeting, data.item_id) if meeting is not None and data.item_id is not None else None
    if data.item_id is not None and item is None:
        raise VotingError("Unknown agenda item.")
    if item is not None and item.kind is not ItemKind.DECISION:
        raise VotingError("Only items for decision are voted on.")
    if kind is BallotKind.LIVE:
        if meeting is None:
            raise VotingError("A live vote belongs to a meeting.")
        if actor.user is not None and actor.user.role is not Role.SECRETARY and meeting.chair_id != actor.user.id:
            raise VotingError("Only the secretariat or the chair may prepare a vote.")
    elif kind is BallotKind.WRITTEN:
        _require_secretary(actor)
        if data.deadline is None:
            raise VotingError("A written-opinion ballot needs a deadline.")
        if data.deadline.tzinfo is None:
            raise VotingError("The deadline needs a time zone.")
        if data.deadline <= utcnow():
            raise VotingError("The deadline must be in the future.")
    else:
        raise VotingError("Consent ballots are made by adopting the consent block.")
    if meeting is not None and meeting.status in (MeetingStatus.CLOSED,):
        raise VotingError("The meeting is closed.")
    if data.secret and data.show_running:
        raise VotingError("A secret ballot cannot show running counts: they would reveal each vote as it arrives.")
    questions = [q.strip() for q in (data.questions or []) if q and q.strip()] or [title]
    if len(questions) > MAX_QUESTIONS or any(len(q) > TEXT_MAX for q in questions):
        raise VotingError("At most %(n)s questions, each at most %(m)s characters.", n=MAX_QUESTIONS, m=TEXT_MAX)
    if kind is BallotKind.LIVE and len(questions) != 1:
        raise VotingError("A live vote decides one resolution.")
    options = _clean_options(data.options if data.options is not None else
                             (written_options() if kind is BallotKind.WRITTEN else live_options()))
    attachments = [{"title": str(a.get("title", ""))[:200], "url": str(a.get("url", ""))[:500]}
                   for a in (data.attachments or []) if a.get("title") or a.get("url")]
    if any(a["url"] and not a["url"].startswith(("/", "https://")) for a in attachments):
        raise VotingError("Attached documents are links inside e-Cabinet or https addresses.")
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
    audit.record(actor, "ballot.create", object_type="ballot", object_id=ballot.id, meeting_id=ballot.meeting_id,
                 details={"kind": kind.value, "rule": rule.value, "secret": ballot.secret, "item": ballot.item_id})
    db.session.commit()
    return ballot


def approve_ballot(actor: Actor, ballot: Ballot) -> None:
    """The chair approves a written-opinion form drafted by the secretariat."""
    _require_chair(actor, ballot)
    if ballot.kind is not BallotKind.WRITTEN:
        raise VotingError("Only written-opinion ballots are approved before sending.")
    if ballot.status is not BallotStatus.DRAFT:
        raise VotingError("This ballot is not a draft.")
    ballot.status = BallotStatus.APPROVED
    ballot.approved_by_id = actor.user_id
    ballot.approved_at = utcnow()
    audit.record(actor, "ballot.approve", object_type="ballot", object_id=ballot.id, meeting_id=ballot.meeting_id)
    db.session.commit()


def cancel_ballot(actor: Actor, ballot: Ballot) -> None:
    """Withdraw a ballot that has not been opened."""
    if actor.user is not None and actor.user.role is not Role.SECRETARY and not _is_chair_for(actor.user, ballot):
        raise VotingError("Only the secretariat or the chair may do this.")
    if ballot.status not in (BallotStatus.DRAFT, BallotStatus.APPROVED):
        raise VotingError("Only a ballot that has not been opened can be withdrawn.")
    ballot.status = BallotStatus.CANCELLED
    audit.record(actor, "ballot.cancel", object_type="ballot", object_id=ballot.id, meeting_id=ballot.meeting_id)
    db.session.commit()


# --- opening: the eligibility snapshot ------------------------------------------------------------

def eligible_voters(ballot: Ballot) -> list[tuple[int, int | None]]:
    """(voter id, member they stand in for): members and the chair, or their substitutes where the chair
    allows them, minus members recused from the item; all active members and chairs between meetings."""
    if ballot.meeting_id is None:
        users = db.session.scalars(select(User).where(User.active.is_(True), User.role.in_([Role.MEMBER, Role.CHAIR]))
                                   .order_by(User.id))
        return [(u.id, None) for u in users]
    meeting = meetings.get_meeting(ballot.meeting_id)
    item = db.session.get(MeetingItem, ballot.item_id) if ballot.item_id else None
    recused = meetings.recused_member_ids(item) if item is not None else set()
    chosen: dict[int, int | None] = {}
    for p in meetings.voting_members(meeting):
        if p.user_id in recused or not p.user.active:
            continue
        if p.represented_by_substitute:
            sub = p.substitute_user
            if ballot.allow_substitutes and p.substitute_may_vote and sub is not None and sub.active \
                    and sub.id not in chosen and sub.id not in recused:
                chosen[sub.id] = p.user_id
            continue
        chosen.setdefault(p.user_id, None)
    return sorted(chosen.items())


def open_ballot(actor: Actor, ballot: Ballot) -> None:
    """Live: the chair opens the vote during the meeting, with quorum. Written: the secretariat sends the
    approved form. The eligible voters are fixed now."""
    if ballot.kind is BallotKind.LIVE:
        _require_chair(actor, ballot)
        if ballot.status is not BallotStatus.DRAFT:
            raise VotingError("This vote is not ready to open: it is %(status)s.", status=ballot.status.value)
        meeting = meetings.get_meeting(ballot.meeting_id)
        if meeting.status is not MeetingStatus.IN_SESSION:
            raise VotingError("A live vote opens while the meeting is in session.")
        item = db.session.get(MeetingItem, ballot.item_id) if ballot.item_id else None
        q = meetings.item_quorum(meeting, item) if item is not None else meetings.quorum(meeting)
        if not q.reached:
            raise VotingError("The quorum is not reached (%(present)s present, %(required)s required).",
                              present=q.present, required=q.required)
        required = q.required
    elif ballot.kind is BallotKind.WRITTEN:
        _require_secretary(actor)
        if ballot.status is not BallotStatus.APPROVED:
            raise VotingError("The chair must approve the form before it is sent.")
        if ballot.deadline is not None and ballot.deadline <= utcnow():
            raise VotingError("The deadline has passed; set a new one.")
        required = 0
    else:
        raise VotingError("Consent ballots are made by adopting the consent block.")
    voters = eligible_voters(ballot)
    if not voters:
        raise VotingError("Nobody is eligible to vote.")
    if ballot.kind is BallotKind.WRITTEN:
        required = rules.quorum_required(len(voters))
    audit.lock_chain()
    for voter_id, for_member in voters:
        db.session.add(BallotVoter(ballot_id=ballot.id, voter_id=voter_id, for_member_id=for_member))
    ballot.status = BallotStatus.OPEN
    ballot.opened_at = utcnow()
    ballot.eligible_count = len(voters)
    ballot.quorum_required = required
    if ballot.kind is BallotKind.WRITTEN:
        _notify_users([v for v, _ in voters], ballot, N_SENT, title=ballot.title, deadline=_deadline_text(ballot))
    db.session.flush()
    audit.record(actor, "ballot.open", object_type="ballot", object_id=ballot.id, meeting_id=ballot.meeting_id,
                 details={"eligible": [v for v, _ in voters], "quorum_required": required,
                          "substitutes": {str(v): m for v, m in voters if m}})
    db.session.commit()


send_ballot = open_ballot


# --- casting --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Receipt:
    ballot_id: int
    code: str
    repeated: bool = False  # a retry of a vote already stored
    changed: bool = False


def receipt_code(ballot_id: int, client_vote_id: str) -> str:
    digest = hashlib.sha256(f"ecabinet-receipt:{ballot_id}:{client_vote_id}".encode()).digest()
    n = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(8):
        n, r = divmod(n, len(_RECEIPT_ALPHABET))
        chars.append(_RECEIPT_ALPHABET[r])
    return "".join(chars[:4]) + "-" + "".join(chars[4:])


def _vote_hash(ballot_id: int, voter_id: int, client_vote_id: str) -> str:
    return hashlib.sha256(f"ecabinet-vote:{ballot_id}:{voter_id}:{client_vote_id}".encode()).hexdigest()


def new_client_vote_id() -> str:
    return secrets.token_hex(16)


def _normalise_answers(ballot: Ballot | _BallotFacts, answers: Any) -> dict[str, dict[str, str]]:
    """``answers`` is an option key (single-question ballots) or {question id: key or {choice, comment}}."""
    questions = ballot.questions
    if isinstance(answers, str):
        if len(questions) != 1:
            raise VotingError("Answer every question.")
        answers = {str(questions[0].id): {"choice": answers}}
    if not isinstance(answers, dict):
        raise VotingError("Unknown option.")
    cleaned: dict[str, dict[str, str]] = {}
    known = {str(q.id) for q in questions}
    if set(map(str, answers)) - known:
        raise VotingError("Unknown question.")
    for q in questions:
        raw = answers.get(str(q.id), answers.get(q.id))
        if raw is None:
            raise VotingError("Answer every question.")
        if isinstance(raw, str):
            raw = {"choice": raw}
        if not isinstance(raw, dict):
            raise VotingError("Unknown option.")
        choice, comment = raw.get("choice"), raw.get("comment") or ""
        if not isinstance(comment, str):
            raise VotingError("The comment must be text.")
        comment = comment.strip()
        option = next((o for o in q.option_list if o["key"] == choice), None)
        if option is None:
            raise VotingError("Unknown option.")
        if option["needs_comment"] and not comment:
            raise VotingError("This answer needs a comment: please explain your opinion.")
        if len(comment) > COMMENT_MAX:
            raise VotingError("The comment is longer than %(n)s characters.", n=COMMENT_MAX)
        cleaned[str(q.id)] = {"choice": choice, "comment": comment} if comment else {"choice": choice}
    return cleaned


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _lock_open(ballot_id: int) -> Ballot:
    """Take the ballot's write lock and check, atomically, that it is open (see the module docstring)."""
    audit.lock_chain()
    locked = db.session.execute(update(Ballot).where(Ballot.id == ballot_id, Ballot.status == BallotStatus.OPEN)
                                .values(votes_cast=Ballot.votes_cast)
                                .execution_options(synchronize_session=False)).rowcount
    ballot = db.session.scalar(select(Ballot).where(Ballot.id == ballot_id).execution_options(populate_existing=True))
    if ballot is None:
        raise VotingError("Unknown ballot.")
    if not locked:
        if ballot.status in (BallotStatus.CLOSED, BallotStatus.CANCELLED):
            raise VotingError("This ballot is closed.")
        raise VotingError("This ballot is not open yet.")
    return ballot


def reauth_window() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("REAUTH_WINDOW_MINUTES", 10)))


def needs_reauth(ballot: Ballot, authenticated_at: datetime | None, now: datetime | None = None) -> bool:
    if ballot.kind is not BallotKind.WRITTEN:
        return False
    now = now or utcnow()
    return authenticated_at is None or now - authenticated_at > reauth_window()


def cast_vote(actor: Actor, ballot_id: Any, answers: Any, client_vote_id: Any, *,
              authenticated_at: datetime | None = None, now: datetime | None = None) -> Receipt:
    """Cast (or retry, or change) a vote. Idempotent on ``client_vote_id``; acknowledged after commit.

    ``authenticated_at``: when the voter last entered their password (written ballots need it within
    ``REAUTH_WINDOW_MINUTES``). A retry with the same client vote id returns the same receipt; with the
    same id and another choice it changes the vote, if the ballot allows it.

    A new vote goes through the group commit (``_submit``): votes that arrive while another
    transaction is storing votes are stored together in the next one. Anything else (a retry, a
    change, a refusal that needs its own message) takes the single-vote path, ``_cast``.
    """
    try:
        cast = _prepare(actor, ballot_id, answers, client_vote_id, authenticated_at, now)
    except VotingError:
        db.session.rollback()
        raise
    outcome = _submit(cast)
    if isinstance(outcome, Receipt):
        _after_commit(cast.ballot_id, cast.meeting_id, cast.completes)
        return outcome
    if isinstance(outcome, BaseException):
        raise outcome
    for attempt in range(3):
        try:
            receipt = _cast(actor, ballot_id, answers, client_vote_id, authenticated_at, now)
            if not receipt.repeated:
                _after_commit(receipt.ballot_id, cast.meeting_id, False)
            return receipt
        except VotingError:
            db.session.rollback()  # nothing of a refused vote stays, and its locks are released
            raise
        except (IntegrityError, OperationalError):
            # A concurrent cast of the same voter won the unique constraint (or SQLite's write lock):
            # start again; the next round sees its row and answers as a retry.
            db.session.rollback()
            if attempt == 2:
                raise VotingError("The vote could not be stored; please try again.") from None
    raise AssertionError("unreachable")


def _after_commit(ballot_id: int, meeting_id: int | None, completes: bool) -> None:
    if meeting_id is not None:
        from ecabinet.voting import tally

        tally.changed(ballot_id, meeting_id)
    if completes:
        _close_if_complete(ballot_id)


def _checked(actor: Actor, ballot_id: Any, answers: Any, client_vote_id: Any,
             authenticated_at: datetime | None, now: datetime | None,
             cached: bool = False) -> tuple[Any, dict, datetime]:
    """Every check that needs no lock: the refusals that come before any write. ``cached``: the facts of
    an open ballot may come from this process's cache (the batch checks the status again, locked)."""
    user = actor.user
    if user is None:
        raise VotingError("Only a signed-in voter may vote.")
    ballot = open_ballot_facts(ballot_id) if cached else None
    ballot = ballot or get_ballot(ballot_id)
    if ballot is None:
        raise VotingError("Unknown ballot.")
    if not isinstance(client_vote_id, str) or not _CLIENT_ID_RE.match(client_vote_id):
        raise VotingError("The vote has no valid client vote id.")
    if ballot.status is BallotStatus.CLOSED:
        raise VotingError("This ballot is closed.")
    if ballot.status is not BallotStatus.OPEN:
        raise VotingError("This ballot is not open yet.")
    cleaned = _normalise_answers(ballot, answers)
    now = now or utcnow()
    if ballot.deadline is not None and now > ballot.deadline:
        raise VotingError("The deadline has passed.")
    if needs_reauth(ballot, authenticated_at, now):
        raise VotingError("Please confirm your password again before submitting your opinion.")
    return ballot, cleaned, now


def _cast(actor: Actor, ballot_id: Any, answers: Any, client_vote_id: Any,
          authenticated_at: datetime | None, now: datetime | None) -> Receipt:
    """The single-vote path: one transaction for one cast (retries, changes, refusals)."""
    user = actor.user
    ballot, cleaned, now = _checked(actor, ballot_id, answers, client_vote_id, authenticated_at, now)
    ballot = _lock_open(ballot.id)  # reloaded inside the locked transaction
    voter = db.session.scalar(select(BallotVoter).where(BallotVoter.ballot_id == ballot.id,
                                                        BallotVoter.voter_id == user.id))
    if voter is None:
        db.session.rollback()
        item = db.session.get(MeetingItem, ballot.item_id) if ballot.item_id else None
        if item is not None and user.id in meetings.recused_member_ids(item):
            raise VotingError("You declared an interest in this item: you are recused from this vote.")
        raise VotingError("You are not eligible to vote in this ballot.")
    code = receipt_code(ballot.id, client_vote_id)
    vote_hash = _vote_hash(ballot.id, user.id, client_vote_id)
    part = db.session.scalar(select(BallotParticipation).where(BallotParticipation.ballot_id == ballot.id,
                                                               BallotParticipation.voter_id == user.id))
    if part is not None:
        return _repeat_or_change(actor, ballot, part, cleaned, code, vote_hash)
    db.session.add(BallotParticipation(ballot_id=ballot.id, voter_id=user.id, voted_at=now,
                                       client_vote_hash=vote_hash, changes=0))
    db.session.flush()  # the unique (ballot, voter) constraint speaks here
    db.session.execute(update(Ballot).where(Ballot.id == ballot.id).values(votes_cast=Ballot.votes_cast + 1)
                       .execution_options(synchronize_session=False))
    db.session.expire(ballot, ["votes_cast"])  # the live payload reads the new count in this transaction
    complete = ballot.kind is BallotKind.WRITTEN and ballot.votes_cast >= ballot.eligible_count
    # The vote: random key, no time, no voter (unless named). Core insert, so nothing orders it.
    db.session.execute(insert(BallotVote).values(id=secrets.token_hex(16), ballot_id=ballot.id, receipt_code=code,
                                                 answers=_canonical(cleaned),
                                                 voter_id=None if ballot.secret else user.id))
    audit.record(actor, "vote.cast", object_type="ballot", object_id=ballot.id, meeting_id=ballot.meeting_id,
                 details={"voter": user.id})  # never the choice: see docs/voting.md
    ballot_id = ballot.id
    db.session.commit()
    if complete:
        _close_if_complete(ballot_id)
    return Receipt(ballot_id, code)


def _repeat_or_change(actor: Actor, ballot: Ballot, part: BallotParticipation, cleaned: dict, code: str,
                      vote_hash: str) -> Receipt:
    same_device = secrets.compare_digest(part.client_vote_hash, vote_hash)
    if same_device:
        vote = db.session.scalar(select(BallotVote).where(BallotVote.ballot_id == ballot.id,
                                                          BallotVote.receipt_code == code))
    elif not ballot.secret:
        vote = db.session.scalar(select(BallotVote).where(BallotVote.ballot_id == ballot.id,
                                                          BallotVote.voter_id == part.voter_id))
    else:
        vote = None
    if vote is not None and vote.answers == _canonical(cleaned):
        db.session.rollback()
        return Receipt(ballot.id, vote.receipt_code, repeated=True)
    if not ballot.allow_change:
        db.session.rollback()
        raise VotingError("You have already voted; this ballot does not allow changing a vote.")
    if vote is None:
        db.session.rollback()
        raise VotingError("You have already voted. A secret vote can be changed only from the device that cast it.")
    db.session.execute(update(BallotVote).where(BallotVote.id == vote.id).values(answers=_canonical(cleaned)))
    part.changes += 1
    receipt = vote.receipt_code
    audit.record(actor, "vote.change", object_type="ballot", object_id=ballot.id, meeting_id=ballot.meeting_id,
                 details={"voter": part.voter_id})
    db.session.commit()
    return Receipt(ballot.id, receipt, changed=True)


# --- group commit ---------------------------------------------------------------------------------
#
# Every audited write holds the chain lock until its commit, so votes are stored one transaction at a
# time. Instead of one transaction per vote, a caller that finds no transaction of votes in progress
# becomes the leader: it takes every vote queued meanwhile (its own included) into one transaction,
# one chain lock, one commit, then wakes each caller with its own receipt. No background thread: the
# leader is a caller, and the next queued caller leads the next batch. Works for threads and for
# gevent greenlets (threading is patched there). The acknowledgement still follows the commit.

BATCH_MAX = 64
_BATCHER_KEY = "ecabinet.voting.batcher"
_SOLO = object()  # "take the single-vote path": a retry, a change, or a refusal with its own message
_LEAD = object()  # "lead the next batch"


@dataclass(eq=False)
class _Cast:
    ballot_id: int
    meeting_id: int | None
    voter_id: int
    actor_label: str
    ip: str | None
    answers: str
    code: str
    vote_hash: str
    now: datetime
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Any = None
    completes: bool = False


class _Batcher:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queue: list[_Cast] = []
        self.leading = False
        self.batches = 0  # transactions and votes taken through them, for bench/bench_votes.py
        self.votes = 0


@dataclass(frozen=True)
class _QuestionFacts:
    id: int
    option_list: list[dict[str, Any]]


@dataclass(frozen=True)
class _BallotFacts:
    """What the checks before the lock read of an open ballot; none of it changes while it is open."""

    id: int
    kind: BallotKind
    status: BallotStatus
    secret: bool
    meeting_id: int | None
    item_id: int | None
    deadline: datetime | None
    questions: tuple[_QuestionFacts, ...]


_FACTS_KEY = "ecabinet.voting.open_ballots"
_FACTS_MAX = 1000


def open_ballot_facts(ballot_id: Any) -> _BallotFacts | None:
    """The cached facts of an open ballot, read once per process; None when it is not open (nor cached).

    A ballot goes from open only to closed, so cached facts can be stale in one way only: a ballot seen
    open may have closed since. Whoever reads them must accept that: the batch checks the status again
    under its lock, and the voting policy asks only who may see the ballot, which closing does not change."""
    cache = current_app.extensions.setdefault(_FACTS_KEY, {})
    facts = cache.get(ballot_id) if isinstance(ballot_id, int) else None
    if facts is not None:
        return facts
    ballot = get_ballot(ballot_id)
    if ballot is None or ballot.status is not BallotStatus.OPEN:
        return None
    if len(cache) >= _FACTS_MAX:
        cache.clear()
    facts = _BallotFacts(ballot.id, ballot.kind, ballot.status, ballot.secret, ballot.meeting_id, ballot.item_id,
                         ballot.deadline, tuple(_QuestionFacts(q.id, q.option_list) for q in ballot.questions))
    cache[ballot.id] = facts
    return facts


def _prepare(actor: Actor, ballot_id: Any, answers: Any, client_vote_id: Any,
             authenticated_at: datetime | None, now: datetime | None) -> _Cast:
    ballot, cleaned, now = _checked(actor, ballot_id, answers, client_vote_id, authenticated_at, now, cached=True)
    user = actor.user
    cast = _Cast(ballot_id=ballot.id, meeting_id=ballot.meeting_id, voter_id=user.id, actor_label=actor.display,
                 ip=actor.ip, answers=_canonical(cleaned), code=receipt_code(ballot.id, client_vote_id),
                 vote_hash=_vote_hash(ballot.id, user.id, client_vote_id), now=now)
    # Give the connection back while waiting (SQLite runs one per process), and let the batch start a
    # fresh transaction (SQLite: no stale read snapshot).
    db.session.rollback()
    return cast


def _submit(cast: _Cast) -> Any:
    """Queue the vote; lead a batch or wait for one. Returns a Receipt, _SOLO or an exception."""
    batcher = current_app.extensions.setdefault(_BATCHER_KEY, _Batcher())
    with batcher.lock:
        batcher.queue.append(cast)
        lead = not batcher.leading
        batcher.leading = True
    if not lead:
        cast.done.wait()
        if cast.outcome is not _LEAD:
            return cast.outcome
    if _cooperative():
        time.sleep(0)  # let greenlets that are ready queue their casts for this batch
    with batcher.lock:
        batch = batcher.queue[:BATCH_MAX]
        del batcher.queue[:BATCH_MAX]
        batcher.batches += 1
        batcher.votes += len(batch)
    try:
        try:
            _store_batch(batch)
        except IntegrityError:
            # Some vote of the batch broke a constraint: nothing of the batch stays. Again, one
            # savepoint per vote, so that only the vote refused is handed back.
            db.session.rollback()
            _store_batch(batch, careful=True)
    except (IntegrityError, OperationalError):
        db.session.rollback()  # nothing of the batch stays: each caller stores its vote alone
        for c in batch:
            c.outcome = _SOLO
    except Exception as exc:  # noqa: BLE001 - handed to every caller of the batch
        db.session.rollback()
        for c in batch:
            c.outcome = exc
    finally:
        with batcher.lock:
            if batcher.queue:
                batcher.queue[0].outcome = _LEAD
                batcher.queue[0].done.set()
            else:
                batcher.leading = False
        for c in batch:
            if c is not cast:
                c.done.set()
    return cast.outcome


def _cooperative() -> bool:
    """Under gevent a batch forms only if the leader yields once; threads queue while it waits on I/O."""
    from ecabinet.extensions import socketio

    return socketio.async_mode == "gevent"


# Built once: constructing a statement costs as much Python as running it. Core tables, no ORM state.
_ballot_t = Ballot.__table__
_voter_t = BallotVoter.__table__
_part_t = BallotParticipation.__table__
_LOCK_OPEN_BALLOTS = (
    update(_ballot_t).where(_ballot_t.c.id.in_(bindparam("ids", expanding=True)),
                            _ballot_t.c.status == BallotStatus.OPEN)
    .values(votes_cast=_ballot_t.c.votes_cast)
    .returning(_ballot_t.c.id, _ballot_t.c.kind, _ballot_t.c.secret, _ballot_t.c.votes_cast,
               _ballot_t.c.eligible_count))
_ELIGIBLE_AND_VOTED = (
    select(_voter_t.c.ballot_id, _voter_t.c.voter_id, _part_t.c.id)
    .outerjoin(_part_t, (_part_t.c.ballot_id == _voter_t.c.ballot_id) & (_part_t.c.voter_id == _voter_t.c.voter_id))
    .where(_voter_t.c.ballot_id.in_(bindparam("ballots", expanding=True)),
           _voter_t.c.voter_id.in_(bindparam("voters", expanding=True))))
_ADD_VOTES = (update(_ballot_t).where(_ballot_t.c.id == bindparam("b_id"))
              .values(votes_cast=_ballot_t.c.votes_cast + bindparam("n")))
_INSERT_PARTICIPATION = insert(_part_t)
_INSERT_VOTE = insert(BallotVote.__table__)


def _store_batch(batch: list[_Cast], careful: bool = False) -> None:
    """One transaction for several new votes. A vote that is not plainly new (already voted, not in the
    snapshot, twice in the batch, ballot no longer open) is handed back (``_SOLO``) without touching
    the others. The database's unique constraints still decide: ``careful`` stores each vote in its
    own savepoint (after a batch that one of them broke), so that only the vote refused is handed back."""
    db.session.rollback()  # the leader's own reads are over: a fresh transaction for the batch
    audit.lock_chain()
    # The same guarded no-op update as a single vote, for every ballot of the batch (see _lock_open).
    opened = {row.id: row for row in db.session.execute(
        _LOCK_OPEN_BALLOTS, {"ids": sorted({c.ballot_id for c in batch})})}
    # Eligibility and earlier votes in one read; the chain lock keeps it true until the commit.
    known = {(b, v): part is not None for b, v, part in db.session.execute(
        _ELIGIBLE_AND_VOTED, {"ballots": list(opened), "voters": list({c.voter_id for c in batch})})} \
        if opened else {}
    accepted: list[_Cast] = []
    for c in batch:
        key = (c.ballot_id, c.voter_id)
        if known.get(key, True):  # not in the snapshot, or already voted: the single-vote path says why
            c.outcome = _SOLO
            continue
        known[key] = True  # a second cast of the same voter in this batch
        accepted.append(c)
    accepted = _insert_votes(accepted, opened, careful)
    added: dict[int, int] = {}
    for c in accepted:
        added[c.ballot_id] = added.get(c.ballot_id, 0) + 1
    if added:
        db.session.execute(_ADD_VOTES, [{"b_id": b, "n": n} for b, n in added.items()])
        audit.record_many([audit.Record(c.voter_id, c.actor_label, c.ip, "vote.cast", "ballot", c.ballot_id,
                                        c.meeting_id, {"voter": c.voter_id}) for c in accepted])
    db.session.commit()
    for c in accepted:
        row = opened[c.ballot_id]
        c.completes = row.kind is BallotKind.WRITTEN and row.votes_cast + added[c.ballot_id] >= row.eligible_count
        c.outcome = Receipt(c.ballot_id, c.code)


def _insert_votes(casts: list[_Cast], ballots: dict[int, Any], careful: bool) -> list[_Cast]:
    """Insert the participation and vote rows; returns the casts stored. The vote rows go in shuffled
    order, so that their order inside the batch does not follow the voters'."""
    if not casts:
        return casts

    def parts(group: list[_Cast]) -> list[dict]:
        return [{"ballot_id": c.ballot_id, "voter_id": c.voter_id, "voted_at": c.now,
                 "client_vote_hash": c.vote_hash, "changes": 0} for c in group]

    def votes(group: list[_Cast]) -> list[dict]:
        return [{"id": secrets.token_hex(16), "ballot_id": c.ballot_id, "receipt_code": c.code,
                 "answers": c.answers, "voter_id": None if ballots[c.ballot_id].secret else c.voter_id}
                for c in group]

    if not careful:
        db.session.execute(_INSERT_PARTICIPATION, parts(casts))
        rows = votes(casts)
        _shuffle(rows)
        db.session.execute(_INSERT_VOTE, rows)
        return casts
    # One savepoint per row. Participation rows (which name the voter, like the audit entries) in
    # arrival order; vote rows in a shuffled order, so that neither order pairs them.
    stored = []
    for c in casts:
        try:
            with db.session.begin_nested():
                db.session.execute(_INSERT_PARTICIPATION, parts([c]))
            stored.append(c)
        except IntegrityError:
            c.outcome = _SOLO
    order = list(stored)
    _shuffle(order)
    for c in order:
        try:
            with db.session.begin_nested():
                db.session.execute(_INSERT_VOTE, votes([c]))
        except IntegrityError:
            db.session.execute(delete(BallotParticipation).where(
                BallotParticipation.ballot_id == c.ballot_id, BallotParticipation.voter_id == c.voter_id)
                .execution_options(synchronize_session=False))
            c.outcome = _SOLO
    return [c for c in stored if c.outcome is not _SOLO]


def _shuffle(values: list) -> None:
    secrets.SystemRandom().shuffle(values)


def _close_if_complete(ballot_id: int) -> None:
    """A written-opinion ballot closes as soon as everyone has answered."""
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is not None and ballot.kind is BallotKind.WRITTEN and ballot.status is BallotStatus.OPEN \
            and ballot.votes_cast >= ballot.eligible_count:
        try:
            close_ballot(Actor.system("voting"), ballot, reason="all_answered")
        except VotingError:
            db.session.rollback()  # closed meanwhile by someone else


# --- closing --------------------------------------------------------------------------------------

def votes_digest(rows: list[tuple[str, str]]) -> str:
    """sha256 over the (receipt, answers) pairs in receipt order: recorded at close, checked by verify."""
    h = hashlib.sha256()
    for receipt, answers in sorted(rows):
        h.update(f"{receipt}\x1f{answers}\x1e".encode())
    return h.hexdigest()


def compute_result(ballot: Ballot, rows: list[tuple[str, str]], quorum_reached: bool,
                   quorum_detail: dict[str, Any]) -> dict[str, Any]:
    """The result, from the stored votes alone (verify-ballot runs the same function)."""
    questions = []
    outcomes = []
    for q in ballot.questions:
        options = q.option_list
        meaning = {o["key"]: o["meaning"] for o in options}
        counts = {o["key"]: 0 for o in options}
        comments: dict[str, list[str]] = {o["key"]: [] for o in options}
        for _receipt, answers in sorted(rows):
            answer = json.loads(answers).get(str(q.id))
            if answer is None or answer["choice"] not in counts:
                continue
            counts[answer["choice"]] += 1
            if answer.get("comment"):
                comments[answer["choice"]].append(answer["comment"])
        tally = rules.Tally.of([meaning[k] for k, n in counts.items() for _ in range(n)])
        decision = rules.decide(ballot.rule, tally, ballot.eligible_count, ballot.abstentions_count)
        outcome = decision.outcome if quorum_reached else rules.NO_QUORUM
        outcomes.append(outcome)
        questions.append({"question_id": q.id, "position": q.position, "text": q.text, "counts": counts,
                          "comments": comments, "decision": decision.as_dict(), "outcome": outcome})
    if not quorum_reached:
        overall = rules.NO_QUORUM
    elif all(o == rules.ADOPTED for o in outcomes):
        overall = rules.ADOPTED
    elif all(o == rules.REJECTED for o in outcomes):
        overall = rules.REJECTED
    else:
        overall = "partly_adopted"
    return {"rule": ballot.rule.value, "abstentions_count": ballot.abstentions_count, "secret": ballot.secret,
            "eligible": ballot.eligible_count, "voted": len(rows), "quorum": quorum_detail,
            "outcome": overall, "questions": questions, "digest": votes_digest(rows)}


def _vote_rows(ballot_id: int) -> list[tuple[str, str]]:
    return [(r.receipt_code, r.answers) for r in db.session.execute(
        select(BallotVote.receipt_code, BallotVote.answers).where(BallotVote.ballot_id == ballot_id))]


def _closing_quorum(ballot: Ballot, voted: int) -> tuple[bool, dict[str, Any]]:
    if ballot.kind is BallotKind.LIVE:
        meeting = meetings.get_meeting(ballot.meeting_id)
        item = db.session.get(MeetingItem, ballot.item_id) if ballot.item_id else None
        q = meetings.item_quorum(meeting, item) if item is not None else meetings.quorum(meeting)
        return q.reached, {"basis": "present", "present": q.present, "required": q.required,
                           "reached": q.reached, "at_opening": ballot.quorum_required}
    reached = voted >= ballot.quorum_required
    return reached, {"basis": "answered", "answered": voted, "required": ballot.quorum_required,
                     "reached": reached}


def close_ballot(actor: Actor, ballot: Ballot, reason: str = "chair", now: datetime | None = None) -> dict[str, Any]:
    """Close, compute the result deterministically, record the rule used, lock it (the database then
    refuses any change to the ballot row or its votes)."""
    try:
        return _close(actor, ballot, reason, now)
    except VotingError:
        db.session.rollback()
        raise


def _close(actor: Actor, ballot: Ballot, reason: str, now: datetime | None) -> dict[str, Any]:
    if actor.user is not None:
        if ballot.kind is BallotKind.LIVE:
            _require_chair(actor, ballot)
        elif actor.user.role is not Role.SECRETARY and not _is_chair_for(actor.user, ballot):
            raise VotingError("Only the secretariat or the chair may do this.")
    ballot = _lock_open(ballot.id)
    db.session.expire_all()
    ballot = db.session.get(Ballot, ballot.id)
    rows = _vote_rows(ballot.id)
    if ballot.secret:
        _rewrite_votes(ballot.id)
    quorum_reached, quorum_detail = _closing_quorum(ballot, len(rows))
    result = compute_result(ballot, rows, quorum_reached, quorum_detail)
    result["closed_by"] = reason
    ballot.status = BallotStatus.CLOSED
    ballot.closed_at = now or utcnow()
    ballot.result = _canonical(result)
    ballot.outcome = result["outcome"]
    if ballot.item_id:
        item = db.session.get(MeetingItem, ballot.item_id)
        if item is not None:
            item.outcome = ITEM_OUTCOMES[result["outcome"]]
    if ballot.kind is BallotKind.WRITTEN:
        _notify_users([v.voter_id for v in voters_of(ballot)], ballot, N_CLOSED, title=ballot.title,
                      outcome=result["outcome"])
    db.session.flush()
    audit.record(actor, "ballot.close", object_type="ballot", object_id=ballot.id, meeting_id=ballot.meeting_id,
                 details={"reason": reason, "rule": ballot.rule.value, "outcome": result["outcome"],
                          "eligible": ballot.eligible_count, "voted": len(rows), "digest": result["digest"],
                          "counts": {str(q["question_id"]): q["counts"] for q in result["questions"]},
                          "quorum": quorum_detail})
    db.session.commit()
    return result


def _rewrite_votes(ballot_id: int) -> None:
    """Secret ballots: delete and re-insert every vote row in key order, in the closing transaction, so
    neither physical position (PostgreSQL ctid) nor the writing transaction (xmin) tells when a vote came."""
    rows = db.session.execute(select(BallotVote.id, BallotVote.receipt_code, BallotVote.answers)
                              .where(BallotVote.ballot_id == ballot_id)).all()
    db.session.execute(delete(BallotVote).where(BallotVote.ballot_id == ballot_id)
                       .execution_options(synchronize_session=False))
    if rows:
        db.session.execute(insert(BallotVote), [
            {"id": r.id, "ballot_id": ballot_id, "receipt_code": r.receipt_code, "answers": r.answers,
             "voter_id": None} for r in sorted(rows)])


def close_due_ballots(now: datetime | None = None) -> list[int]:
    """Close written-opinion ballots whose deadline has passed (the periodic job calls this)."""
    now = now or utcnow()
    due = list(db.session.scalars(select(Ballot.id).where(Ballot.status == BallotStatus.OPEN,
                                                          Ballot.deadline.is_not(None), Ballot.deadline <= now)))
    closed = []
    for ballot_id in due:
        try:
            close_ballot(Actor.system("voting"), db.session.get(Ballot, ballot_id), reason="deadline", now=now)
            closed.append(ballot_id)
        except VotingError:
            db.session.rollback()
    return closed


# --- reminders and notifications ------------------------------------------------------------------

def _deadline_text(ballot: Ballot) -> str:
    if ballot.deadline is None:
        return ""
    from ecabinet.core.i18n import local_time

    try:
        return local_time(ballot.deadline, "short")
    except Exception:  # noqa: BLE001 - outside an app's babel context: plain UTC
        return ballot.deadline.strftime("%Y-%m-%d %H:%M UTC")


def _notify_users(user_ids: list[int], ballot: Ballot, key: str, **params: Any) -> None:
    for user_id in user_ids:
        db.session.add(Notification(user_id=user_id, meeting_id=ballot.meeting_id, key=key,
                                    params=json.dumps({**params, "ballot_id": ballot.id}, ensure_ascii=False)))


def send_due_reminders(now: datetime | None = None) -> dict[int, list[int]]:
    """Remind those who have not answered at 48 h, 24 h, 6 h and 1 h before the deadline, each once.
    A threshold passed while the ballot was already due for a nearer one is marked sent with it."""
    now = now or utcnow()
    sent: dict[int, list[int]] = {}
    ballots = db.session.scalars(select(Ballot).where(Ballot.status == BallotStatus.OPEN,
                                                      Ballot.kind == BallotKind.WRITTEN,
                                                      Ballot.deadline.is_not(None), Ballot.deadline > now)).all()
    for ballot in ballots:
        done = set(db.session.scalars(select(BallotReminder.hours_before)
                                      .where(BallotReminder.ballot_id == ballot.id)))
        due = [h for h in REMINDER_HOURS if now >= ballot.deadline - timedelta(hours=h) and h not in done]
        if not due:
            continue
        missing = [u.id for u in missing_voters(ballot)]
        for h in due:
            db.session.add(BallotReminder(ballot_id=ballot.id, hours_before=h, sent_at=now,
                                          recipients=len(missing) if h == min(due) else 0))
        _notify_users(missing, ballot, N_REMINDER, title=ballot.title, deadline=_deadline_text(ballot))
        try:
            audit.record(Actor.system("voting"), "ballot.remind", object_type="ballot", object_id=ballot.id,
                         details={"hours_before": min(due), "recipients": missing})
            db.session.commit()
            sent[ballot.id] = missing
        except IntegrityError:
            db.session.rollback()  # another worker sent it
    return sent


# --- what people see ------------------------------------------------------------------------------

def participation(ballot: Ballot) -> dict[str, int]:
    return {"voted": ballot.votes_cast, "eligible": ballot.eligible_count}


def running_counts(ballot: Ballot) -> dict[str, dict[str, int]] | None:
    """Counts while the ballot is open, only where the ballot is configured to show them."""
    if not ballot.show_running or ballot.secret or ballot.status is not BallotStatus.OPEN:
        return None
    counts = {str(q.id): {o["key"]: 0 for o in q.option_list} for q in ballot.questions}
    for (_receipt, answers) in _vote_rows(ballot.id):
        for qid, answer in json.loads(answers).items():
            if qid in counts and answer["choice"] in counts[qid]:
                counts[qid][answer["choice"]] += 1
    return counts


def ballot_state(ballot: Ballot) -> dict[str, Any]:
    """The ``ballot`` section of a live event: no title (it may concern an item hidden from a reader;
    clients ask ``vote.list`` for the details), participation, running counts if allowed, result at close."""
    result = ballot.result_data
    return {"ballot_id": ballot.id, "item_id": ballot.item_id, "status": ballot.status.value,
            "voted": ballot.votes_cast, "eligible": ballot.eligible_count, "running": running_counts(ballot),
            "outcome": ballot.outcome,
            "result": None if result is None else {"outcome": result["outcome"], "questions": [
                {"question_id": q["question_id"], "counts": q["counts"], "outcome": q["outcome"]}
                for q in result["questions"]]}}


def ballot_view(ballot: Ballot, user: User) -> dict[str, Any]:
    """Everything a voter's screen needs about one ballot."""
    from ecabinet.voting.tally import version

    return {**ballot_state(ballot), "version": version(ballot), "title": ballot.title, "kind": ballot.kind.value,
            "secret": ballot.secret,
            "rule": ballot.rule.value, "allow_change": ballot.allow_change,
            "questions": [{"question_id": q.id, "text": q.text, "options": q.option_list} for q in ballot.questions],
            "eligible_me": is_eligible(ballot, user), "voted_me": has_voted(ballot, user)}


def published_receipts(ballot: Ballot) -> list[dict[str, Any]]:
    """After closing: every receipt code with its choices (and the voter's name in named ballots)."""
    if ballot.status is not BallotStatus.CLOSED:
        return []
    rows = db.session.execute(select(BallotVote.receipt_code, BallotVote.answers, BallotVote.voter_id)
                              .where(BallotVote.ballot_id == ballot.id).order_by(BallotVote.receipt_code)).all()
    names = {} if ballot.secret else dict(db.session.execute(
        select(User.id, User.name).where(User.id.in_([r.voter_id for r in rows if r.voter_id]))).all())
    return [{"receipt": r.receipt_code, "answers": json.loads(r.answers),
             "voter": None if ballot.secret else names.get(r.voter_id)} for r in rows]


def summary(ballot: Ballot) -> dict[str, Any] | None:
    """The automatic summary of a closed ballot: counts per question and every comment grouped by answer."""
    return ballot.result_data if ballot.status is BallotStatus.CLOSED else None


def results_for_meeting(meeting: Meeting) -> list[dict[str, Any]]:
    """Closed ballots of a meeting, in agenda order, for the meeting record and the minutes."""
    out = []
    for ballot in ballots_for_meeting(meeting):
        if ballot.status is BallotStatus.CLOSED:
            out.append({"ballot_id": ballot.id, "item_id": ballot.item_id, "title": ballot.title,
                        "kind": ballot.kind.value, "secret": ballot.secret, "closed_at": ballot.closed_at,
                        "result": ballot.result_data})
    return out


# --- consent adoption -----------------------------------------------------------------------------

def adopt_consent_block(actor: Actor, meeting: Meeting) -> list[Ballot]:
    """Adopt the consent block (meetings service) and record one closed consent ballot per item, whose
    result is the members' pre-meeting positions (all 'agree')."""
    items = meetings.adopt_consent_block(actor, meeting)
    made = []
    for item in items:
        agree = sum(1 for p in item.positions if p.position.value == "agree")
        ballot = Ballot(kind=BallotKind.CONSENT, status=BallotStatus.OPEN, meeting_id=meeting.id, item_id=item.id,
                        title=item.title, rule=VoteRule.MAJORITY_CAST, opened_at=utcnow(), created_by_id=actor.user_id,
                        eligible_count=len(meetings.expected_responders(meeting, item)), votes_cast=0)
        ballot.questions.append(BallotQuestion(position=1, text=item.title,
                                               options=json.dumps(live_options(), ensure_ascii=False)))
        db.session.add(ballot)
        db.session.flush()
        result = {"rule": "consent", "eligible": ballot.eligible_count, "voted": 0, "outcome": rules.ADOPTED,
                  "positions_agree": agree, "questions": [], "digest": votes_digest([]),
                  "quorum": {"basis": "present", "reached": True}}
        ballot.result = _canonical(result)
        ballot.outcome = rules.ADOPTED
        ballot.status = BallotStatus.CLOSED
        ballot.closed_at = utcnow()
        audit.record(actor, "ballot.consent", object_type="ballot", object_id=ballot.id, meeting_id=meeting.id,
                     details={"item": item.id, "agree": agree})
        made.append(ballot)
    db.session.commit()
    return made


# --- verification ---------------------------------------------------------------------------------

@dataclass
class VerifyReport:
    ballot_id: int
    ok: bool
    lines: list[str]


def verify_ballot(ballot_id: int) -> VerifyReport:
    """Recompute the result from the stored votes; compare it with the recorded result, the close entry
    of the audit log, the participation, and check the audit chain."""
    ballot = get_ballot(ballot_id)
    if ballot is None:
        return VerifyReport(ballot_id, False, [f"Ballot {ballot_id}: not found."])
    lines = [f"Ballot {ballot.id}: {ballot.title} ({ballot.kind.value}, {ballot.status.value}, "
             f"{'secret' if ballot.secret else 'named'}, rule {ballot.rule.value})"]
    ok = True

    def check(condition: bool, good: str, bad: str) -> None:
        nonlocal ok
        lines.append(("OK    " if condition else "FAIL  ") + (good if condition else bad))
        ok = ok and condition

    if ballot.status is not BallotStatus.CLOSED:
        check(False, "", "the ballot is not closed: there is no recorded result to verify")
        return VerifyReport(ballot.id, ok, lines)
    if ballot.kind is BallotKind.CONSENT:
        lines.append("      consent adoption: decided from pre-meeting positions, no votes")
    recorded = ballot.result_data
    rows = _vote_rows(ballot.id)
    parts = db.session.scalar(select(func.count()).select_from(BallotParticipation)
                              .where(BallotParticipation.ballot_id == ballot.id)) or 0
    check(len(rows) == parts, f"{len(rows)} votes stored, {parts} voters recorded as having voted",
          f"{len(rows)} votes stored but {parts} voters recorded as having voted")
    check(len(rows) == recorded["voted"], f"the recorded result counted {recorded['voted']} votes",
          f"the recorded result counted {recorded['voted']} votes, {len(rows)} are stored")
    digest = votes_digest(rows)
    check(digest == recorded["digest"], "the stored votes match the digest recorded at close",
          "the stored votes do NOT match the digest recorded at close (a vote was altered, added or removed)")
    if ballot.kind is not BallotKind.CONSENT:
        recomputed = compute_result(ballot, rows, recorded["quorum"]["reached"], recorded["quorum"])
        recomputed["closed_by"] = recorded.get("closed_by")
        for q_new, q_old in zip(recomputed["questions"], recorded["questions"], strict=False):
            check(q_new["counts"] == q_old["counts"] and q_new["outcome"] == q_old["outcome"],
                  f"question {q_new['position']}: recomputed {q_new['counts']} → {q_new['outcome']}",
                  f"question {q_new['position']}: recomputed {q_new['counts']} → {q_new['outcome']}, "
                  f"recorded {q_old['counts']} → {q_old['outcome']}")
        check(recomputed["outcome"] == ballot.outcome == recorded["outcome"],
              f"outcome {ballot.outcome} under rule {recorded['rule']}",
              f"outcome recomputed {recomputed['outcome']}, recorded {recorded['outcome']} / {ballot.outcome}")
    entries = db.session.execute(select(AuditEntry.action, AuditEntry.details).where(
        AuditEntry.object_type == "ballot", AuditEntry.object_id == str(ballot.id))).all()
    actions = [e.action for e in entries]
    closing = [json.loads(e.details) for e in entries if e.action in ("ballot.close", "ballot.consent")]
    check(len(closing) == 1, "the audit log holds the closing entry", "the audit log has no single closing entry")
    if closing and ballot.kind is not BallotKind.CONSENT:
        check(closing[0].get("digest") == digest and closing[0].get("outcome") == ballot.outcome,
              "the closing audit entry records the same digest and outcome",
              "the closing audit entry disagrees with the stored votes or outcome")
        check("ballot.open" in actions, "the audit log holds the opening entry", "no opening entry in the audit log")
    cast_entries = actions.count("vote.cast")
    check(cast_entries == parts, f"{cast_entries} 'vote.cast' audit entries, one per voter",
          f"{cast_entries} 'vote.cast' audit entries for {parts} voters")
    chain = audit.verify_chain()
    check(chain.ok, f"audit chain verifies ({chain.entries} entries)",
          f"audit chain broken at entry {chain.first_broken_id}: {chain.problem}")
    return VerifyReport(ballot.id, ok, lines)


def ballot_payload(entry: AuditEntry) -> dict[str, Any]:
    """The live event's payload for a ballot change (called by the live domain's ``_payload``)."""
    ballot = get_ballot(entry.object_id)
    if ballot is None:
        return {"resync": True}
    state = ballot_state(ballot)
    if ballot.item_id and ballot.outcome:
        state["item_outcome"] = ITEM_OUTCOMES.get(ballot.outcome, ballot.outcome)
    return {"ballot": state}
