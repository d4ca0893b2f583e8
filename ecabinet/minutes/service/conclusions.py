"""Conclusions and action items: the secretariat writes the conclusions, the chair issues them; action
items are assigned to a ministry (and a responsible person), who reports progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select, update

from ecabinet.accounts.models import Role, User
from ecabinet.audit import service as audit
from ecabinet.core import domain_events
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting
from ecabinet.minutes.models import ActionItem, ActionStatus, ActionUpdate, Conclusion
from ecabinet.minutes.service.shared import MinutesError, require_chair, require_secretary, sanitise
from ecabinet.organisations import service as organisations


@organisations.renamed.register("minutes")
def _organisation_renamed(organisation_id: int, name: str) -> None:
    """Action items keep their ministry's name (each ministry's list is found by it)."""
    db.session.execute(update(ActionItem).where(ActionItem.organisation_id == organisation_id)
                       .values(ministry=name))


def conclusion_of(meeting: Meeting) -> Conclusion | None:
    return db.session.scalar(select(Conclusion).where(Conclusion.meeting_id == meeting.id))


def save_conclusion(actor: Actor, meeting: Meeting, body: str) -> Conclusion:
    require_secretary(actor)
    conclusion = conclusion_of(meeting) or Conclusion(meeting_id=meeting.id)
    if conclusion.issued_at is not None:
        raise MinutesError("The conclusions have been issued and are locked.")
    conclusion.body = sanitise(body)
    db.session.add(conclusion)
    db.session.flush()
    audit.record(actor, "conclusion.save", object_type="conclusion", object_id=conclusion.id, meeting_id=meeting.id)
    domain_events.publish(meeting.id, "conclusion.save")
    return conclusion


def issue_conclusion(actor: Actor, meeting: Meeting) -> Conclusion:
    require_chair(actor, meeting)
    conclusion = conclusion_of(meeting)
    if conclusion is None or not conclusion.body.strip():
        raise MinutesError("Write the conclusions before issuing them.")
    if conclusion.issued_at is not None:
        raise MinutesError("The conclusions have already been issued.")
    conclusion.issued_at = utcnow()
    conclusion.issued_by_id = actor.user_id
    audit.record(actor, "conclusion.issue", object_type="conclusion", object_id=conclusion.id,
                 meeting_id=meeting.id)
    domain_events.publish(meeting.id, "conclusion.issue")
    return conclusion


@dataclass
class ActionData:
    title: str
    ministry: str
    due_date: date
    responsible_id: int | None = None
    # Picked from the list of organisations; when None, the typed ``ministry`` is linked by its name.
    organisation_id: int | None = None


def add_action(actor: Actor, meeting: Meeting, data: ActionData) -> ActionItem:
    require_secretary(actor)
    title, ministry = (data.title or "").strip(), (data.ministry or "").strip()
    if not title or len(title) > 500:
        raise MinutesError("An action item needs a title of at most 500 characters.")
    try:
        organisation = organisations.resolve(data.organisation_id, ministry)
    except organisations.UnusableOrganisation as exc:
        raise MinutesError("Please choose the ministry from the list: the one given is unknown or no longer "
                           "active.") from exc
    if organisation is not None:
        ministry = organisation.name
    if not ministry or len(ministry) > 200:
        raise MinutesError("An action item needs the ministry it is assigned to.")
    if data.responsible_id is not None:
        person = db.session.get(User, data.responsible_id)
        if person is None or not person.active:
            raise MinutesError("Please choose the responsible person from the list: the person given is unknown "
                               "or no longer active.")
    conclusion = conclusion_of(meeting) or Conclusion(meeting_id=meeting.id, body="")
    db.session.add(conclusion)
    db.session.flush()
    action = ActionItem(conclusion_id=conclusion.id, title=title, ministry=ministry, due_date=data.due_date,
                        responsible_id=data.responsible_id, status=ActionStatus.OPEN,
                        organisation_id=organisation.id if organisation is not None else None)
    db.session.add(action)
    db.session.flush()
    audit.record(actor, "action.add", object_type="action_item", object_id=action.id, meeting_id=meeting.id,
                 details={"ministry": ministry, "due": data.due_date.isoformat()})
    domain_events.publish(meeting.id, "action.add")
    return action


def update_action(actor: Actor, action: ActionItem, status: str, note: str) -> ActionUpdate:
    """The assigned person (or the secretariat) reports progress."""
    user = actor.user
    if user is not None and user.id != action.responsible_id and user.role is not Role.SECRETARY:
        raise MinutesError("Only the person responsible or the secretariat may update this action item.")
    try:
        new_status = ActionStatus(status)
    except ValueError as exc:
        raise MinutesError("Unknown status.") from exc
    if len(note or "") > 5000:
        raise MinutesError("The progress note is too long.")
    previous = action.status
    action.status = new_status
    update = ActionUpdate(action_id=action.id, author_id=actor.user_id, status=new_status, note=(note or "").strip())
    db.session.add(update)
    audit.record(actor, "action.update", object_type="action_item", object_id=action.id,
                 meeting_id=action.conclusion.meeting_id, details={"status": new_status.value})
    domain_events.publish(action.conclusion.meeting_id, "action.update", action_id=action.id,
                          previous=previous.value if previous is not None else None, status=new_status.value)
    return update


def is_overdue(action: ActionItem, today: date | None = None) -> bool:
    return action.status in (ActionStatus.OPEN, ActionStatus.IN_PROGRESS) and \
        action.due_date < (today or utcnow().date())


def actions_for(ministry: str | None = None, responsible: User | None = None) -> list[ActionItem]:
    query = select(ActionItem).order_by(ActionItem.due_date, ActionItem.id)
    if ministry:
        query = query.where(ActionItem.ministry == ministry)
    if responsible is not None:
        query = query.where(or_(ActionItem.responsible_id == responsible.id, ActionItem.ministry == ministry))
    return list(db.session.scalars(query))


