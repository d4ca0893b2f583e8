"""The agenda: items added, changed, reordered and removed, one at a time or several at once.

Edits to a published agenda are visible at once and mark the meeting "changed since version N"; the
secretariat then publishes version N+1 (see ``publishing``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ecabinet.accounts.models import User
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from ecabinet.meetings.models import Confidentiality, ItemKind, Meeting, MeetingItem, MeetingStatus
from ecabinet.meetings.service.common import (
    DURATION_MAX,
    ITEM_TITLE_MAX,
    SUMMARY_MAX,
    TEXT_MAX,
    MeetingError,
    record_change,
    require_editable,
    require_secretary,
)
from ecabinet.organisations import service as organisations


@dataclass
class ItemData:
    title: str
    ministry: str = ""
    presenter: str = ""
    duration_minutes: int = 10
    summary: str = ""
    kind: ItemKind = ItemKind.DECISION
    confidentiality: Confidentiality = Confidentiality.NORMAL
    # Picked from the lists; when None, the typed ``ministry`` is linked to the organisation of that name
    # (if there is one) and the typed ``presenter`` stays as typed.
    organisation_id: int | None = None
    presenter_id: int | None = None

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
                        summary=summary, kind=kind, confidentiality=level, organisation_id=self.organisation_id,
                        presenter_id=self.presenter_id)

    def linked(self, item: MeetingItem | None = None) -> ItemData:
        """The presenting ministry and presenter resolved against the lists: picked ones must be active
        (or be the item's own already), and their names are copied into the text columns."""
        keep_organisation = item.organisation_id if item is not None else None
        try:
            organisation = organisations.resolve(self.organisation_id, self.ministry, keep=keep_organisation)
        except organisations.UnusableOrganisation as exc:
            raise MeetingError("Please choose the presenting ministry from the list: "
                               "the one given is unknown or no longer active.") from exc
        if organisation is not None:
            self.organisation_id, self.ministry = organisation.id, organisation.name
        if self.presenter_id is not None:
            person = db.session.get(User, self.presenter_id)
            kept = item is not None and item.presenter_id == self.presenter_id
            if person is None or not (person.active or kept):
                raise MeetingError("Please choose the presenter from the list: "
                                   "the person given is unknown or no longer active.")
            self.presenter = person.name
        return self


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
    require_secretary(actor)
    require_editable(meeting)
    data = data.cleaned().linked()
    item = MeetingItem(position=len(meeting.items) + 1, title=data.title, ministry=data.ministry,
                       presenter=data.presenter, duration_minutes=data.duration_minutes, summary=data.summary,
                       kind=data.kind, confidentiality=data.confidentiality, organisation_id=data.organisation_id,
                       presenter_id=data.presenter_id)
    meeting.items.append(item)
    _agenda_touched(meeting)
    db.session.flush()
    record_change(actor, "agenda.item_add", meeting, object_type="meeting_item", object_id=item.id,
                  item_id=item.id, details={"title": item.title})
    return item


def update_item(actor: Actor, item: MeetingItem, data: ItemData) -> MeetingItem:
    require_secretary(actor)
    meeting = item.meeting
    require_editable(meeting)
    data = data.cleaned().linked(item)
    item.organisation_id, item.presenter_id = data.organisation_id, data.presenter_id
    changes = {}
    for name in ("title", "ministry", "presenter", "duration_minutes", "summary", "kind", "confidentiality"):
        old, new = getattr(item, name), getattr(data, name)
        if old != new:
            changes[name] = [str(old), str(new)] if name != "summary" else "changed"
            setattr(item, name, new)
    if not changes:
        return item
    _agenda_touched(meeting)
    record_change(actor, "agenda.item_update", meeting, object_type="meeting_item", object_id=item.id,
                  item_id=item.id, details=changes)
    return item


def delete_item(actor: Actor, item: MeetingItem) -> None:
    bulk_delete(actor, item.meeting, [item.id])


def reorder_items(actor: Actor, meeting: Meeting, ordered_ids: Iterable[object]) -> None:
    """Put the agenda in the given order: the full list of the meeting's item ids, each exactly once."""
    require_secretary(actor)
    require_editable(meeting)
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
    record_change(actor, "agenda.reorder", meeting, object_type="meeting", object_id=meeting.id,
                  details={"before": before, "after": ids})


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
    organisation_id: int | None = None  # picked from the list; wins over a typed ``ministry``

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
            known = organisations.find_by_name(self.ministry)
            if known is not None:
                changes["ministry"], changes["organisation_id"] = known.name, known.id
        if self.organisation_id is not None:
            organisation = organisations.usable(self.organisation_id)
            if organisation is None:
                raise MeetingError("Please choose the presenting ministry from the list: "
                                   "the one given is unknown or no longer active.")
            changes["ministry"], changes["organisation_id"] = organisation.name, organisation.id
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
    require_secretary(actor)
    require_editable(meeting)
    items = _selected_items(meeting, item_ids)
    values = changes.cleaned()
    if not values:
        raise MeetingError("Choose at least one change to make.")
    for item in items:
        for name, value in values.items():
            setattr(item, name, value)
    _agenda_touched(meeting)
    record_change(actor, "agenda.bulk_edit", meeting, object_type="meeting", object_id=meeting.id,
                  details={"items": [i.id for i in items], "set": {k: str(v) for k, v in values.items()}})
    return len(items)


def bulk_delete(actor: Actor, meeting: Meeting, item_ids: Iterable[object]) -> int:
    require_secretary(actor)
    require_editable(meeting)
    items = _selected_items(meeting, item_ids)
    doomed = {i.id for i in items}
    for item in items:
        meeting.items.remove(item)
    _renumber(meeting, [i for i in meeting.items if i.id not in doomed])
    _agenda_touched(meeting)
    record_change(actor, "agenda.item_delete", meeting, object_type="meeting", object_id=meeting.id,
                  details={"items": sorted(doomed), "titles": [i.title for i in items]})
    return len(items)
