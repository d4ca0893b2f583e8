"""Meeting changes reach the room as domain events: the audit action as the type, scoped to the item the
change concerns, delivered when the unit of work commits and forgotten when it rolls back."""

from __future__ import annotations

import pytest

from ecabinet.core import domain_events
from ecabinet.extensions import db
from ecabinet.meetings import hooks, service
from ecabinet.meetings.models import CheckInMode, Position
from tests.meetings.conftest import actor, audit_actions


@pytest.fixture
def delivered():
    """The meeting changes delivered to subscribers, per commit."""
    seen: list[list[domain_events.MeetingChange]] = []

    def record(_session, changes) -> None:  # noqa: ANN001
        seen.append(list(changes))

    domain_events.subscribe(record)
    yield seen
    domain_events._subscribers.remove(record)


def test_a_change_is_delivered_with_its_audit_action_at_the_commit(published, cabinet, delivered):
    service.start_meeting(actor(cabinet["chair"]), published)
    assert delivered == []  # not before the commit
    db.session.commit()
    (changes,) = delivered
    assert [(c.meeting_id, c.type, c.item_id) for c in changes] == [(published.id, "meeting.start", None)]
    assert audit_actions()[-1] == "meeting.start"


def test_an_item_change_is_scoped_to_its_item(published, cabinet, delivered):
    item = published.items[0]
    service.mark_position(actor(cabinet["member"]), item, Position.AGREE)
    service.add_item(actor(cabinet["secretary"]), published, service.ItemData(title="Late"))
    db.session.commit()
    (changes,) = delivered
    assert [(c.type, c.item_id) for c in changes] == [("position.mark", item.id),
                                                      ("agenda.item_add", published.items[-1].id)]


def test_the_current_item_names_it_for_the_room(published, cabinet, delivered):
    service.start_meeting(actor(cabinet["chair"]), published)
    service.set_current_item(actor(cabinet["chair"]), published, published.items[1])
    db.session.commit()
    change = delivered[0][-1]
    assert (change.type, change.item_id, change.details) == ("agenda.current_item", None,
                                                             {"item": published.items[1].id})


def test_a_rolled_back_change_is_never_delivered(published, cabinet, delivered):
    service.start_meeting(actor(cabinet["chair"]), published)
    db.session.rollback()
    db.session.commit()
    assert delivered == []


def test_consent_adoption_and_its_record_are_one_transaction(published, cabinet, delivered):
    """What another domain records of the adoption (through the hook) commits with it, or not at all."""
    a, b, _c = published.items
    service.mark_position(actor(cabinet["member2"]), b, Position.OBJECT)
    service.start_meeting(actor(cabinet["chair"]), published)
    for who in ("member", "member2", "member3"):
        service.check_in(actor(cabinet["secretary"]), published, service.participant_of(published, cabinet[who]),
                         CheckInMode.ROOM)
    db.session.commit()
    calls = []

    @hooks.consent_adopted.register("test")
    def record(actor_, meeting, items) -> None:  # noqa: ANN001
        calls.append((meeting.id, [i.id for i in items], db.session.info.get("uow_pending_meeting_changes")))

    try:
        service.adopt_consent_block(actor(cabinet["chair"]), published)
    finally:
        hooks.consent_adopted._entries.pop("test")
    (meeting_id, ids, pending) = calls[0]
    assert meeting_id == published.id and ids == [a.id]
    assert pending and pending[-1].type == "consent.adopt"  # called inside the same, uncommitted unit of work
    db.session.rollback()
    db.session.expire_all()
    assert a.outcome is None and published.consent_adopted_at is None
