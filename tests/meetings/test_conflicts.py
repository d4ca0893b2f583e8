"""Conflicts of interest: hidden or recused, audited, in the meeting record."""

from __future__ import annotations

import pytest

from ecabinet.meetings import policy, service
from ecabinet.meetings.models import ConflictPolicy, Position
from ecabinet.meetings.service import MeetingError, NotInvited
from tests.meetings.conftest import actor, audit_actions, make_outsider


def test_declaration_under_recuse_keeps_the_item_visible_but_out_of_its_quorum(published, cabinet):
    member, item = cabinet["member"], published.items[0]
    service.declare_interest(actor(member), item, "Vợ tôi là cổ đông")
    assert item in policy.visible_items(member, published)
    assert policy.is_recused(member, item)
    assert service.item_quorum(published, item).eligible == service.quorum(published).eligible - 1
    assert member not in service.missing_positions(published, item)
    assert [d.reason for d in service.interests_of(published)] == ["Vợ tôi là cổ đông"]
    assert audit_actions()[-1] == "interest.declare"


def test_declaration_under_hide_hides_the_item_from_the_member(published, cabinet):
    published.conflict_policy = ConflictPolicy.HIDE
    member, item = cabinet["member"], published.items[0]
    service.declare_interest(actor(member), item)
    assert item not in policy.visible_items(member, published)
    with pytest.raises(policy.Hidden):
        policy.can_view_item(member, meeting_id=published.id, item_id=item.id)
    assert item in policy.visible_items(cabinet["member2"], published)


def test_declaration_removes_an_earlier_position(published, cabinet):
    member, item = cabinet["member"], published.items[0]
    service.mark_position(actor(member), item, Position.OBJECT)
    service.declare_interest(actor(member), item)
    assert service.position_of(item, member) is None


def test_position_refused_after_a_declaration(published, cabinet):
    member, item = cabinet["member"], published.items[0]
    service.declare_interest(actor(member), item)
    with pytest.raises(MeetingError, match="declared an interest"):
        service.mark_position(actor(member), item, Position.AGREE)


def test_declaring_twice_is_refused(published, cabinet):
    service.declare_interest(actor(cabinet["member"]), published.items[0])
    with pytest.raises(MeetingError, match="already declared"):
        service.declare_interest(actor(cabinet["member"]), published.items[0])


def test_declaration_refused_to_a_member_not_invited(published, cabinet):
    with pytest.raises(NotInvited):
        service.declare_interest(actor(make_outsider()), published.items[0])


def test_declaration_refused_to_the_secretariat(published, cabinet):
    with pytest.raises(MeetingError, match="Only members"):
        service.declare_interest(actor(cabinet["secretary"]), published.items[0])


def test_declaration_refuses_an_overlong_reason(published, cabinet):
    with pytest.raises(MeetingError, match="longer than"):
        service.declare_interest(actor(cabinet["member"]), published.items[0], "x" * 501)


@pytest.mark.parametrize("conflicts", [ConflictPolicy.HIDE, ConflictPolicy.RECUSE])
def test_the_readers_kept_from_each_item_are_those_the_item_is_hidden_from(published, cabinet, conflicts):
    """The live room's one-query answer agrees, item by item, with the rule each reader's pages use."""
    from ecabinet.extensions import db

    published.conflict_policy = conflicts
    first, second = published.items[0], published.items[1]
    service.declare_interest(actor(cabinet["member"]), first)
    service.invite_guest(actor(cabinet["secretary"]), second, cabinet["guest"])
    db.session.flush()
    for item in published.items:
        expected = {p.user_id for p in published.participants
                    if item not in policy.visible_items(p.user, published)}
        assert policy.users_kept_from_item(published, item.id) == expected
    assert cabinet["guest"].id in policy.users_kept_from_item(published, first.id)
    assert cabinet["guest"].id not in policy.users_kept_from_item(published, second.id)
    member_kept = cabinet["member"].id in policy.users_kept_from_item(published, first.id)
    assert member_kept is (conflicts is ConflictPolicy.HIDE)


@pytest.mark.parametrize("conflicts", [ConflictPolicy.HIDE, ConflictPolicy.RECUSE])
def test_the_items_hidden_from_each_reader_are_exactly_those_not_visible(published, cabinet, conflicts):
    """``hidden_item_ids`` answers a member without reading the agenda when nothing can be hidden from
    them; for every reader it is the complement of ``visible_items``."""
    published.conflict_policy = conflicts
    first, second = published.items[0], published.items[1]
    service.declare_interest(actor(cabinet["member"]), first)
    service.invite_guest(actor(cabinet["secretary"]), second, cabinet["guest"])
    inactive = cabinet["member2"]
    readers = [cabinet["chair"], cabinet["secretary"], cabinet["member"], cabinet["guest"], make_outsider()]
    for reader in readers:
        visible = {i.id for i in policy.visible_items(reader, published)}
        expected = frozenset(i.id for i in published.items if i.id not in visible)
        assert policy.hidden_item_ids(reader, published) == expected, reader.email
    assert (first.id in policy.hidden_item_ids(cabinet["member"], published)) is (conflicts is ConflictPolicy.HIDE)
    assert policy.hidden_item_ids(cabinet["guest"], published) == frozenset(i.id for i in published.items) - {second.id}
    inactive.active = False
    assert policy.hidden_item_ids(inactive, published) == frozenset(i.id for i in published.items)
