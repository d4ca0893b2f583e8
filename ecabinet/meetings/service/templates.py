"""Agenda templates: a regular meeting's standing items, kept by the secretariat, made from scratch or
from an existing meeting's agenda, and used to start a new meeting with those items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from ecabinet.audit import service as audit
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings.models import ItemKind, Meeting, MeetingItem
from ecabinet.meetings.service.agenda import ItemData, add_item
from ecabinet.meetings.service.common import (
    DURATION_MAX,
    ITEM_TITLE_MAX,
    TEXT_MAX,
    TITLE_MAX,
    MeetingError,
    record_change,
    require_secretary,
)
from ecabinet.meetings.service.lifecycle import MeetingData, create_meeting
from ecabinet.meetings.template_models import AgendaTemplate, AgendaTemplateItem

TEMPLATE_ITEMS_MAX = 100


@dataclass
class TemplateItemData:
    title: str
    ministry: str = ""
    duration_minutes: int = 10
    kind: ItemKind | str = ItemKind.DECISION


def list_templates() -> list[AgendaTemplate]:
    return list(db.session.scalars(select(AgendaTemplate).order_by(AgendaTemplate.name)))


def get_template(template_id: int | None) -> AgendaTemplate | None:
    return db.session.get(AgendaTemplate, template_id) if template_id is not None else None


def _clean_name(name: str, template: AgendaTemplate | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise MeetingError("The template needs a name.")
    if len(name) > TITLE_MAX:
        raise MeetingError("The template's name is longer than %(n)s characters.", n=TITLE_MAX)
    query = select(func.count()).select_from(AgendaTemplate).where(func.lower(AgendaTemplate.name) == name.lower())
    if template is not None and template.id is not None:
        query = query.where(AgendaTemplate.id != template.id)
    if db.session.scalar(query):
        raise MeetingError("A template named “%(name)s” already exists.", name=name)
    return name


def _clean_items(items: Sequence[TemplateItemData]) -> list[TemplateItemData]:
    if len(items) > TEMPLATE_ITEMS_MAX:
        raise MeetingError("A template holds at most %(n)s items.", n=TEMPLATE_ITEMS_MAX)
    cleaned = []
    for number, item in enumerate(items, start=1):
        title = " ".join((item.title or "").split())
        if not title:
            raise MeetingError("Item %(n)s: the title is required.", n=number)
        if len(title) > ITEM_TITLE_MAX:
            raise MeetingError("Item %(n)s: the title is longer than %(max)s characters.", n=number,
                               max=ITEM_TITLE_MAX)
        ministry = " ".join((item.ministry or "").split())
        if len(ministry) > TEXT_MAX:
            raise MeetingError("Item %(n)s: the ministry is longer than %(max)s characters.", n=number, max=TEXT_MAX)
        try:
            minutes = int(item.duration_minutes)
        except (TypeError, ValueError):
            minutes = 0
        if not 1 <= minutes <= DURATION_MAX:
            raise MeetingError("Item %(n)s: the planned duration must be between 1 and %(max)s minutes.", n=number,
                               max=DURATION_MAX)
        try:
            kind = ItemKind(item.kind)
        except ValueError as exc:
            raise MeetingError("Item %(n)s: unknown kind.", n=number) from exc
        cleaned.append(TemplateItemData(title=title, ministry=ministry, duration_minutes=minutes, kind=kind))
    return cleaned


def _audit(actor: Actor, action: str, template: AgendaTemplate, **details: object) -> None:
    audit.record(actor, action, object_type="agenda_template", object_id=template.id,
                 details={"name": template.name, **details})


def create_template(actor: Actor, name: str, items: Sequence[TemplateItemData] = ()) -> AgendaTemplate:
    require_secretary(actor)
    template = AgendaTemplate(name=_clean_name(name, None), created_by_id=actor.user_id, updated_at=utcnow())
    template.items = [AgendaTemplateItem(position=n, title=i.title, ministry=i.ministry,
                                         duration_minutes=i.duration_minutes, kind=ItemKind(i.kind))
                      for n, i in enumerate(_clean_items(items), start=1)]
    db.session.add(template)
    db.session.flush()
    _audit(actor, "agenda_template.create", template, items=len(template.items))
    return template


def template_from_meeting(actor: Actor, meeting: Meeting, name: str) -> AgendaTemplate:
    """A template of a meeting's agenda as it stands: each item's title, ministry, duration and kind."""
    items: list[MeetingItem] = list(meeting.items)
    if not items:
        raise MeetingError("This meeting's agenda is empty: there is nothing to make a template of.")
    return create_template(actor, name, [TemplateItemData(title=i.title, ministry=i.ministry,
                                                          duration_minutes=i.duration_minutes, kind=i.kind)
                                         for i in items])


def update_template(actor: Actor, template: AgendaTemplate, name: str,
                    items: Sequence[TemplateItemData]) -> AgendaTemplate:
    """Rename the template and replace its items (in the given order)."""
    require_secretary(actor)
    template.name = _clean_name(name, template)
    cleaned = _clean_items(items)
    template.items.clear()
    db.session.flush()
    template.items.extend(AgendaTemplateItem(position=n, title=i.title, ministry=i.ministry,
                                             duration_minutes=i.duration_minutes, kind=ItemKind(i.kind))
                          for n, i in enumerate(cleaned, start=1))
    template.updated_at = utcnow()
    db.session.flush()
    _audit(actor, "agenda_template.update", template, items=len(cleaned))
    return template


def delete_template(actor: Actor, template: AgendaTemplate) -> None:
    require_secretary(actor)
    _audit(actor, "agenda_template.delete", template)
    db.session.delete(template)
    db.session.flush()


def meeting_from_template(actor: Actor, template: AgendaTemplate, data: MeetingData) -> Meeting:
    """A new draft meeting whose agenda holds the template's items, in its order."""
    require_secretary(actor)
    meeting = create_meeting(actor, data)
    for item in template.items:
        add_item(actor, meeting, ItemData(title=item.title, ministry=item.ministry,
                                          duration_minutes=item.duration_minutes, kind=item.kind))
    record_change(actor, "meeting.from_template", meeting, object_type="meeting", object_id=meeting.id,
                  details={"template": template.id, "name": template.name, "items": len(template.items)})
    return meeting
