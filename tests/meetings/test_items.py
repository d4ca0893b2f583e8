"""The agenda builder: adding, editing, deleting and bulk-editing items."""

from __future__ import annotations

import pytest

from ecabinet.meetings import service
from ecabinet.meetings.models import Confidentiality, ItemKind
from ecabinet.meetings.service import BulkChanges, ItemData, MeetingError
from tests.meetings.conftest import actor, audit_actions


def test_add_item_appends_it_and_adds_up_the_planned_time(draft, cabinet):
    item = service.add_item(actor(cabinet["secretary"]), draft, ItemData(title="New", duration_minutes=25))
    assert item.position == 4
    assert draft.agenda_minutes == 20 + 30 + 15 + 25
    assert draft.planned_minutes == 120
    assert audit_actions()[-1] == "agenda.item_add"


def test_add_item_refuses_a_summary_longer_than_one_page(draft, cabinet):
    with pytest.raises(MeetingError, match="one short page"):
        service.add_item(actor(cabinet["secretary"]), draft, ItemData(title="Long", summary="x" * 2001))
    assert len(draft.items) == 3


def test_add_item_refuses_a_zero_duration(draft, cabinet):
    with pytest.raises(MeetingError, match="between 1 and"):
        service.add_item(actor(cabinet["secretary"]), draft, ItemData(title="Zero", duration_minutes=0))


def test_add_item_refuses_an_empty_title(draft, cabinet):
    with pytest.raises(MeetingError, match="item title is required"):
        service.add_item(actor(cabinet["secretary"]), draft, ItemData(title=""))


def test_add_item_refused_to_a_member(draft, cabinet):
    with pytest.raises(MeetingError, match="Only the secretariat"):
        service.add_item(actor(cabinet["member"]), draft, ItemData(title="X"))


def test_add_item_refused_once_the_meeting_has_started(published, cabinet):
    service.start_meeting(actor(cabinet["chair"]), published)
    with pytest.raises(MeetingError, match="has started"):
        service.add_item(actor(cabinet["secretary"]), published, ItemData(title="Late"))
    assert len(published.items) == 3


def test_update_item(draft, cabinet):
    item = draft.items[0]
    service.update_item(actor(cabinet["secretary"]), item, ItemData(title="Decision A2", kind=ItemKind.DISCUSSION,
                                                                     confidentiality=Confidentiality.CONFIDENTIAL))
    assert item.title == "Decision A2" and item.confidentiality is Confidentiality.CONFIDENTIAL
    assert audit_actions()[-1] == "agenda.item_update"


def test_delete_item_renumbers_the_rest(draft, cabinet):
    service.delete_item(actor(cabinet["secretary"]), draft.items[0])
    assert [(i.position, i.title) for i in draft.items] == [(1, "Decision B"), (2, "Report C")]
    assert audit_actions()[-1] == "agenda.item_delete"


def test_bulk_edit_sets_fields_on_every_selected_item(draft, cabinet):
    ids = [draft.items[0].id, draft.items[2].id]
    n = service.bulk_edit(actor(cabinet["secretary"]), draft, ids,
                          BulkChanges(kind=ItemKind.DISCUSSION, ministry="Bộ Y tế", duration_minutes=5))
    assert n == 2
    assert [(i.kind, i.ministry, i.duration_minutes) for i in draft.items] == [
        (ItemKind.DISCUSSION, "Bộ Y tế", 5), (ItemKind.DECISION, "", 30), (ItemKind.DISCUSSION, "Bộ Y tế", 5)]
    assert audit_actions()[-1] == "agenda.bulk_edit"


def test_bulk_edit_refuses_an_unknown_item(draft, cabinet):
    with pytest.raises(MeetingError, match="Unknown item"):
        service.bulk_edit(actor(cabinet["secretary"]), draft, [draft.items[0].id, 99999],
                          BulkChanges(duration_minutes=5))
    assert draft.items[0].duration_minutes == 20


def test_bulk_edit_refuses_an_empty_selection(draft, cabinet):
    with pytest.raises(MeetingError, match="Select at least one"):
        service.bulk_edit(actor(cabinet["secretary"]), draft, [], BulkChanges(duration_minutes=5))


def test_bulk_edit_refuses_no_change(draft, cabinet):
    with pytest.raises(MeetingError, match="at least one change"):
        service.bulk_edit(actor(cabinet["secretary"]), draft, [draft.items[0].id], BulkChanges())


def test_bulk_delete(draft, cabinet):
    service.bulk_delete(actor(cabinet["secretary"]), draft, [draft.items[0].id, draft.items[1].id])
    assert [(i.position, i.title) for i in draft.items] == [(1, "Report C")]
