"""Reordering the agenda: the full list of ids, all-or-nothing; and one place up or down."""

from __future__ import annotations

import pytest

from ecabinet.meetings import service
from ecabinet.meetings.service import MeetingError
from tests.meetings.conftest import actor, audit_actions


def titles(meeting) -> list[str]:
    return [i.title for i in meeting.items]


def test_reorder_puts_items_in_the_given_order(draft, cabinet):
    a, b, c = (i.id for i in draft.items)
    service.reorder_items(actor(cabinet["secretary"]), draft, [c, a, b])
    assert titles(draft) == ["Report C", "Decision A", "Decision B"]
    assert [i.position for i in draft.items] == [1, 2, 3]
    assert audit_actions()[-1] == "agenda.reorder"


def test_reorder_refuses_an_unknown_id(draft, cabinet):
    a, b, _c = (i.id for i in draft.items)
    with pytest.raises(MeetingError, match="every item of this agenda"):
        service.reorder_items(actor(cabinet["secretary"]), draft, [b, a, 99999])
    assert titles(draft) == ["Decision A", "Decision B", "Report C"]


def test_reorder_refuses_a_duplicated_id(draft, cabinet):
    a, b, _c = (i.id for i in draft.items)
    with pytest.raises(MeetingError, match="more than once"):
        service.reorder_items(actor(cabinet["secretary"]), draft, [b, a, a])
    assert titles(draft) == ["Decision A", "Decision B", "Report C"]


def test_reorder_refuses_a_missing_id(draft, cabinet):
    a, b, _c = (i.id for i in draft.items)
    with pytest.raises(MeetingError, match="every item"):
        service.reorder_items(actor(cabinet["secretary"]), draft, [b, a])


def test_reorder_refuses_an_item_of_another_meeting(draft, cabinet):
    other = service.copy_meeting(actor(cabinet["secretary"]), draft)
    a, b, _c = (i.id for i in draft.items)
    with pytest.raises(MeetingError, match="every item"):
        service.reorder_items(actor(cabinet["secretary"]), draft, [a, b, other.items[2].id])


def test_reorder_refuses_something_that_is_not_a_list_of_numbers(draft, cabinet):
    with pytest.raises(MeetingError, match="list of item numbers"):
        service.reorder_items(actor(cabinet["secretary"]), draft, ["a", None, {}])


def test_reorder_refused_to_a_member(draft, cabinet):
    ids = [i.id for i in reversed(draft.items)]
    with pytest.raises(MeetingError, match="Only the secretariat"):
        service.reorder_items(actor(cabinet["member"]), draft, ids)


def test_reorder_of_a_published_agenda_marks_it_changed(published, cabinet):
    service.reorder_items(actor(cabinet["secretary"]), published, [i.id for i in reversed(published.items)])
    assert published.agenda_changed


def test_move_item_up_and_down(draft, cabinet):
    sec = actor(cabinet["secretary"])
    service.move_item(sec, draft.items[2], -1)
    assert titles(draft) == ["Decision A", "Report C", "Decision B"]
    service.move_item(sec, draft.items[0], +1)
    assert titles(draft) == ["Report C", "Decision A", "Decision B"]


def test_move_item_past_the_end_is_refused(draft, cabinet):
    with pytest.raises(MeetingError, match="already at the end"):
        service.move_item(actor(cabinet["secretary"]), draft.items[0], -1)
