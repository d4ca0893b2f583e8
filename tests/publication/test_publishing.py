"""The chair publishes and withdraws; nobody else may; what may not be public is refused in words."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ecabinet.audit.models import AuditEntry
from ecabinet.extensions import db
from ecabinet.publication import service
from ecabinet.publication.models import Publication
from ecabinet.publication.service import PublicationError
from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from tests.meetings.conftest import actor
from tests.publication.conftest import CONFIDENTIAL_ITEM, GUEST_ITEM, NAMED_ITEM, PUBLIC_CONCLUSION


def _manage(world) -> str:
    return f"/meetings/{world.meeting.id}/publication"


def test_chair_publishes_the_conclusions_over_http_and_it_is_audited(client, world, cabinet):
    login(client, cabinet["chair"].email, PASSWORD)
    page = client.get(_manage(world))
    assert page.status_code == 200 and "Công bố kết luận" in page.get_data(as_text=True)
    response = post_form(client, _manage(world) + "/conclusion", page=_manage(world))
    assert response.status_code == 302
    publication = db.session.scalar(select(Publication))
    assert publication.kind.value == "conclusion" and PUBLIC_CONCLUSION in publication.body
    assert publication.published_by_id == cabinet["chair"].id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "publication.publish"))
    assert entry.object_id == str(publication.id) and entry.meeting_id == world.meeting.id


def test_the_minutes_page_links_the_chair_to_publishing(client, world, cabinet):
    login(client, cabinet["chair"].email, PASSWORD)
    html = client.get(f"/meetings/{world.meeting.id}/minutes").get_data(as_text=True)
    assert _manage(world) in html


def test_no_one_but_the_chair_publishes(app, world, cabinet):
    app.config["WTF_CSRF_ENABLED"] = False  # the policy, not the token, must refuse
    item = world.item(NAMED_ITEM)
    for role in ("secretary", "member", "guest", "admin"):
        client = app.test_client()
        login(client, cabinet[role].email, PASSWORD)
        assert client.get(_manage(world)).status_code in (403, 404), role
        for path in (_manage(world) + "/conclusion", f"{_manage(world)}/items/{item.id}",
                     _manage(world) + "/withdraw"):
            assert client.post(path, data={"publication": "1"}).status_code in (403, 404), (role, path)
    # Signed out: sent to sign in.
    assert app.test_client().get(_manage(world)).status_code == 302
    assert db.session.scalar(select(Publication)) is None


def test_a_chair_of_another_meeting_is_refused_by_the_service(world, cabinet):
    world.meeting.chair_id = cabinet["secretary"].id  # the chair role, but not this meeting's chair
    with pytest.raises(PublicationError, match="Only the chair"):
        service.publish_conclusion(actor(cabinet["chair"]), world.meeting)


def test_confidential_meeting_and_item_are_refused_with_a_clear_error(client, world, cabinet):
    confidential = world.confidential
    chair = actor(cabinet["chair"])
    with pytest.raises(PublicationError, match="confidential or restricted item, so its conclusions"):
        service.publish_conclusion(chair, confidential)
    db.session.rollback()
    item = next(i for i in confidential.items if i.title == CONFIDENTIAL_ITEM)
    with pytest.raises(PublicationError, match="confidential or restricted and cannot be published"):
        service.publish_decision(chair, confidential, item)
    db.session.rollback()
    # Over HTTP: the refusal is said on the chair's page, and nothing is stored.
    login(client, cabinet["chair"].email, PASSWORD)
    page = f"/meetings/{confidential.id}/publication"
    response = post_form(client, f"{page}/items/{item.id}", page=page)
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "cannot be published" in html or "không thể công bố" in html
    assert db.session.scalar(select(Publication)) is None


def test_guest_item_undecided_item_and_unissued_conclusions_are_refused(world, cabinet):
    from ecabinet.minutes.models import Conclusion

    chair = actor(cabinet["chair"])
    with pytest.raises(PublicationError, match="invited guests"):
        service.publish_decision(chair, world.meeting, world.item(GUEST_ITEM))
    db.session.rollback()
    with pytest.raises(PublicationError, match="has decided"):
        service.publish_decision(chair, world.meeting, world.item("Decision A"))  # its ballot is still open
    db.session.rollback()
    db.session.scalar(select(Conclusion).where(Conclusion.meeting_id == world.meeting.id)).issued_at = None
    with pytest.raises(PublicationError, match="Only issued conclusions"):
        service.publish_conclusion(chair, world.meeting)


def test_an_item_hidden_from_a_member_is_refused(world, cabinet):
    from ecabinet.meetings import service as meetings
    from ecabinet.meetings.models import ConflictPolicy

    world.meeting.conflict_policy = ConflictPolicy.HIDE
    meetings.declare_interest(actor(cabinet["member2"]), world.item(NAMED_ITEM), "Người thân là bên liên quan")
    with pytest.raises(PublicationError, match="hidden from some members"):
        service.publish_decision(actor(cabinet["chair"]), world.meeting, world.item(NAMED_ITEM))


def test_publishing_twice_is_refused_and_withdrawing_is_audited(world, cabinet):
    chair = actor(cabinet["chair"])
    publication = service.publish_decision(chair, world.meeting, world.item(NAMED_ITEM))
    db.session.commit()
    with pytest.raises(PublicationError, match="already published"):
        service.publish_decision(chair, world.meeting, world.item(NAMED_ITEM))
    db.session.rollback()
    service.withdraw(chair, world.meeting, publication)
    db.session.commit()
    assert publication.withdrawn_at is not None and publication.withdrawn_by_id == cabinet["chair"].id
    with pytest.raises(PublicationError, match="already been withdrawn"):
        service.withdraw(chair, world.meeting, publication)
    db.session.rollback()
    actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("publication.%"))
                                      .order_by(AuditEntry.id)))
    assert actions == ["publication.publish", "publication.withdraw"]
    # Published again after a withdrawal: a new row, the old one kept.
    again = service.publish_decision(chair, world.meeting, world.item(NAMED_ITEM))
    db.session.commit()
    assert again.id != publication.id


def test_odd_input_of_the_chair_is_a_400_or_404(client, world, cabinet):
    login(client, cabinet["chair"].email, PASSWORD)
    client.application.config["WTF_CSRF_ENABLED"] = False
    base = _manage(world)
    other_item = world.confidential.items[0]
    assert client.post(f"{base}/items/{other_item.id}").status_code == 404  # an item of another meeting
    assert client.post(f"{base}/items/99999999999999999999").status_code == 404
    assert client.post(f"{base}/withdraw", data={"publication": "abc"}).status_code == 400
    assert client.post(f"{base}/withdraw", data={"publication": "99999999999"}).status_code == 400
    assert client.post(f"{base}/withdraw", data={"publication": "12345"}).status_code == 404
    assert client.post(f"{base}/withdraw", data={}).status_code == 404
    assert client.get("/meetings/2147483648/publication").status_code == 404
