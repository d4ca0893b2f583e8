"""Agenda templates over HTTP: made empty or from a meeting's agenda, edited, deleted, and used to start a
meeting; only the secretariat may touch them."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from ecabinet.extensions import db
from ecabinet.meetings import service
from ecabinet.meetings.models import ItemKind, Meeting, MeetingStatus
from ecabinet.meetings.template_models import AgendaTemplate, AgendaTemplateItem
from tests.conftest import PASSWORD
from tests.helpers import csrf_from, login
from tests.meetings.conftest import SYSTEM, audit_actions

STANDING = [("Báo cáo tình hình kinh tế - xã hội", "Bộ Tài chính", 40, ItemKind.DISCUSSION),
            ("Tình hình thực hiện Nghị quyết", "Văn phòng Chính phủ", 15, ItemKind.INFORMATION),
            ("Công tác xây dựng pháp luật", "Bộ Tư pháp", 20, ItemKind.DISCUSSION)]


def _template(name="Phiên họp Chính phủ thường kỳ tháng"):
    template = service.create_template(SYSTEM, name, [
        service.TemplateItemData(title=t, ministry=m, duration_minutes=d, kind=k) for t, m, d, k in STANDING])
    db.session.commit()
    return template


def _token(client, url="/meetings/templates") -> str:
    return csrf_from(client.get(url).get_data(as_text=True))


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_secretary_lists_and_makes_an_empty_template(client, cabinet):
    login(client, cabinet["secretary"].email, PASSWORD)
    r = client.post("/meetings/templates", data={"csrf_token": _token(client), "name": "Phiên họp chuyên đề",
                                                 "meeting_id": "0"})
    assert r.status_code == 302 and "/edit" in r.headers["Location"]
    (template,) = service.list_templates()
    assert template.name == "Phiên họp chuyên đề" and template.items == []
    assert "Phiên họp chuyên đề" in client.get("/meetings/templates").get_data(as_text=True)
    assert audit_actions()[-1] == "agenda_template.create"


def test_template_from_an_existing_meetings_agenda(client, draft, cabinet):
    login(client, cabinet["secretary"].email, PASSWORD)
    page = client.get(f"/meetings/templates?meeting_id={draft.id}").get_data(as_text=True)
    assert f'<option selected value="{draft.id}">' in page or f'value="{draft.id}" selected' in page
    client.post("/meetings/templates", data={"csrf_token": csrf_from(page), "name": "Thường kỳ",
                                             "meeting_id": str(draft.id)})
    (template,) = service.list_templates()
    assert [(i.position, i.title, i.ministry, i.duration_minutes, i.kind) for i in template.items] == [
        (1, "Decision A", "Bộ Tài chính", 20, ItemKind.DECISION), (2, "Decision B", "", 30, ItemKind.DECISION),
        (3, "Report C", "", 15, ItemKind.INFORMATION)]


def test_template_names_are_checked(client, cabinet):
    _template()
    login(client, cabinet["secretary"].email, PASSWORD)
    for name in ("", "  ", "phiên họp chính phủ thường kỳ tháng", "x" * 201):
        r = client.post("/meetings/templates", data={"csrf_token": _token(client), "name": name, "meeting_id": "0"})
        assert r.status_code in (200, 400), (name, r.status_code)
    assert _count(AgendaTemplate) == 1
    r = client.post("/meetings/templates", data={"csrf_token": _token(client), "name": "Mới", "meeting_id": "99999"})
    assert r.status_code == 400 and _count(AgendaTemplate) == 1  # not a meeting of the list


def test_secretary_edits_the_items_of_a_template(client, cabinet):
    template = _template()
    login(client, cabinet["secretary"].email, PASSWORD)
    url = f"/meetings/templates/{template.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'name="item-4-title"' in page  # a blank row for a new item
    data = {"csrf_token": csrf_from(page), "name": "Phiên họp thường kỳ (sửa)",
            # the first moves last, the second is deleted, a new one is added
            "item-1-position": "9", "item-1-title": STANDING[0][0], "item-1-ministry": "Bộ Tài chính",
            "item-1-duration": "45", "item-1-kind": "discussion",
            "item-2-position": "2", "item-2-title": STANDING[1][0], "item-2-ministry": "", "item-2-duration": "15",
            "item-2-kind": "information", "item-2-delete": "1",
            "item-3-position": "3", "item-3-title": STANDING[2][0], "item-3-ministry": "Bộ Tư pháp",
            "item-3-duration": "20", "item-3-kind": "discussion",
            "item-4-position": "4", "item-4-title": "Chương trình công tác tháng tới", "item-4-ministry": "VPCP",
            "item-4-duration": "5", "item-4-kind": "decision",
            "item-5-position": "5", "item-5-title": "", "item-5-duration": "10", "item-5-kind": "decision"}
    r = client.post(url, data=data)
    assert r.status_code == 302
    db.session.expire_all()
    template = service.get_template(template.id)
    assert template.name == "Phiên họp thường kỳ (sửa)"
    assert [(i.title, i.duration_minutes) for i in template.items] == [
        (STANDING[2][0], 20), ("Chương trình công tác tháng tới", 5), (STANDING[0][0], 45)]
    assert audit_actions()[-1] == "agenda_template.update"


def test_a_bad_template_row_is_named_and_nothing_changes(client, cabinet):
    template = _template()
    login(client, cabinet["secretary"].email, PASSWORD)
    url = f"/meetings/templates/{template.id}/edit"
    for bad in ({"item-1-duration": "0"}, {"item-1-kind": "vote"}, {"item-1-title": "x" * 301}):
        data = {"csrf_token": _token(client, url), "name": "Khác", "item-1-title": "Một", "item-1-duration": "10",
                "item-1-kind": "decision", **bad}
        r = client.post(url, data=data)
        assert r.status_code == 200 and "Mục 1" in r.get_data(as_text=True), bad
    db.session.expire_all()
    template = service.get_template(template.id)
    assert template.name == "Phiên họp Chính phủ thường kỳ tháng" and len(template.items) == 3


def test_secretary_deletes_a_template(client, cabinet):
    template_id = _template().id
    login(client, cabinet["secretary"].email, PASSWORD)
    r = client.post(f"/meetings/templates/{template_id}/delete", data={"csrf_token": _token(client)})
    assert r.status_code == 302 and _count(AgendaTemplate) == 0 and _count(AgendaTemplateItem) == 0
    assert client.get(f"/meetings/templates/{template_id}/edit").status_code == 404


def test_a_meeting_is_created_from_a_template(client, cabinet):
    template = _template()
    login(client, cabinet["secretary"].email, PASSWORD)
    url = f"/meetings/templates/{template.id}/use"
    page = client.get(url).get_data(as_text=True)
    assert 'value="Phiên họp Chính phủ thường kỳ tháng"' in page
    starts = re.search(r'name="starts_at" required type="datetime-local" value="([^"]+)"', page).group(1)
    ends = re.search(r'name="ends_at" required type="datetime-local" value="([^"]+)"', page).group(1)
    r = client.post(url, data={"csrf_token": csrf_from(page), "title": "Phiên họp Chính phủ thường kỳ tháng 12",
                               "kind": "regular", "mode": "in_person", "starts_at": starts, "ends_at": ends,
                               "timezone": "Asia/Ho_Chi_Minh", "place": "", "chair_id": str(cabinet["chair"].id),
                               "conflict_policy": "recuse", "quorum_rule": "more_than_half"})
    assert r.status_code == 302, r.get_data(as_text=True)[-500:]
    meeting = db.session.scalar(select(Meeting).where(Meeting.title == "Phiên họp Chính phủ thường kỳ tháng 12"))
    assert meeting.status is MeetingStatus.DRAFT
    assert [(i.title, i.ministry, i.duration_minutes, i.kind) for i in meeting.items] == [
        (t, m, d, k) for t, m, d, k in STANDING]
    assert "meeting.from_template" in audit_actions()


def test_a_meeting_from_a_template_refuses_bad_times(client, cabinet):
    template = _template()
    login(client, cabinet["secretary"].email, PASSWORD)
    url = f"/meetings/templates/{template.id}/use"
    r = client.post(url, data={"csrf_token": _token(client, url), "title": "X", "kind": "regular", "mode": "in_person",
                               "starts_at": "2027-01-04T10:00", "ends_at": "2027-01-04T09:00",
                               "timezone": "Asia/Ho_Chi_Minh", "chair_id": "0", "conflict_policy": "recuse",
                               "quorum_rule": "more_than_half"})
    assert r.status_code == 200 and _count(Meeting) == 0


def test_only_the_secretariat_manages_templates(client, cabinet):
    template = _template()
    for role in ("member", "chair", "guest", "admin"):
        other = client.application.test_client()
        login(other, cabinet[role].email, PASSWORD)
        for url in ("/meetings/templates", f"/meetings/templates/{template.id}/edit",
                    f"/meetings/templates/{template.id}/use"):
            assert other.get(url).status_code == 403, (role, url)
        assert other.post(f"/meetings/templates/{template.id}/delete").status_code in (400, 403)
    assert _count(AgendaTemplate) == 1


def test_the_demo_has_one_template(app):
    from ecabinet.meetings.demo import TEMPLATE_NAME, load_template_demo

    assert load_template_demo() and load_template_demo() == []
    (template,) = service.list_templates()
    assert template.name == TEMPLATE_NAME and template.items[0].title.startswith("Báo cáo tình hình kinh tế - xã hội")
