"""A meeting's life: created (or copied) as a draft, its details changed, then started, adjourned,
resumed and closed by its chair; in session, the item under discussion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ecabinet.accounts.models import Role, User
from ecabinet.core.actor import Actor
from ecabinet.core.i18n import default_timezone, is_known_timezone
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings.models import (
    ConflictPolicy,
    Meeting,
    MeetingItem,
    MeetingKind,
    MeetingMode,
    MeetingParticipant,
    MeetingStatus,
    ParticipantRole,
    QuorumRule,
)
from ecabinet.meetings.service.common import (
    TEXT_MAX,
    TITLE_MAX,
    MeetingError,
    notify_participants,
    record_change,
    require_editable,
    require_secretary,
)

# Notification texts: English msgids, translated when shown.
N_STARTED = "The meeting “%(title)s” has started."

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


def transition(actor: Actor, meeting: Meeting, step: str) -> None:
    sources, target, who = TRANSITIONS[step]
    if not may_take_step(actor.user, meeting, step):
        if who == "chair":
            raise MeetingError("Only the chair of this meeting may do this.")
        raise MeetingError("Only the secretariat may do this.")
    if meeting.status not in sources:
        raise MeetingError(_refusal(step, meeting.status))
    meeting.status = target


# Why a step is refused in the meeting's present state, in words (never the state's code). The most
# likely mistakes (starting twice, adjourning before the start) get their own sentence.
_REFUSED_STEP: dict[tuple[str, MeetingStatus], str] = {
    ("start", MeetingStatus.IN_SESSION): "This step is not possible now: the meeting has already started.",
    ("start", MeetingStatus.ADJOURNED): "This step is not possible now: the meeting is adjourned; resume it instead.",
    ("start", MeetingStatus.CLOSED): "This step is not possible now: the meeting is closed.",
    ("adjourn", MeetingStatus.ADJOURNED): "This step is not possible now: the meeting is already adjourned.",
    ("resume", MeetingStatus.IN_SESSION): "This step is not possible now: the meeting is already in session.",
}
_REFUSED_IN: dict[MeetingStatus, str] = {
    MeetingStatus.DRAFT: "This step is not possible now: the agenda is not published yet.",
    MeetingStatus.PUBLISHED: "This step is not possible now: the meeting has not started yet.",
    MeetingStatus.IN_SESSION: "This step is not possible now: the meeting is in session.",
    MeetingStatus.ADJOURNED: "This step is not possible now: the meeting is adjourned.",
    MeetingStatus.CLOSED: "This step is not possible now: the meeting is closed.",
}


def _refusal(step: str, status: MeetingStatus) -> str:
    return _REFUSED_STEP.get((step, status)) or _REFUSED_IN[status]


def _record_step(actor: Actor, meeting: Meeting, action: str) -> None:
    record_change(actor, action, meeting, object_type="meeting", object_id=meeting.id)


def start_meeting(actor: Actor, meeting: Meeting) -> None:
    transition(actor, meeting, "start")
    meeting.started_at = utcnow()
    notify_participants(meeting, N_STARTED, title=meeting.title)
    _record_step(actor, meeting, "meeting.start")


def adjourn_meeting(actor: Actor, meeting: Meeting) -> None:
    transition(actor, meeting, "adjourn")
    meeting.adjourned_at = utcnow()
    _record_step(actor, meeting, "meeting.adjourn")


def resume_meeting(actor: Actor, meeting: Meeting) -> None:
    transition(actor, meeting, "resume")
    _record_step(actor, meeting, "meeting.resume")


def close_meeting(actor: Actor, meeting: Meeting) -> None:
    transition(actor, meeting, "close")
    meeting.closed_at = utcnow()
    meeting.current_item_id = None
    _record_step(actor, meeting, "meeting.close")


STEP_FUNCTIONS = {"start": start_meeting, "adjourn": adjourn_meeting, "resume": resume_meeting,
                  "close": close_meeting}


def available_steps(user: User, meeting: Meeting) -> list[str]:
    """Chair steps this user may take now (for the buttons)."""
    return [step for step, (sources, _t, who) in TRANSITIONS.items()
            if who == "chair" and meeting.status in sources and may_take_step(user, meeting, step)]


def set_current_item(actor: Actor, meeting: Meeting, item: MeetingItem | None) -> None:
    """For the live room: the item under discussion."""
    if actor.user is not None and meeting.chair_id != actor.user.id and actor.user.role is not Role.SECRETARY:
        raise MeetingError("Only the chair of this meeting may do this.")
    if meeting.status is not MeetingStatus.IN_SESSION:
        raise MeetingError("The meeting is not in session.")
    if item is not None and item.meeting_id != meeting.id:
        raise MeetingError("Unknown item.")
    meeting.current_item_id = item.id if item else None
    record_change(actor, "agenda.current_item", meeting, object_type="meeting", object_id=meeting.id,
                  details={"item": meeting.current_item_id}, item=meeting.current_item_id)


# --- a meeting's details ----------------------------------------------------------------------------

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
        zone = (self.timezone or "").strip() or default_timezone()
        # Only a zone of the IANA database: every page, the .ics and the minutes show the meeting's
        # times in it, so free text ("GMT+7", "Hanoi") would leave them nowhere to be converted to.
        if not is_known_timezone(zone):
            raise MeetingError("“%(zone)s” is not a known time zone: choose one from the list, e.g. Asia/Ho_Chi_Minh.",
                               zone=zone[:64])
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


def _default_participants(meeting: Meeting) -> None:
    """Invite every active member, the chair and the secretaries."""
    roles = {Role.MEMBER: ParticipantRole.MEMBER, Role.SECRETARY: ParticipantRole.SECRETARY}
    for user in db.session.scalars(select(User).where(User.active.is_(True), User.role.in_(list(roles)))):
        meeting.participants.append(MeetingParticipant(user_id=user.id, role=roles[user.role]))
    if meeting.chair_id is not None:
        meeting.participants.append(MeetingParticipant(user_id=meeting.chair_id, role=ParticipantRole.CHAIR))


def _new_draft(actor: Actor, data: MeetingData, **extra: object) -> Meeting:
    meeting = Meeting(title=data.title, kind=data.kind, starts_at=data.starts_at, ends_at=data.ends_at,
                      timezone=data.timezone, place=data.place, mode=data.mode, chair_id=data.chair_id,
                      conflict_policy=data.conflict_policy, quorum_rule=data.quorum_rule,
                      quorum_fixed=data.quorum_fixed, status=MeetingStatus.DRAFT, created_by_id=actor.user_id,
                      agenda_version=0, agenda_changed=False, **extra)
    db.session.add(meeting)
    return meeting


def create_meeting(actor: Actor, data: MeetingData) -> Meeting:
    require_secretary(actor)
    data = data.cleaned()
    meeting = _new_draft(actor, data)
    _default_participants(meeting)
    db.session.flush()
    record_change(actor, "meeting.create", meeting, object_type="meeting", object_id=meeting.id,
                  details={"title": meeting.title, "starts_at": meeting.starts_at.isoformat()})
    return meeting


def update_meeting(actor: Actor, meeting: Meeting, data: MeetingData) -> Meeting:
    require_secretary(actor)
    require_editable(meeting)
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
    record_change(actor, "meeting.update", meeting, object_type="meeting", object_id=meeting.id, details=changes)
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
    require_secretary(actor)
    length = source.ends_at - source.starts_at
    start = starts_at or source.starts_at + timedelta(days=7)
    data = MeetingData(title=title or source.title, starts_at=start, ends_at=start + length, kind=source.kind,
                       place=source.place, mode=source.mode, chair_id=source.chair_id, timezone=source.timezone,
                       conflict_policy=source.conflict_policy, quorum_rule=source.quorum_rule,
                       quorum_fixed=source.quorum_fixed).cleaned()
    meeting = _new_draft(actor, data, copied_from_id=source.id)
    for item in source.items:
        meeting.items.append(MeetingItem(position=item.position, title=item.title, ministry=item.ministry,
                                         presenter=item.presenter, duration_minutes=item.duration_minutes,
                                         summary=item.summary, kind=item.kind,
                                         confidentiality=item.confidentiality,
                                         organisation_id=item.organisation_id, presenter_id=item.presenter_id))
    _default_participants(meeting)
    db.session.flush()
    record_change(actor, "meeting.copy", meeting, object_type="meeting", object_id=meeting.id,
                  details={"from": source.id, "items": len(source.items)})
    return meeting
