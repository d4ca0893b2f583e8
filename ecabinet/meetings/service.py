"""Meeting rules: lifecycle, agenda, participants, publishing, conflicts, positions, attendance and quorum.

Every function that changes something takes the acting ``Actor``, checks the rule, records the change
in the audit log in the same transaction, and commits. A broken rule raises ``MeetingError`` (a
``DomainError``) before anything is changed. ``Actor.system()`` (CLI, demo, jobs) may do everything.

Who may see what is decided in ``policy.py``; the service re-checks the rules that guard a change
(role, invitation, lifecycle state), so that the live room and other callers cannot skip them.

Agenda versions: edits to a published agenda are visible at once, mark the meeting "changed since
version N", and the secretariat publishes version N+1 explicitly ("publish new version"), which
notifies every participant once for a batch of edits instead of once per click.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import selectinload

from ecabinet.accounts.models import Role, User
from ecabinet.audit import service as audit
from ecabinet.core.actor import Actor
from ecabinet.core.errors import DomainError
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings.models import (
    AgendaVersion,
    Attendance,
    CheckInMode,
    Confidentiality,
    ConflictPolicy,
    GuestItemInvitation,
    InterestDeclaration,
    ItemKind,
    ItemPosition,
    Meeting,
    MeetingItem,
    MeetingKind,
    MeetingMode,
    MeetingParticipant,
    MeetingStatus,
    Notification,
    ParticipantRole,
    Position,
    QuorumRule,
)

TITLE_MAX = 200
ITEM_TITLE_MAX = 300
TEXT_MAX = 200
# "One short page": members drown in material.
SUMMARY_MAX = 2000
COMMENT_MAX = 500
REASON_MAX = 500
DURATION_MAX = 600
ADOPTED_BY_CONSENT = "adopted_by_consent"

EDITABLE = (MeetingStatus.DRAFT, MeetingStatus.PUBLISHED)


class MeetingError(DomainError):
    """A meeting request that cannot be carried out; the message says why."""


class NotInvited(MeetingError):
    """The actor is not a participant of the meeting (views answer 404: it may not know it exists)."""

    status = 404


# --- notification texts (English msgids, translated when shown) ------------------------------------

N_PUBLISHED = "The agenda of “%(title)s” has been published (version %(version)s)."
N_NEW_VERSION = "The agenda of “%(title)s” has changed: version %(version)s."
N_GUEST_INVITED = "You are invited to present an item at “%(title)s”."
N_STARTED = "The meeting “%(title)s” has started."


# --- lifecycle ------------------------------------------------------------------------------------

# The one transition table: step -> (from states, to state, who may take it).
# "secretary" is any user with the secretary role; "chair" is the meeting's own chair.
TRANSITIONS: dict[str, tuple[tuple[MeetingStatus, ...], MeetingStatus, str]] = {
    "publish": ((MeetingStatus.DRAFT,), MeetingStatus.PUBLISHED, "secretary"),
    "start": ((MeetingStatus.PUBLISHED,), MeetingStatus.IN_SESSION, "chair"),
    "adjourn": ((MeetingStatus.IN_SESSION,), MeetingStatus.ADJOURNED, "chair"),
    "resume": ((MeetingStatus.ADJOURNED,), MeetingStatus.IN_SESSION, "chair"),
    "close": ((MeetingStatus.ADJOURNED,), MeetingStatus.CLOSED, "chair"),
}


def may_take_step(user: User | None, meeting: Meeting, step: str) -> bool:
    """Whether this user's role allows the step (not whether the meeting is in the right state)."""
    if user is None:
        return True  # the system actor
    who = TRANSITIONS[step][2]
    if who == "secretary":
        return user.role is Role.SECRETARY
    return meeting.chair_id == user.id and user.role is Role.CHAIR


def _transition(actor: Actor, meeting: Meeting, step: str) -> None:
    sources, target, who = TRANSITIONS[step]
    if not may_take_step(actor.user, meeting, step):
        if who == "chair":
            raise MeetingError("Only the chair of this meeting may do this.")
        raise MeetingError("Only the secretariat may do this.")
    if meeting.status not in sources:
        raise MeetingError("This step is not possible now: the meeting is %(status)s.", status=meeting.status.value)
    meeting.status = target


def start_meeting(actor: Actor, meeting: Meeting) -> None:
    _transition(actor, meeting, "start")
    meeting.started_at = utcnow()
    _notify(_participant_users(meeting), meeting, N_STARTED, title=meeting.title)
    audit.record(actor, "meeting.start", object_type="meeting", object_id=meeting.id, meeting_id=meeting.id)
    db.session.commit()


def adjourn_meeting(actor: Actor, meeting: Meeting) -> None:
    _transition(actor, meeting, "adjourn")
    meeting.adjourned_at = utcnow()
    audit.record(actor, "meeting.adjourn", object_type="meeting", object_id=meeting.id, meeting_id=meeting.id)
    db.session.commit()


def resume_meeting(actor: Actor, meeting: Meeting) -> None:
    _transition(actor, meeting, "resume")
    audit.record(actor, "meeting.resume", object_type="meeting", object_id=meeting.id, meeting_id=meeting.id)
    db.session.commit()


def close_meeting(actor: Actor, meeting: Meeting) -> None:
    _transition(actor, meeting, "close")
    meeting.closed_at = utcnow()
    meeting.current_item_id = None
    audit.record(actor, "meeting.close", object_type="meeting", object_id=meeting.id, meeting_id=meeting.id)
    db.session.commit()


STEP_FUNCTIONS = {"start": start_meeting, "adjourn": adjourn_meeting, "resume": resume_meeting,
                  "close": close_meeting}


def available_steps(user: User, meeting: Meeting) -> list[str]:
    """Chair steps this user may take now (for the buttons)."""
    return [step for step, (sources, _t, who) in TRANSITIONS.items()
            if who == "chair" and meeting.status in sources and may_take_step(user, meeting, step)]


# --- lookups --------------------------------------------------------------------------------------

def get_meeting(meeting_id: int | None) -> Meeting | None:
    return db.session.get(Meeting, meeting_id) if meeting_id is not None else None


def get_item(meeting: Meeting, item_id: int | None) -> MeetingItem | None:
    item = db.session.get(MeetingItem, item_id) if item_id is not None else None
    return item if item is not None and item.meeting_id == meeting.id else None


# Built once, with bind parameters: building a select (and its cache key) costs about as much Python
# as running it, and every socket event's policy runs this one.
_MEETING_AND_PARTICIPANT = (
    select(Meeting, MeetingParticipant).outerjoin(MeetingParticipant, and_(
        MeetingParticipant.meeting_id == Meeting.id, MeetingParticipant.user_id == bindparam("user_id")))
    .where(Meeting.id == bindparam("meeting_id")))


def meeting_and_participant(meeting_id: int | None, user: User) -> tuple[Meeting | None, MeetingParticipant | None]:
    """A meeting and this user's participation in it, in one statement (a socket event's policy check
    needs both, and each statement costs a round trip and ~0.25 ms of Python)."""
    if meeting_id is None:
        return None, None
    row = db.session.execute(_MEETING_AND_PARTICIPANT, {"meeting_id": meeting_id, "user_id": user.id}).first()
    return (row[0], row[1]) if row is not None else (None, None)


def participant_of(meeting: Meeting, user: User | None) -> MeetingParticipant | None:
    if user is None:
        return None
    return db.session.scalar(select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id,
                                                              MeetingParticipant.user_id == user.id))


def agenda_for_page(meeting: Meeting) -> list[MeetingItem]:
    """The meeting's items with what its page reads of each (positions, declared interests and who declared
    them) loaded in three queries: lazily, 50 items cost ~100 statements (profiled). Keep the list while the
    page renders: the session holds loaded objects only while something refers to them."""
    return list(db.session.scalars(
        select(MeetingItem).where(MeetingItem.meeting_id == meeting.id).order_by(MeetingItem.position)
        .options(selectinload(MeetingItem.positions),
                 selectinload(MeetingItem.interests).joinedload(InterestDeclaration.member))))


def get_participant(meeting: Meeting, participant_id: int) -> MeetingParticipant | None:
    p = db.session.get(MeetingParticipant, participant_id)
    return p if p is not None and p.meeting_id == meeting.id else None


def voting_members(meeting: Meeting) -> list[MeetingParticipant]:
    """Participants who are members of the Government for this meeting: the members and the chair."""
    return [p for p in meeting.participants if p.is_voting_member]


def list_meetings_for(user: User) -> list[Meeting]:
    """Meetings this user may see: all for the secretariat; otherwise those they take part in (no drafts,
    except for the chair of the draft)."""
    query = select(Meeting).order_by(Meeting.starts_at.desc())
    if user.role is Role.SECRETARY:
        return list(db.session.scalars(query))
    query = query.join(MeetingParticipant).where(MeetingParticipant.user_id == user.id)
    return [m for m in db.session.scalars(query)
            if m.status is not MeetingStatus.DRAFT or m.chair_id == user.id]


# --- meetings -------------------------------------------------------------------------------------

@dataclass
class MeetingData:
    title: str
    starts_at: datetime
    ends_at: datetime
    kind: MeetingKind = MeetingKind.REGULAR
    place: str = ""
    mode: MeetingMode = MeetingMode.IN_PERSON
    chair_id: int | None = None
    timezone: str | None = None
    conflict_policy: ConflictPolicy = ConflictPolicy.RECUSE
    quorum_rule: QuorumRule = QuorumRule.MORE_THAN_HALF
    quorum_fixed: int | None = None

    def cleaned(self) -> MeetingData:
        title = (self.title or "").strip()
        if not title:
            raise MeetingError("The title is required.")
        if len(title) > TITLE_MAX:
            raise MeetingError("The title is longer than %(n)s characters.", n=TITLE_MAX)
        place = (self.place or "").strip()
        if len(place) > TEXT_MAX:
            raise MeetingError("The place is longer than %(n)s characters.", n=TEXT_MAX)
        zone = self.timezone or current_app.config["DEFAULT_TIMEZONE"]
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise MeetingError("Unknown time zone.") from exc
        if self.starts_at is None or self.ends_at is None:
            raise MeetingError("The start and the expected end are required.")
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise MeetingError("Times must carry a time zone.")
        if self.ends_at <= self.starts_at:
            raise MeetingError("The meeting must end after it starts.")
        rule = QuorumRule(self.quorum_rule)
        fixed = self.quorum_fixed
        if rule is QuorumRule.FIXED and (fixed is None or fixed < 1):
            raise MeetingError("A fixed quorum needs a number of at least 1.")
        if self.chair_id is not None:
            chair = db.session.get(User, self.chair_id)
            if chair is None or not chair.active or chair.role is not Role.CHAIR:
                raise MeetingError("The chair must be an active user with the chair role.")
        return MeetingData(title=title, starts_at=self.starts_at, ends_at=self.ends_at, kind=MeetingKind(self.kind),
                           place=place, mode=MeetingMode(self.mode), chair_id=self.chair_id, timezone=zone,
                           conflict_policy=ConflictPolicy(self.conflict_policy), quorum_rule=rule,
                           quorum_fixed=fixed if rule is QuorumRule.FIXED else None)


def _require_secretary(actor: Actor) -> None:
    if actor.user is not None and actor.user.role is not Role.SECRETARY:
        raise MeetingError("Only the secretariat may do this.")


def _require_editable(meeting: Meeting) -> None:
    if meeting.status not in EDITABLE:
        raise MeetingError("The agenda can no longer be changed: the meeting has started.")


def _default_participants(meeting: Meeting) -> None:
    """Invite every active member, the chair and the secretaries."""
    roles = {Role.MEMBER: ParticipantRole.MEMBER, Role.SECRETARY: ParticipantRole.SECRETARY}
    for user in db.session.scalars(select(User).where(User.active.is_(True), User.role.in_(list(roles)))):
        meeting.participants.append(MeetingParticipant(user_id=user.id, role=roles[user.role]))
    if meeting.chair_id is not None:
        meeting.participants.append(MeetingParticipant(user_id=meeting.chair_id, role=ParticipantRole.CHAIR))


def create_meeting(actor: Actor, data: MeetingData) -> Meeting:
    _require_secretary(actor)
    data = data.cleaned()
    meeting = Meeting(title=data.title, kind=data.kind, starts_at=data.starts_at, ends_at=data.ends_at,
                      timezone=data.timezone, place=data.place, mode=data.mode, chair_id=data.chair_id,
                      conflict_policy=data.conflict_policy, quorum_rule=data.quorum_rule,
                      quorum_fixed=data.quorum_fixed, status=MeetingStatus.DRAFT, created_by_id=actor.user_id,
                      agenda_version=0, agenda_changed=False)
    db.session.add(meeting)
    _default_participants(meeting)
    db.session.flush()
    audit.record(actor, "meeting.create", object_type="meeting", object_id=meeting.id, meeting_id=meeting.id,
                 details={"title": meeting.title, "starts_at": meeting.starts_at.isoformat()})
    db.session.commit()
    return meeting


def update_meeting(actor: Actor, meeting: Meeting, data: MeetingData) -> Meeting:
    _require_secretary(actor)
    _require_editable(meeting)
    data = data.cleaned()
    changes = {}
    for name in ("title", "kind", "starts_at", "ends_at", "timezone", "place", "mode", "chair_id",
                 "conflict_policy", "quorum_rule", "quorum_fixed"):
        old, new = getattr(meeting, name), getattr(data, name)
        if old != new:
            changes[name] = [str(old), str(new)]
            setattr(meeting, name, new)
    if not changes:
        return meeting
    if "chair_id" in changes:
        _replace_chair(meeting, data.chair_id)
    if meeting.status is MeetingStatus.PUBLISHED:
        meeting.agenda_changed = True
    audit.record(actor, "meeting.update", object_type="meeting", object_id=meeting.id, meeting_id=meeting.id,
                 details=changes)
    db.session.commit()
    return meeting


def _replace_chair(meeting: Meeting, chair_id: int | None) -> None:
    for p in list(meeting.participants):
        if p.role is ParticipantRole.CHAIR:
            meeting.participants.remove(p)
    db.session.flush()
    if chair_id is not None:
        existing = next((p for p in meeting.participants if p.user_id == chair_id), None)
        if existing is not None:
            existing.role = ParticipantRole.CHAIR
        else:
            meeting.participants.append(MeetingParticipant(user_id=chair_id, role=ParticipantRole.CHAIR))


def copy_meeting(actor: Actor, source: Meeting, starts_at: datetime | None = None, title: str | None = None) -> Meeting:
    """A new draft with the same details and agenda items; no positions, attendance, guests or outcomes."""
    _require_secretary(actor)
    length = source.ends_at - source.starts_at
    start = starts_at or source.starts_at + timedelta(days=7)
    data = MeetingData(title=title or source.title, starts_at=start, ends_at=start + length, kind=source.kind,
                       place=source.place, mode=source.mode, chair_id=source.chair_id, timezone=source.timezone,
                       conflict_policy=source.conflict_policy, quorum_rule=source.quorum_rule,
                       quorum_fixed=source.quorum_fixed).cleaned()
    meeting = Meeting(title=data.title, kind=data.kind, starts_at=data.starts_at, ends_at=data.ends_at,
                      timezone=data.timezone, place=data.place, mode=data.mode, chair_id=data.chair_id,
                      conflict_policy=data.conflict_policy, quorum_rule=data.quorum_rule,
                      quorum_fixed=data.quorum_fixed, status=MeetingStatus.DRAFT, created_by_id=actor.user_id,
                      copied_from_id=source.id, agenda_version=0, agenda_changed=False)
    db.session.add(meeting)
    for item in source.items:
        meeting.items.append(MeetingItem(position=item.position, title=item.title, ministry=item.ministry,
                                         presenter=item.presenter, duration_minutes=item.duration_minutes,
                                         summary=item.summary, kind=item.kind,
                                         confidentiality=item.confidentiality))
    _default_participants(meeting)
    db.session.flush()
    audit.record(actor, "meeting.copy", object_type="meeting", object_id=meeting.id, meeting_id=meeting.id,
                 details={"from": source.id, "items": len(source.items)})
    db.session.commit()
    return meeting


# --- agenda items ---------------------------------------------------------------------------------

@dataclass
class ItemData:
    title: str
    ministry: str = ""
    presenter: str = ""
    duration_minutes: int = 10
    summary: str = ""
    kind: ItemKind = ItemKind.DECISION
    confidentiality: Confidentiality = Confidentiality.NORMAL

    def cleaned(self) -> ItemData:
        title = (self.title or "").strip()
        if not title:
            raise MeetingError("The item title is required.")
        if len(title) > ITEM_TITLE_MAX:
            raise MeetingError("The item title is longer than %(n)s characters.", n=ITEM_TITLE_MAX)
        ministry, presenter = (self.ministry or "").strip(), (self.presenter or "").strip()
        if len(ministry) > TEXT_MAX or len(presenter) > TEXT_MAX:
            raise MeetingError("The ministry and the presenter must each be at most %(n)s characters.", n=TEXT_MAX)
        summary = (self.summary or "").strip()
        if len(summary) > SUMMARY_MAX:
            raise MeetingError("The summary must fit on one short page (at most %(n)s characters).", n=SUMMARY_MAX)
        duration = _duration(self.duration_minutes)
        try:
            kind, level = ItemKind(self.kind), Confidentiality(self.confidentiality)
        except ValueError as exc:
            raise MeetingError("Unknown item kind or confidentiality level.") from exc
        return ItemData(title=title, ministry=ministry, presenter=presenter, duration_minutes=duration,
                        summary=summary, kind=kind, confidentiality=level)


def _duration(value: object) -> int:
    try:
        minutes = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise MeetingError("The planned duration must be a number of minutes.") from exc
    if not 1 <= minutes <= DURATION_MAX:
        raise MeetingError("The planned duration must be between 1 and %(n)s minutes.", n=DURATION_MAX)
    return minutes


def _agenda_touched(meeting: Meeting) -> None:
    if meeting.status is MeetingStatus.PUBLISHED:
        meeting.agenda_changed = True


def _renumber(meeting: Meeting, ordered: Sequence[MeetingItem]) -> None:
    for index, item in enumerate(ordered, start=1):
        item.position = index
    meeting.items.sort(key=lambda i: i.position)


def add_item(actor: Actor, meeting: Meeting, data: ItemData) -> MeetingItem:
    _require_secretary(actor)
    _require_editable(meeting)
    data = data.cleaned()
    item = MeetingItem(position=len(meeting.items) + 1, title=data.title, ministry=data.ministry,
                       presenter=data.presenter, duration_minutes=data.duration_minutes, summary=data.summary,
                       kind=data.kind, confidentiality=data.confidentiality)
    meeting.items.append(item)
    _agenda_touched(meeting)
    db.session.flush()
    audit.record(actor, "agenda.item_add", object_type="meeting_item", object_id=item.id, meeting_id=meeting.id,
                 details={"title": item.title})
    db.session.commit()
    return item


def update_item(actor: Actor, item: MeetingItem, data: ItemData) -> MeetingItem:
    _require_secretary(actor)
    meeting = item.meeting
    _require_editable(meeting)
    data = data.cleaned()
    changes = {}
    for name in ("title", "ministry", "presenter", "duration_minutes", "summary", "kind", "confidentiality"):
        old, new = getattr(item, name), getattr(data, name)
        if old != new:
            changes[name] = [str(old), str(new)] if name != "summary" else "changed"
            setattr(item, name, new)
    if not changes:
        return item
    _agenda_touched(meeting)
    audit.record(actor, "agenda.item_update", object_type="meeting_item", object_id=item.id,
                 meeting_id=meeting.id, details=changes)
    db.session.commit()
    return item


def delete_item(actor: Actor, item: MeetingItem) -> None:
    bulk_delete(actor, item.meeting, [item.id])


def reorder_items(actor: Actor, meeting: Meeting, ordered_ids: Iterable[object]) -> None:
    """Put the agenda in the given order: the full list of the meeting's item ids, each exactly once."""
    _require_secretary(actor)
    _require_editable(meeting)
    try:
        ids = [int(i) for i in ordered_ids]  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise MeetingError("The new order must be a list of item numbers.") from exc
    if len(ids) != len(set(ids)):
        raise MeetingError("The new order names an item more than once.")
    by_id = {item.id: item for item in meeting.items}
    if set(ids) != set(by_id):
        raise MeetingError("The new order must name every item of this agenda, and only those.")
    before = [item.id for item in meeting.items]
    if before == ids:
        return
    _renumber(meeting, [by_id[i] for i in ids])
    _agenda_touched(meeting)
    audit.record(actor, "agenda.reorder", object_type="meeting", object_id=meeting.id, meeting_id=meeting.id,
                 details={"before": before, "after": ids})
    db.session.commit()


def move_item(actor: Actor, item: MeetingItem, step: int) -> None:
    """Move an item one place up (-1) or down (+1): the keyboard and no-JavaScript way to reorder."""
    if step not in (-1, 1):
        raise MeetingError("An item moves one place up or down.")
    order = [i.id for i in item.meeting.items]
    index = order.index(item.id)
    target = index + step
    if not 0 <= target < len(order):
        raise MeetingError("The item is already at the end of the agenda.")
    order[index], order[target] = order[target], order[index]
    reorder_items(actor, item.meeting, order)


@dataclass
class BulkChanges:
    """The fields to set on every selected item; None leaves a field as it is."""

    kind: ItemKind | None = None
    confidentiality: Confidentiality | None = None
    ministry: str | None = None
    duration_minutes: int | None = None

    def cleaned(self) -> dict[str, object]:
        changes: dict[str, object] = {}
        try:
            if self.kind:
                changes["kind"] = ItemKind(self.kind)
            if self.confidentiality:
                changes["confidentiality"] = Confidentiality(self.confidentiality)
        except ValueError as exc:
            raise MeetingError("Unknown item kind or confidentiality level.") from exc
        if self.ministry is not None and self.ministry.strip():
            if len(self.ministry.strip()) > TEXT_MAX:
                raise MeetingError("The ministry and the presenter must each be at most %(n)s characters.",
                                   n=TEXT_MAX)
            changes["ministry"] = self.ministry.strip()
        if self.duration_minutes not in (None, ""):
            changes["duration_minutes"] = _duration(self.duration_minutes)
        return changes


def _selected_items(meeting: Meeting, item_ids: Iterable[object]) -> list[MeetingItem]:
    try:
        ids = {int(i) for i in item_ids}  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise MeetingError("Unknown item.") from exc
    if not ids:
        raise MeetingError("Select at least one item.")
    by_id = {item.id: item for item in meeting.items}
    if not ids <= set(by_id):
        raise MeetingError("Unknown item.")
    return [by_id[i] for i in sorted(ids, key=lambda i: by_id[i].position)]


def bulk_edit(actor: Actor, meeting: Meeting, item_ids: Iterable[object], changes: BulkChanges) -> int:
    _require_secretary(actor)
    _require_editable(meeting)
    items = _selected_items(meeting, item_ids)
    values = changes.cleaned()
    if not values:
        raise MeetingError("Choose at least one change to make.")
    for item in items:
        for name, value in values.items():
            setattr(item, name, value)
    _agenda_touched(meeting)
    audit.record(actor, "agenda.bulk_edit", object_type="meeting", object_id=meeting.id, meeting_id=meeting.id,
                 details={"items": [i.id for i in items], "set": {k: str(v) for k, v in values.items()}})
    db.session.commit()
    return len(items)


def bulk_delete(actor: Actor, meeting: Meeting, item_ids: Iterable[object]) -> int:
    _require_secretary(actor)
    _require_editable(meeting)
    items = _selected_items(meeting, item_ids)
    doomed = {i.id for i in items}
    for item in items:
        meeting.items.remove(item)
    _renumber(meeting, [i for i in meeting.items if i.id not in doomed])
    _agenda_touched(meeting)
    audit.record(actor, "agenda.item_delete", object_type="meeting", object_id=meeting.id, meeting_id=meeting.id,
                 details={"items": sorted(doomed), "titles": [i.title for i in items]})
    db.session.commit()
    return len(items)


# --- publishing and versions ----------------------------------------------------------------------

def _snapshot(meeting: Meeting) -> str:
    return json.dumps([item.snapshot() for item in meeting.items], ensure_ascii=False, sort_keys=True)


def publish(actor: Actor, meeting: Meeting) -> AgendaVersion:
    """First publication (draft → published) or a new version of a published agenda that changed."""
    if not meeting.items:
        raise MeetingError("An empty agenda cannot be published: add at least one item.")
    first = meeting.status is MeetingStatus.DRAFT
    if first:
        _transition(actor, meeting, "publish")
        meeting.published_at = utcnow()
    else:
        _require_secretary(actor)
        if meeting.status is not MeetingStatus.PUBLISHED:
            raise MeetingError("The agenda can no longer be changed: the meeting has started.")
        if not meeting.agenda_changed:
            raise MeetingError("Nothing has changed since version %(version)s.", version=meeting.agenda_version)
    meeting.agenda_version += 1
    meeting.agenda_changed = False
    version = AgendaVersion(meeting_id=meeting.id, number=meeting.agenda_version, published_at=utcnow(),
                            published_by_id=actor.user_id, snapshot=_snapshot(meeting))
    db.session.add(version)
    if first:
        _notify(_participant_users(meeting), meeting, N_PUBLISHED, title=meeting.title,
                version=version.number)
    else:
        _notify(_participant_users(meeting), meeting, N_NEW_VERSION, title=meeting.title,
                version=version.number)
    audit.record(actor, "meeting.publish", object_type="meeting", object_id=meeting.id, meeting_id=meeting.id,
                 details={"version": version.number, "items": len(meeting.items)})
    db.session.commit()
    return version


def get_version(meeting: Meeting, number: int) -> AgendaVersion | None:
    return db.session.scalar(select(AgendaVersion).where(AgendaVersion.meeting_id == meeting.id,
                                                         AgendaVersion.number == number))


@dataclass
class AgendaDiff:
    since: int
    to: int
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)   # {"title":…, "fields": [...]}

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_versions(meeting: Meeting, since: int, to: int | None = None,
                  visible_ids: set[int] | None = None) -> AgendaDiff | None:
    """What changed between two published versions; restricted to the items the viewer may see."""
    to = meeting.agenda_version if to is None else to
    if since < 1 or since >= to:
        return None
    old_v, new_v = get_version(meeting, since), get_version(meeting, to)
    if old_v is None or new_v is None:
        return None
    old = {i["id"]: i for i in json.loads(old_v.snapshot)}
    new = {i["id"]: i for i in json.loads(new_v.snapshot)}
    if visible_ids is not None:
        old = {k: v for k, v in old.items() if k in visible_ids}
        new = {k: v for k, v in new.items() if k in visible_ids}
    diff = AgendaDiff(since=since, to=to)
    diff.added = [new[i] for i in new if i not in old]
    diff.removed = [old[i] for i in old if i not in new]
    for i in new:
        if i in old:
            fields = [k for k in new[i] if k != "id" and new[i][k] != old[i].get(k)]
            if fields:
                diff.changed.append({"title": new[i]["title"], "position": new[i]["position"], "fields": fields})
    return diff


def mark_version_seen(actor: Actor, meeting: Meeting) -> None:
    participant = participant_of(meeting, actor.user)
    if participant is None:
        raise NotInvited("You are not invited to this meeting.")
    if participant.last_seen_version != meeting.agenda_version:
        participant.last_seen_version = meeting.agenda_version
        db.session.commit()


# --- notifications --------------------------------------------------------------------------------

def _participant_users(meeting: Meeting) -> list[User]:
    return [p.user for p in meeting.participants if p.user.active]


def notify_participants(meeting: Meeting, key: str, **params: object) -> None:
    """Notify every participant of a meeting (in the caller's transaction); ``key`` is an English msgid."""
    _notify(_participant_users(meeting), meeting, key, **params)


def _notify(users: Iterable[User], meeting: Meeting | None, key: str, **params: object) -> None:
    users = list(users)
    for user in users:
        db.session.add(Notification(user_id=user.id, meeting_id=meeting.id if meeting else None, key=key,
                                    params=json.dumps(params, ensure_ascii=False)))
    if current_app.config.get("SMTP_URL") and users:
        # Email goes through the job queue, never on the request path; queued only when SMTP is set.
        from ecabinet.meetings.tasks import send_notification_email

        text = key % params
        send_notification_email([u.email for u in users], text)


def notifications_for(user: User, limit: int = 20) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id.desc()).limit(limit)))


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_notifications_read(actor: Actor) -> int:
    if actor.user is None:
        return 0
    rows = db.session.scalars(select(Notification).where(Notification.user_id == actor.user.id,
                                                         Notification.read_at.is_(None))).all()
    now = utcnow()
    for row in rows:
        row.read_at = now
    db.session.commit()
    return len(rows)


def notification_text(note: Notification) -> str:
    from flask_babel import gettext

    return gettext(note.key, **json.loads(note.params or "{}"))


# --- participants ---------------------------------------------------------------------------------

def _require_participant(actor: Actor, meeting: Meeting) -> MeetingParticipant | None:
    """The actor's participant row; the system actor has none."""
    if actor.user is None:
        return None
    participant = participant_of(meeting, actor.user)
    if participant is None:
        raise NotInvited("You are not invited to this meeting.")
    return participant


def add_participant(actor: Actor, meeting: Meeting, user: User, role: ParticipantRole) -> MeetingParticipant:
    _require_secretary(actor)
    if meeting.status is MeetingStatus.CLOSED:
        raise MeetingError("The meeting is closed.")
    role = ParticipantRole(role)
    if not user.active:
        raise MeetingError("This account is disabled.")
    if participant_of(meeting, user) is not None:
        raise MeetingError("%(name)s is already a participant.", name=user.name)
    if role is ParticipantRole.CHAIR:
        raise MeetingError("Change the chair in the meeting's details.")
    expected = {ParticipantRole.MEMBER: Role.MEMBER, ParticipantRole.SECRETARY: Role.SECRETARY}
    if role in expected and user.role is not expected[role]:
        raise MeetingError("%(name)s does not have the role needed to take part as this.", name=user.name)
    participant = MeetingParticipant(meeting_id=meeting.id, user_id=user.id, role=role)
    db.session.add(participant)
    db.session.flush()
    audit.record(actor, "participant.add", object_type="meeting_participant", object_id=participant.id,
                 meeting_id=meeting.id, details={"user": user.id, "role": role.value})
    db.session.commit()
    return participant


def remove_participant(actor: Actor, participant: MeetingParticipant) -> None:
    _require_secretary(actor)
    meeting = participant.meeting
    if meeting.status is MeetingStatus.CLOSED:
        raise MeetingError("The meeting is closed.")
    if participant.role is ParticipantRole.CHAIR:
        raise MeetingError("Change the chair in the meeting's details.")
    details = {"user": participant.user_id, "role": participant.role.value}
    meeting.participants.remove(participant)
    audit.record(actor, "participant.remove", object_type="meeting_participant", object_id=participant.id,
                 meeting_id=meeting.id, details=details)
    db.session.commit()


def invite_guest(actor: Actor, item: MeetingItem, user: User) -> GuestItemInvitation:
    """Invite a guest to one item; they see that item and nothing else of the meeting."""
    _require_secretary(actor)
    meeting = item.meeting
    if meeting.status is MeetingStatus.CLOSED:
        raise MeetingError("The meeting is closed.")
    if not user.active:
        raise MeetingError("This account is disabled.")
    participant = participant_of(meeting, user)
    if participant is None:
        if user.role is not Role.GUEST:
            raise MeetingError("Only guest accounts can be invited to single items.")
        participant = MeetingParticipant(meeting_id=meeting.id, user_id=user.id, role=ParticipantRole.GUEST)
        db.session.add(participant)
        db.session.flush()
    elif participant.role is not ParticipantRole.GUEST:
        raise MeetingError("%(name)s is already a participant.", name=user.name)
    if any(inv.item_id == item.id for inv in participant.guest_items):
        raise MeetingError("%(name)s is already invited to this item.", name=user.name)
    invitation = GuestItemInvitation(participant=participant, item_id=item.id)
    db.session.add(invitation)
    if meeting.status is not MeetingStatus.DRAFT:
        _notify([user], meeting, N_GUEST_INVITED, title=meeting.title)
    db.session.flush()
    audit.record(actor, "guest.invite", object_type="meeting_item", object_id=item.id, meeting_id=meeting.id,
                 details={"user": user.id})
    db.session.commit()
    return invitation


def uninvite_guest(actor: Actor, item: MeetingItem, participant: MeetingParticipant) -> None:
    _require_secretary(actor)
    meeting = item.meeting
    invitation = next((inv for inv in participant.guest_items if inv.item_id == item.id), None)
    if invitation is None:
        raise MeetingError("This guest is not invited to this item.")
    participant.guest_items.remove(invitation)
    db.session.flush()
    if not participant.guest_items:
        # A guest with no item left has nothing to see in the meeting.
        meeting.participants.remove(participant)
    audit.record(actor, "guest.uninvite", object_type="meeting_item", object_id=item.id, meeting_id=meeting.id,
                 details={"user": participant.user_id})
    db.session.commit()


def guests_of(item: MeetingItem) -> list[MeetingParticipant]:
    return [inv.participant for inv in item.guest_invitations]


def respond(actor: Actor, meeting: Meeting, attendance: Attendance, substitute_name: str = "",
            substitute_user_id: int | None = None) -> MeetingParticipant:
    """A member answers the invitation: in person, remotely, or absent (optionally naming a substitute)."""
    participant = _require_participant(actor, meeting)
    if participant is None or not participant.is_voting_member:
        raise MeetingError("Only members answer the invitation.")
    if meeting.status not in (MeetingStatus.PUBLISHED, MeetingStatus.IN_SESSION):
        raise MeetingError("The invitation can be answered only once the agenda is published "
                           "and until the meeting ends.")
    try:
        attendance = Attendance(attendance)
    except ValueError as exc:
        raise MeetingError("Choose in person, remote or absent.") from exc
    if attendance is Attendance.PENDING:
        raise MeetingError("Choose in person, remote or absent.")
    name = (substitute_name or "").strip()
    if len(name) > TEXT_MAX:
        raise MeetingError("The substitute's name is longer than %(n)s characters.", n=TEXT_MAX)
    substitute = None
    if substitute_user_id:
        substitute = db.session.get(User, substitute_user_id)
        if substitute is None or not substitute.active or substitute.id == participant.user_id:
            raise MeetingError("Unknown substitute.")
    if attendance is not Attendance.ABSENT and (name or substitute):
        raise MeetingError("Only an absent member may name a substitute.")
    changed_substitute = (name, substitute_user_id) != (participant.substitute_name, participant.substitute_user_id)
    participant.attendance = attendance
    participant.responded_at = utcnow()
    participant.substitute_name = name
    participant.substitute_user_id = substitute.id if substitute else None
    if changed_substitute:
        participant.substitute_may_vote = False  # the chair decides again for a new substitute
    audit.record(actor, "participant.respond", object_type="meeting_participant", object_id=participant.id,
                 meeting_id=meeting.id, details={"attendance": attendance.value,
                                                 "substitute": participant.substitute_label or None})
    db.session.commit()
    return participant


def set_substitute_may_vote(actor: Actor, participant: MeetingParticipant, may_vote: bool) -> None:
    meeting = participant.meeting
    if actor.user is not None and meeting.chair_id != actor.user.id:
        raise MeetingError("Only the chair of this meeting may do this.")
    if not participant.represented_by_substitute:
        raise MeetingError("This member has not named a substitute.")
    participant.substitute_may_vote = bool(may_vote)
    audit.record(actor, "participant.substitute_vote", object_type="meeting_participant",
                 object_id=participant.id, meeting_id=meeting.id,
                 details={"substitute": participant.substitute_label, "may_vote": bool(may_vote)})
    db.session.commit()


# --- attendance and quorum ------------------------------------------------------------------------

def check_in(actor: Actor, meeting: Meeting, participant: MeetingParticipant, mode: CheckInMode) -> None:
    """Check a member in (from their tablet) or, for the secretariat, check anyone in.
    For a member who is absent with a substitute, the check-in is the substitute's."""
    own = _require_participant(actor, meeting)
    if own is not None and own.id != participant.id and own.role is not ParticipantRole.SECRETARY:
        raise MeetingError("Only the secretariat may check in someone else.")
    if meeting.status not in (MeetingStatus.PUBLISHED, MeetingStatus.IN_SESSION, MeetingStatus.ADJOURNED):
        raise MeetingError("Check-in is open once the agenda is published and until the meeting is closed.")
    try:
        mode = CheckInMode(mode)
    except ValueError as exc:
        raise MeetingError("Choose in the room or remote.") from exc
    participant.checked_in_at = utcnow()
    participant.checked_in_mode = mode
    participant.checked_in_by_id = actor.user_id
    audit.record(actor, "attendance.check_in", object_type="meeting_participant", object_id=participant.id,
                 meeting_id=meeting.id, details={"user": participant.user_id, "mode": mode.value,
                                                 "substitute": participant.represented_by_substitute})
    db.session.commit()


def check_out(actor: Actor, meeting: Meeting, participant: MeetingParticipant) -> None:
    own = _require_participant(actor, meeting)
    if own is not None and own.id != participant.id and own.role is not ParticipantRole.SECRETARY:
        raise MeetingError("Only the secretariat may check out someone else.")
    if participant.checked_in_at is None:
        raise MeetingError("This participant is not checked in.")
    participant.checked_in_at = None
    participant.checked_in_mode = None
    participant.checked_in_by_id = actor.user_id
    audit.record(actor, "attendance.check_out", object_type="meeting_participant", object_id=participant.id,
                 meeting_id=meeting.id, details={"user": participant.user_id})
    db.session.commit()


@dataclass(frozen=True)
class Quorum:
    present: int
    eligible: int
    required: int
    reached: bool


def _counts_as_present(p: MeetingParticipant) -> bool:
    if p.checked_in_at is None:
        return False
    if p.represented_by_substitute:
        return p.substitute_may_vote  # a substitute counts only when the chair lets them vote
    return True


def _quorum(meeting: Meeting, members: list[MeetingParticipant]) -> Quorum:
    eligible = len(members)
    present = sum(1 for p in members if _counts_as_present(p))
    if meeting.quorum_rule is QuorumRule.FIXED:
        required = min(meeting.quorum_fixed or 1, eligible) if eligible else 1
    elif meeting.quorum_rule is QuorumRule.TWO_THIRDS:
        required = math.ceil(eligible * 2 / 3)
    else:
        required = eligible // 2 + 1
    required = max(required, 1)
    return Quorum(present=present, eligible=eligible, required=required, reached=present >= required)


def quorum(meeting: Meeting) -> Quorum:
    """Eligible: invited members and the chair. Present: those checked in, or their substitutes if they
    may vote. Default rule: more than half."""
    return _quorum(meeting, voting_members(meeting))


def recused_member_ids(item: MeetingItem) -> set[int]:
    return {d.member_id for d in item.interests}


def item_quorum(meeting: Meeting, item: MeetingItem) -> Quorum:
    """Quorum for one item: members who declared an interest are left out of it (under either policy)."""
    recused = recused_member_ids(item)
    return _quorum(meeting, [p for p in voting_members(meeting) if p.user_id not in recused])


# --- conflicts of interest ------------------------------------------------------------------------

def _require_member(actor: Actor, meeting: Meeting) -> MeetingParticipant:
    participant = _require_participant(actor, meeting)
    if participant is None or not participant.is_voting_member:
        raise MeetingError("Only members of the Government may do this.")
    return participant


def declare_interest(actor: Actor, item: MeetingItem, reason: str = "") -> InterestDeclaration:
    meeting = item.meeting
    participant = _require_member(actor, meeting)
    if meeting.status not in (MeetingStatus.PUBLISHED, MeetingStatus.IN_SESSION):
        raise MeetingError("Interests can be declared once the agenda is published and until the meeting ends.")
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise MeetingError("The reason is longer than %(n)s characters.", n=REASON_MAX)
    if any(d.member_id == participant.user_id for d in item.interests):
        raise MeetingError("You have already declared an interest in this item.")
    declaration = InterestDeclaration(item_id=item.id, member_id=participant.user_id, reason=reason,
                                      declared_at=utcnow())
    item.interests.append(declaration)
    # A declared interest replaces any position: the member no longer takes part in the decision.
    for pos in [p for p in item.positions if p.member_id == participant.user_id]:
        item.positions.remove(pos)
    db.session.flush()
    audit.record(actor, "interest.declare", object_type="meeting_item", object_id=item.id, meeting_id=meeting.id,
                 details={"member": participant.user_id, "reason": reason, "policy": meeting.conflict_policy.value})
    db.session.commit()
    return declaration


def interests_of(meeting: Meeting) -> list[InterestDeclaration]:
    """The meeting record's list of declarations, in agenda order."""
    return [d for item in meeting.items for d in sorted(item.interests, key=lambda d: d.declared_at)]


# --- pre-meeting positions ------------------------------------------------------------------------

def mark_position(actor: Actor, item: MeetingItem, position: Position, comment: str = "") -> ItemPosition:
    """A member marks a decision item agree / object / want to speak before the meeting.
    Members and the chair only; substitutes do not mark positions (they stand in at the meeting)."""
    meeting = item.meeting
    participant = _require_member(actor, meeting)
    if meeting.status is MeetingStatus.DRAFT:
        raise MeetingError("Positions can be marked once the agenda is published.")
    if meeting.status is not MeetingStatus.PUBLISHED:
        raise MeetingError("Positions can no longer be changed: the meeting has started.")
    if item.kind is not ItemKind.DECISION:
        raise MeetingError("Positions are marked only on items for decision.")
    if participant.user_id in recused_member_ids(item):
        raise MeetingError("You have declared an interest in this item.")
    try:
        position = Position(position)
    except ValueError as exc:
        raise MeetingError("Choose agree, object or want to speak.") from exc
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise MeetingError("The comment is longer than %(n)s characters.", n=COMMENT_MAX)
    row = next((p for p in item.positions if p.member_id == participant.user_id), None)
    if row is None:
        row = ItemPosition(item_id=item.id, member_id=participant.user_id, position=position, comment=comment)
        item.positions.append(row)
    else:
        row.position, row.comment = position, comment
    row.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "position.mark", object_type="meeting_item", object_id=item.id, meeting_id=meeting.id,
                 details={"member": participant.user_id, "position": position.value})
    db.session.commit()
    return row


def position_of(item: MeetingItem, user: User) -> ItemPosition | None:
    return next((p for p in item.positions if p.member_id == user.id), None)


def decision_items(meeting: Meeting) -> list[MeetingItem]:
    return [item for item in meeting.items if item.kind is ItemKind.DECISION]


def expected_responders(meeting: Meeting, item: MeetingItem) -> list[MeetingParticipant]:
    recused = recused_member_ids(item)
    return [p for p in voting_members(meeting) if p.user_id not in recused]


def missing_positions(meeting: Meeting, item: MeetingItem) -> list[User]:
    """Members (and the chair) who have not yet marked a position on this decision item."""
    answered = {p.member_id for p in item.positions}
    return [p.user for p in expected_responders(meeting, item) if p.user_id not in answered]


@dataclass
class ItemPositions:
    item: MeetingItem
    agree: int
    object: int
    speak: int
    missing: list[User]
    in_consent_block: bool


def positions_overview(meeting: Meeting) -> list[ItemPositions]:
    rows = []
    block = {i.id for i in consent_block(meeting)}
    for item in decision_items(meeting):
        counts = {p: 0 for p in Position}
        for pos in item.positions:
            counts[pos.position] += 1
        rows.append(ItemPositions(item=item, agree=counts[Position.AGREE], object=counts[Position.OBJECT],
                                  speak=counts[Position.SPEAK], missing=missing_positions(meeting, item),
                                  in_consent_block=item.id in block))
    return rows


def items_awaiting_position(meeting: Meeting, user: User) -> list[MeetingItem]:
    if meeting.status is not MeetingStatus.PUBLISHED:
        return []
    participant = participant_of(meeting, user)
    if participant is None or not participant.is_voting_member:
        return []
    from ecabinet.meetings.policy import visible_items

    visible = {i.id for i in visible_items(user, meeting)}
    return [item for item in decision_items(meeting)
            if item.id in visible and user.id not in recused_member_ids(item) and position_of(item, user) is None]


def consent_block(meeting: Meeting) -> list[MeetingItem]:
    """Decision items nobody objects to and nobody wants to speak on, not yet decided: the chair can adopt
    them together at the start of the meeting."""
    return [item for item in decision_items(meeting)
            if item.outcome is None
            and not any(p.position in (Position.OBJECT, Position.SPEAK) for p in item.positions)]


def adopt_consent_block(actor: Actor, meeting: Meeting) -> list[MeetingItem]:
    """The chair adopts the consent block in one step. Requires the meeting in session with quorum.

    Seam for the voting capability: today adoption is recorded as ``item.outcome = 'adopted_by_consent'``;
    the voting capability will record its ballots' outcomes on the same field and may replace this step
    by a single ballot on the whole block.
    """
    if actor.user is not None and meeting.chair_id != actor.user.id:
        raise MeetingError("Only the chair of this meeting may do this.")
    if meeting.status is not MeetingStatus.IN_SESSION:
        raise MeetingError("The consent block is adopted at the start of the meeting, while it is in session.")
    if meeting.consent_adopted_at is not None:
        raise MeetingError("The consent block has already been adopted.")
    items = consent_block(meeting)
    if not items:
        raise MeetingError("The consent block is empty.")
    q = quorum(meeting)
    if not q.reached:
        raise MeetingError("The quorum is not reached (%(present)s present, %(required)s required).",
                           present=q.present, required=q.required)
    for item in items:
        item.outcome = ADOPTED_BY_CONSENT
    meeting.consent_adopted_at = utcnow()
    audit.record(actor, "consent.adopt", object_type="meeting", object_id=meeting.id, meeting_id=meeting.id,
                 details={"items": [i.id for i in items], "present": q.present, "required": q.required})
    db.session.commit()
    return items


def speaker_requests(meeting: Meeting, item: MeetingItem) -> list[User]:
    """Members who marked "want to speak", in the order they marked it: the live speaker queue starts here."""
    rows = sorted((p for p in item.positions if p.position is Position.SPEAK), key=lambda p: (p.updated_at, p.id))
    return [p.member for p in rows]


def set_current_item(actor: Actor, meeting: Meeting, item: MeetingItem | None) -> None:
    """For the live room: the item under discussion."""
    if actor.user is not None and meeting.chair_id != actor.user.id and actor.user.role is not Role.SECRETARY:
        raise MeetingError("Only the chair of this meeting may do this.")
    if meeting.status is not MeetingStatus.IN_SESSION:
        raise MeetingError("The meeting is not in session.")
    if item is not None and item.meeting_id != meeting.id:
        raise MeetingError("Unknown item.")
    meeting.current_item_id = item.id if item else None
    audit.record(actor, "agenda.current_item", object_type="meeting", object_id=meeting.id, meeting_id=meeting.id,
                 details={"item": meeting.current_item_id})
    db.session.commit()


# --- member's home --------------------------------------------------------------------------------

@dataclass
class HomeMeeting:
    meeting: Meeting
    awaiting_positions: int
    agenda_changed_since_seen: bool
    unread_documents: int | None = None   # filled once the documents capability exists
    pending_ballots: int | None = None    # filled once the voting capability exists


@dataclass
class MemberHome:
    upcoming: list[HomeMeeting]
    past: list[Meeting]
    notifications: list[Notification]
    unread: int
    pending_ballots: list = field(default_factory=list)  # ballots waiting for my vote, any meeting or none


def member_home(user: User) -> MemberHome:
    from ecabinet.documents.service import unread_count as unread_documents
    from ecabinet.meetings.policy import can_see_meeting
    from ecabinet.voting.service import pending_ballots_for

    pending = pending_ballots_for(user)

    now = utcnow()
    upcoming, past = [], []
    for meeting in sorted(list_meetings_for(user), key=lambda m: m.starts_at):
        if not can_see_meeting(user, meeting):
            continue
        finished = meeting.status is MeetingStatus.CLOSED or (
            meeting.ends_at < now and meeting.status in (MeetingStatus.DRAFT, MeetingStatus.PUBLISHED,
                                                         MeetingStatus.ADJOURNED))
        if finished:
            past.append(meeting)
            continue
        participant = participant_of(meeting, user)
        seen = participant.last_seen_version if participant else meeting.agenda_version
        upcoming.append(HomeMeeting(meeting=meeting, awaiting_positions=len(items_awaiting_position(meeting, user)),
                                    agenda_changed_since_seen=0 < seen < meeting.agenda_version,
                                    unread_documents=unread_documents(user, meeting),
                                    pending_ballots=sum(1 for b in pending if b.meeting_id == meeting.id)))
    past.sort(key=lambda m: m.starts_at, reverse=True)
    return MemberHome(upcoming=upcoming, past=past[:10], notifications=notifications_for(user, 10),
                      unread=unread_count(user), pending_ballots=pending)
