"""The pages: bad input is a clear message and leaves the meeting untouched; never a 500."""

from __future__ import annotations

import re

from ecabinet.extensions import db
from ecabinet.meetings import service
from ecabinet.meetings.models import Position
from tests.conftest import PASSWORD
from tests.helpers import csrf_from, login
from tests.meetings.conftest import actor

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def _page(client, url):
    r = client.get(url)
    assert r.status_code == 200, r.status_code
    return r.get_data(as_text=True)


def test_reorder_endpoint_takes_the_full_order_with_the_csrf_header(client, draft, cabinet):
    login(client, cabinet["secretary"].email, PASSWORD)
    html = _page(client, f"/meetings/{draft.id}")
    token = CSRF_META.search(html).group(1)
    a, b, c = (i.id for i in draft.items)
    r = client.post(f"/meetings/{draft.id}/reorder", json={"order": [c, b, a]}, headers={"X-CSRFToken": token})
    assert r.status_code == 200 and r.json["order"] == [c, b, a]
    db.session.expire_all()
    assert [i.id for i in service.get_meeting(draft.id).items] == [c, b, a]


def test_reorder_endpoint_refuses_duplicates_and_leaves_the_order(client, draft, cabinet):
    login(client, cabinet["secretary"].email, PASSWORD)
    token = CSRF_META.search(_page(client, f"/meetings/{draft.id}")).group(1)
    a, b, _c = (i.id for i in draft.items)
    r = client.post(f"/meetings/{draft.id}/reorder", json={"order": [a, a, b]}, headers={"X-CSRFToken": token})
    assert r.status_code == 400 and "nhiều lần" in r.json["error"]
    r = client.post(f"/meetings/{draft.id}/reorder", json={"order": [a, b, 999]}, headers={"X-CSRFToken": token})
    assert r.status_code == 400
    r = client.post(f"/meetings/{draft.id}/reorder", json="nonsense", headers={"X-CSRFToken": token})
    assert r.status_code == 400
    db.session.expire_all()
    assert [i.title for i in service.get_meeting(draft.id).items] == ["Decision A", "Decision B", "Report C"]


def test_reorder_endpoint_without_the_csrf_header_is_refused(client, draft, cabinet):
    login(client, cabinet["secretary"].email, PASSWORD)
    r = client.post(f"/meetings/{draft.id}/reorder", json={"order": []})
    assert r.status_code == 400


def test_publishing_an_empty_agenda_shows_a_clear_message(client, draft, cabinet):
    service.bulk_delete(actor(cabinet["secretary"]), draft, [i.id for i in draft.items])
    db.session.commit()
    login(client, cabinet["secretary"].email, PASSWORD)
    html = _page(client, f"/meetings/{draft.id}")
    r = client.post(f"/meetings/{draft.id}/publish", data={"csrf_token": csrf_from(html)}, follow_redirects=True)
    assert r.status_code == 200
    assert "Không thể công bố chương trình trống" in r.get_data(as_text=True)
    db.session.expire_all()
    assert service.get_meeting(draft.id).status.value == "draft"


def test_step_out_of_order_shows_a_clear_message(client, published, cabinet):
    login(client, cabinet["chair"].email, PASSWORD)
    html = _page(client, f"/meetings/{published.id}")
    r = client.post(f"/meetings/{published.id}/step/close", data={"csrf_token": csrf_from(html)},
                    follow_redirects=True)
    assert r.status_code == 200 and "Không thể thực hiện bước này" in r.get_data(as_text=True)
    db.session.expire_all()
    assert service.get_meeting(published.id).status.value == "published"


def test_unknown_step_is_404(client, published, cabinet):
    login(client, cabinet["chair"].email, PASSWORD)
    html = _page(client, f"/meetings/{published.id}")
    assert client.post(f"/meetings/{published.id}/step/explode", data={"csrf_token": csrf_from(html)}).status_code \
        == 404


def test_position_after_the_start_shows_a_clear_message(client, published, cabinet):
    item = published.items[0]
    service.start_meeting(actor(cabinet["chair"]), published)
    db.session.commit()
    login(client, cabinet["member"].email, PASSWORD)
    html = _page(client, f"/meetings/{published.id}")
    r = client.post(f"/meetings/{published.id}/items/{item.id}/position",
                    data={"csrf_token": csrf_from(html), "position": "agree"}, follow_redirects=True)
    assert "Không thể thay đổi ý kiến nữa: phiên họp đã bắt đầu." in r.get_data(as_text=True)
    assert service.position_of(item, cabinet["member"]) is None


def test_member_marks_a_position_through_the_page(client, published, cabinet):
    item = published.items[0]
    login(client, cabinet["member"].email, PASSWORD)
    html = _page(client, f"/meetings/{published.id}")
    r = client.post(f"/meetings/{published.id}/items/{item.id}/position",
                    data={"csrf_token": csrf_from(html), "position": "speak", "comment": "Xin ý kiến"})
    assert r.status_code == 302
    db.session.expire_all()
    assert service.position_of(service.get_meeting(published.id).items[0], cabinet["member"]).position \
        is Position.SPEAK


def test_bulk_edit_through_the_page(client, draft, cabinet):
    login(client, cabinet["secretary"].email, PASSWORD)
    html = _page(client, f"/meetings/{draft.id}")
    ids = [str(i.id) for i in draft.items[:2]]
    r = client.post(f"/meetings/{draft.id}/bulk", data={"csrf_token": csrf_from(html), "item_ids": ids,
                                                         "bulk-confidentiality": "confidential", "action": "edit"})
    assert r.status_code == 302
    db.session.expire_all()
    levels = [i.confidentiality.value for i in service.get_meeting(draft.id).items]
    assert levels == ["confidential", "confidential", "normal"]


def test_move_item_button(client, draft, cabinet):
    login(client, cabinet["secretary"].email, PASSWORD)
    html = _page(client, f"/meetings/{draft.id}")
    last = draft.items[2]
    client.post(f"/meetings/{draft.id}/items/{last.id}/move", data={"csrf_token": csrf_from(html),
                                                                     "direction": "up"})
    db.session.expire_all()
    assert [i.title for i in service.get_meeting(draft.id).items] == ["Decision A", "Report C", "Decision B"]


def test_create_meeting_through_the_form(client, cabinet):
    login(client, cabinet["secretary"].email, PASSWORD)
    html = _page(client, "/meetings/new")
    r = client.post("/meetings/new", data={
        "csrf_token": csrf_from(html), "title": "Phiên họp tháng 6", "kind": "regular", "mode": "hybrid",
        "starts_at": "2031-06-02T08:00", "ends_at": "2031-06-02T11:30", "timezone": "Asia/Ho_Chi_Minh",
        "place": "Hà Nội", "chair_id": str(cabinet["chair"].id), "conflict_policy": "recuse",
        "quorum_rule": "more_than_half"})
    assert r.status_code == 302
    meeting = service.list_meetings_for(cabinet["secretary"])[0]
    assert meeting.starts_at.isoformat() == "2031-06-02T01:00:00+00:00"  # 08:00 in Hanoi
    page = _page(client, f"/meetings/{meeting.id}")
    assert "Phiên họp tháng 6" in page


def test_create_meeting_with_the_end_before_the_start_keeps_the_form(client, cabinet):
    login(client, cabinet["secretary"].email, PASSWORD)
    html = _page(client, "/meetings/new")
    r = client.post("/meetings/new", data={
        "csrf_token": csrf_from(html), "title": "X", "kind": "regular", "mode": "hybrid",
        "starts_at": "2031-06-02T08:00", "ends_at": "2031-06-02T07:00", "timezone": "Asia/Ho_Chi_Minh",
        "chair_id": "0", "conflict_policy": "recuse", "quorum_rule": "more_than_half"})
    assert r.status_code == 200 and "Phiên họp phải kết thúc sau khi bắt đầu." in r.get_data(as_text=True)
    assert service.list_meetings_for(cabinet["secretary"]) == []


def test_calendar_download(client, published, cabinet):
    login(client, cabinet["member"].email, PASSWORD)
    r = client.get(f"/meetings/{published.id}/calendar.ics")
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    body = r.get_data(as_text=True)
    assert "BEGIN:VEVENT" in body and "Decision A" not in body  # no agenda in a file that leaves the system


def test_home_shows_upcoming_meetings_awaiting_positions_and_notifications(client, published, cabinet):
    login(client, cabinet["member"].email, PASSWORD)
    html = _page(client, "/")
    assert published.title in html
    assert "2 mục đang chờ ý kiến của tôi" in html
    assert "Chương trình phiên họp" in html  # the publication notice


def test_members_see_what_changed_on_the_meeting_page(client, published, cabinet):
    login(client, cabinet["member"].email, PASSWORD)
    _page(client, f"/meetings/{published.id}")  # first look: version 1 seen
    service.add_item(actor(cabinet["secretary"]), published, service.ItemData(title="Bổ sung khẩn"))
    service.publish(actor(cabinet["secretary"]), published)
    db.session.commit()
    html = _page(client, f"/meetings/{published.id}")
    assert "Đã thêm:" in html and "Bổ sung khẩn" in html
    client.post(f"/meetings/{published.id}/seen", data={"csrf_token": csrf_from(html)})
    assert "Đã thêm:" not in _page(client, f"/meetings/{published.id}")


def test_an_adjourned_meeting_is_listed_as_past(client, published, cabinet):
    service.start_meeting(actor(cabinet["chair"]), published)
    service.adjourn_meeting(actor(cabinet["chair"]), published)
    db.session.commit()
    home = service.member_home(cabinet["member"])
    assert published not in [m.meeting for m in home.upcoming] and published in home.past
