"""The pickers that replaced typed names and numbers: a user's organisation, an agenda item's presenting
ministry and presenter, an action item's ministry and responsible person. Each saves the id picked from
the list, and refuses an unknown or deactivated one with a clear message, never an error page."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ecabinet.accounts import service as accounts
from ecabinet.accounts.models import Role, User
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from ecabinet.meetings.models import MeetingItem
from ecabinet.minutes.models import ActionItem
from ecabinet.organisations import service
from ecabinet.organisations.service import OrganisationData
from tests.conftest import PASSWORD
from tests.helpers import csrf_from, login

SYSTEM = Actor.system("test")
NOT_IN_LIST = "Vui lòng chọn trong danh sách: mục đã gửi không tồn tại hoặc không còn được cung cấp."


@pytest.fixture
def ministries(app):
    made = {name: service.create(SYSTEM, OrganisationData(name=name, short_name=short))
            for name, short in (("Bộ Tài chính", "BTC"), ("Bộ Y tế", "BYT"), ("Bộ Cũ", ""))}
    service.set_active(SYSTEM, made["Bộ Cũ"], False)
    db.session.commit()
    return made


def _page(client, path: str) -> str:
    return html.unescape(client.get(path).get_data(as_text=True))


def _options(page: str, field: str) -> dict[str, str]:
    select_html = re.search(rf'<select[^>]*name="{field}"[^>]*>(.*?)</select>', page, re.DOTALL)
    assert select_html, f"no picker {field}"
    return {label: value for value, label in re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]*)</option>',
                                                       select_html.group(1))}


# --- a user's organisation ------------------------------------------------------------------------

def _user_post(client, path: str, organisation_id: str, email: str = "moi@example.gov.vn"):
    token = csrf_from(client.get(path).get_data(as_text=True))
    data = {"csrf_token": token, "name": "Người Mới", "email": email, "title": "Chuyên viên", "role": "member",
            "organisation_id": organisation_id}
    if path.endswith("/new"):
        data["password"] = "mat-khau-rat-dai"
    return client.post(path, data=data)


def test_user_form_offers_active_organisations_and_saves_the_pick(client, users, ministries):
    login(client, "admin@example.gov.vn", PASSWORD)
    page = _page(client, "/admin/users/new")
    offered = _options(page, "organisation_id")
    assert list(offered) == ["(không có)", "Bộ Tài chính (BTC)", "Bộ Y tế (BYT)"]
    assert 'data-picker=""' in page and 'src="/static/js/picker.js"' in page
    response = _user_post(client, "/admin/users/new", offered["Bộ Y tế (BYT)"])
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "moi@example.gov.vn"))
    assert user.organisation_id == ministries["Bộ Y tế"].id and user.organisation == "Bộ Y tế"
    # The user list shows the organisation's name.
    assert "Bộ Y tế" in _page(client, "/admin/users?q=moi")


@pytest.mark.parametrize("value", ["999999", "abc", "-1", "99999999999999999999"])
def test_user_form_refuses_an_organisation_outside_the_list(client, users, ministries, value):
    login(client, "admin@example.gov.vn", PASSWORD)
    response = _user_post(client, "/admin/users/new", value)
    assert response.status_code == 400
    assert NOT_IN_LIST in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(User).where(User.email == "moi@example.gov.vn")) is None


def test_user_form_refuses_a_deactivated_organisation_but_keeps_a_users_own(client, users, ministries):
    login(client, "admin@example.gov.vn", PASSWORD)
    old = ministries["Bộ Cũ"]
    response = _user_post(client, "/admin/users/new", str(old.id))
    assert response.status_code == 400 and NOT_IN_LIST in html.unescape(response.get_data(as_text=True))
    # A user already in the deactivated organisation keeps it when the form is saved unchanged.
    member = users["member"]
    member.organisation_id, member.organisation = old.id, old.name
    db.session.commit()
    path = f"/admin/users/{member.id}"
    assert "Bộ Cũ (đã ngừng hoạt động)" in _options(_page(client, path), "organisation_id")
    response = _user_post(client, path, str(old.id), email=member.email)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, member.id).organisation_id == old.id


def test_a_typed_organisation_stays_until_one_is_picked(client, users, ministries):
    login(client, "admin@example.gov.vn", PASSWORD)
    member = users["member"]  # "Bộ Thử nghiệm": typed, in no list
    assert member.organisation_id is None
    path = f"/admin/users/{member.id}"
    assert "Đã nhập tay trước khi có danh sách: Bộ Thử nghiệm." in _page(client, path)
    assert _user_post(client, path, "0", email=member.email).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, member.id).organisation == "Bộ Thử nghiệm"
    assert _user_post(client, path, str(ministries["Bộ Tài chính"].id), email=member.email).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, member.id).organisation == "Bộ Tài chính"


def test_typed_names_are_linked_to_the_list(app, ministries):
    user = accounts.create_user(SYSTEM, accounts.UserData(email="a@example.gov.vn", name="A", role=Role.MEMBER,
                                                          organisation="bo tai chinh"), PASSWORD)
    assert user.organisation_id == ministries["Bộ Tài chính"].id and user.organisation == "Bộ Tài chính"


# --- an agenda item's presenting ministry and presenter --------------------------------------------

def _item_post(client, meeting, item, **values):
    path = f"/meetings/{meeting.id}/items/{item.id}/edit"
    token = csrf_from(client.get(path).get_data(as_text=True))
    data = {"csrf_token": token, "title": item.title, "duration_minutes": "20", "kind": "decision",
            "confidentiality": "normal", "summary": "", "organisation_id": "0", "presenter_id": "0", **values}
    return client.post(path, data=data)


def test_item_form_saves_the_picked_ministry_and_presenter(client, cabinet, draft, ministries):
    login(client, "secretary@example.gov.vn", PASSWORD)
    item = draft.items[1]
    page = _page(client, f"/meetings/{draft.id}/items/{item.id}/edit")
    ministries_offered = _options(page, "organisation_id")
    people = _options(page, "presenter_id")
    assert "Bộ Tài chính (BTC)" in ministries_offered and "Bộ Cũ" not in " ".join(ministries_offered)
    presenter = next(label for label in people if label.startswith("Test member —"))
    response = _item_post(client, draft, item, organisation_id=ministries_offered["Bộ Y tế (BYT)"],
                          presenter_id=people[presenter])
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(MeetingItem, item.id)
    assert saved.organisation_id == ministries["Bộ Y tế"].id and saved.ministry == "Bộ Y tế"
    assert saved.presenter_id == cabinet["member"].id and saved.presenter == "Test member"
    # The agenda shows the names.
    agenda = _page(client, f"/meetings/{draft.id}")
    assert "Bộ Y tế · Test member" in agenda


@pytest.mark.parametrize("field", ["organisation_id", "presenter_id"])
@pytest.mark.parametrize("value", ["999999", "x1", "inactive"])
def test_item_form_refuses_an_id_outside_the_list(client, cabinet, draft, ministries, field, value):
    if value == "inactive":
        if field == "organisation_id":
            value = str(ministries["Bộ Cũ"].id)
        else:
            accounts.set_active(SYSTEM, cabinet["member3"], False)
            db.session.commit()
            value = str(cabinet["member3"].id)
    login(client, "secretary@example.gov.vn", PASSWORD)
    item = draft.items[1]
    response = _item_post(client, draft, item, **{field: value})
    assert response.status_code == 400
    assert NOT_IN_LIST in html.unescape(response.get_data(as_text=True))
    db.session.expire_all()
    saved = db.session.get(MeetingItem, item.id)
    assert saved.organisation_id is None and saved.presenter_id is None


def test_the_add_item_form_and_the_bulk_form_pick_from_the_list(client, cabinet, draft, ministries):
    login(client, "secretary@example.gov.vn", PASSWORD)
    page = _page(client, f"/meetings/{draft.id}")
    assert "Bộ Tài chính (BTC)" in _options(page, "organisation_id")
    assert list(_options(page, "bulk-organisation_id")) == ["(giữ nguyên)", "Bộ Tài chính (BTC)", "Bộ Y tế (BYT)"]
    token = csrf_from(page)
    response = client.post(f"/meetings/{draft.id}/items", data={
        "csrf_token": token, "title": "Tờ trình mới", "duration_minutes": "10", "kind": "decision",
        "confidentiality": "normal", "organisation_id": str(ministries["Bộ Tài chính"].id),
        "presenter_id": str(cabinet["chair"].id)})
    assert response.status_code == 302
    added = db.session.scalar(select(MeetingItem).where(MeetingItem.title == "Tờ trình mới"))
    assert added.organisation_id == ministries["Bộ Tài chính"].id and added.presenter == "Test chair"
    ids = [str(i.id) for i in draft.items[:2]]
    response = client.post(f"/meetings/{draft.id}/bulk", data={
        "csrf_token": token, "item_ids": ids, "action": "edit",
        "bulk-organisation_id": str(ministries["Bộ Y tế"].id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert {db.session.get(MeetingItem, int(i)).ministry for i in ids} == {"Bộ Y tế"}
    # An unknown ministry in the add form: a clear message on the agenda page, nothing added.
    response = client.post(f"/meetings/{draft.id}/items", data={
        "csrf_token": token, "title": "Không hợp lệ", "duration_minutes": "10", "kind": "decision",
        "confidentiality": "normal", "organisation_id": "424242"}, follow_redirects=True)
    assert response.status_code == 200 and NOT_IN_LIST in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(MeetingItem).where(MeetingItem.title == "Không hợp lệ")) is None


# --- an action item's ministry and responsible person ----------------------------------------------

def _action_post(client, meeting, **values):
    page = client.get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "title": "Báo cáo tiến độ",
            "due_date": (date.today() + timedelta(days=7)).isoformat(), **values}
    return client.post(f"/meetings/{meeting.id}/actions", data=data, follow_redirects=True)


def test_action_form_saves_the_picked_ministry_and_person(client, cabinet, closed_meeting, ministries):
    login(client, "secretary@example.gov.vn", PASSWORD)
    page = _page(client, f"/meetings/{closed_meeting.id}/minutes")
    assert "Bộ Tài chính (BTC)" in _options(page, "organisation_id")
    assert any(label.startswith("Test member") for label in _options(page, "responsible_id"))
    assert "user id" not in page and "mã người dùng" not in page
    response = _action_post(client, closed_meeting, organisation_id=str(ministries["Bộ Tài chính"].id),
                            responsible_id=str(cabinet["member"].id))
    assert response.status_code == 200
    action = db.session.scalar(select(ActionItem))
    assert action.organisation_id == ministries["Bộ Tài chính"].id and action.ministry == "Bộ Tài chính"
    assert action.responsible_id == cabinet["member"].id


@pytest.mark.parametrize(("values", "message"), [
    ({"organisation_id": "999999"}, NOT_IN_LIST),
    ({"organisation_id": "inactive"}, NOT_IN_LIST),
    ({"organisation_id": "ok", "responsible_id": "999999"}, NOT_IN_LIST),
    ({"organisation_id": "ok", "responsible_id": "abc"}, NOT_IN_LIST),
    ({"organisation_id": "0"}, "Hãy chọn bộ, cơ quan."),
    ({"organisation_id": "ok", "due_date": "31/12/2026"}, "Hạn hoàn thành: Hãy nhập hạn hoàn thành hợp lệ."),
])
def test_action_form_refuses_what_is_not_in_the_lists(client, cabinet, closed_meeting, ministries, values,
                                                      message):
    values = dict(values)
    if values["organisation_id"] == "inactive":
        values["organisation_id"] = str(ministries["Bộ Cũ"].id)
    elif values["organisation_id"] == "ok":
        values["organisation_id"] = str(ministries["Bộ Tài chính"].id)
    login(client, "secretary@example.gov.vn", PASSWORD)
    response = _action_post(client, closed_meeting, **values)
    assert response.status_code == 200
    body = html.unescape(response.get_data(as_text=True))
    assert message in body
    assert db.session.scalar(select(ActionItem)) is None
