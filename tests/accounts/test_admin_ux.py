"""The admin's user pages as a new administrator meets them: new accounts are members by default,
disabling an account asks first, the list can be searched and filtered, and every form message is in the
reader's language."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from ecabinet.accounts import service
from ecabinet.accounts.models import Role, User
from ecabinet.audit.models import AuditEntry
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from tests.conftest import PASSWORD, ROOT
from tests.helpers import csrf_from, login

ROW_NAME = re.compile(r'data-testid="user-row">\s*<td><a class="target-link" href="[^"]+">([^<]+)</a>')
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture
def admin_client(client, users):
    login(client, "admin@example.gov.vn", PASSWORD)
    return client


@pytest.fixture
def ministers(users):
    made = {}
    for name, email, title, organisation in (
            ("Nguyễn Văn An", "an.nguyen@example.gov.vn", "Bộ trưởng", "Bộ Tài chính"),
            ("Trần Thị Dung", "dung.tran@example.gov.vn", "Thứ trưởng", "Bộ Y tế"),
            ("Lê Đức Minh", "minh.le@example.gov.vn", "Chánh Văn phòng", "Văn phòng Chính phủ")):
        made[email] = service.create_user(Actor.system("test"), service.UserData(
            email=email, name=name, title=title, organisation=organisation, role=Role.MEMBER), PASSWORD)
    db.session.commit()
    return made


def _names(page: str) -> list[str]:
    return [html.unescape(n) for n in ROW_NAME.findall(page)]


def test_a_new_user_is_a_member_by_default(admin_client):
    page = admin_client.get("/admin/users/new").get_data(as_text=True)
    selected = re.findall(r'<option selected value="([^"]+)"|<option value="([^"]+)" selected', page)
    assert [a or b for a, b in selected] == ["member"]


def test_a_short_password_is_refused_in_vietnamese(admin_client):
    token = csrf_from(admin_client.get("/admin/users/new").get_data(as_text=True))
    r = admin_client.post("/admin/users/new", data={"csrf_token": token, "name": "", "email": "moi@example.gov.vn",
                                                     "role": "member", "password": "ngan"})
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Mật khẩu phải dài từ 10 đến 256 ký tự." in page
    assert "Vui lòng nhập trường này." in page
    assert "Field must be" not in page and "This field is required" not in page
    assert db.session.scalar(select(User).where(User.email == "moi@example.gov.vn")) is None


def test_a_role_outside_the_list_is_refused_in_vietnamese(admin_client):
    token = csrf_from(admin_client.get("/admin/users/new").get_data(as_text=True))
    r = admin_client.post("/admin/users/new", data={"csrf_token": token, "name": "Người Mới", "role": "emperor",
                                                     "email": "moi@example.gov.vn", "password": "mat-khau-rat-dai"})
    assert r.status_code == 400 and "Vui lòng chọn một vai trò trong danh sách." in r.get_data(as_text=True)


def test_disabling_asks_first_and_without_confirmation_does_nothing(admin_client, users):
    member = users["member"]
    listing = admin_client.get("/admin/users").get_data(as_text=True)
    confirm_path = f"/admin/users/{member.id}/deactivate"
    assert f'href="{confirm_path}"' in listing  # the list's button leads to the question, not to the change
    token = csrf_from(listing)

    r = admin_client.post(f"/admin/users/{member.id}/active", data={"csrf_token": token, "active": "0"})
    assert r.status_code == 302 and r.headers["Location"].endswith(confirm_path)
    db.session.refresh(member)
    assert member.active
    assert "user.deactivate" not in db.session.scalars(select(AuditEntry.action)).all()

    question = admin_client.get(confirm_path).get_data(as_text=True)
    assert f"Khóa tài khoản của {member.name}?" in question and 'name="confirm" value="1"' in question
    admin_client.post(f"/admin/users/{member.id}/active",
                      data={"csrf_token": csrf_from(question), "active": "0", "confirm": "1"})
    db.session.refresh(member)
    assert not member.active
    # Enabling again needs no question.
    admin_client.post(f"/admin/users/{member.id}/active", data={"csrf_token": token, "active": "1"})
    db.session.refresh(member)
    assert member.active


def test_only_admins_reach_the_confirmation(client, users):
    login(client, "secretary@example.gov.vn", PASSWORD)
    assert client.get(f"/admin/users/{users['member'].id}/deactivate").status_code == 403


@pytest.mark.parametrize("query,expected", [
    ("Văn An", ["Nguyễn Văn An"]),
    ("nguyen van", ["Nguyễn Văn An"]),          # without diacritics
    ("DUNG", ["Trần Thị Dung"]),
    ("duc minh", ["Lê Đức Minh"]),              # đ is found by d
    ("dung.tran@", ["Trần Thị Dung"]),           # email
    ("Thứ trưởng", ["Trần Thị Dung"]),          # title
    ("văn phòng chính phủ", ["Lê Đức Minh"]),   # organisation
    ("Bộ Tài chính trưởng", ["Nguyễn Văn An"]),  # every word, in any field
])
def test_search_finds_a_user_by_part_of_what_is_known(admin_client, ministers, query, expected):
    r = admin_client.get("/admin/users", query_string={"q": query})
    assert r.status_code == 200
    assert _names(r.get_data(as_text=True)) == expected


def test_search_with_no_match_says_so(admin_client, ministers):
    page = admin_client.get("/admin/users", query_string={"q": "không có ai"}).get_data(as_text=True)
    assert 'data-testid="no-users"' in page and _names(page) == []


def test_role_filter(admin_client, ministers, users):
    page = admin_client.get("/admin/users?role=member").get_data(as_text=True)
    names = _names(page)
    assert "Test member" in names and "Nguyễn Văn An" in names and "Test chair" not in names
    both = _names(admin_client.get("/admin/users?role=member&q=an").get_data(as_text=True))
    assert "Nguyễn Văn An" in both and "Test chair" not in both


def test_a_bad_role_filter_is_named(admin_client, ministers):
    r = admin_client.get("/admin/users?role=emperor")
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "Bộ lọc vai trò phải là một vai trò trong danh sách." in page
    assert "Nguyễn Văn An" in _names(page)  # the list itself is still shown, unfiltered


def test_every_table_header_has_words(admin_client, ministers):
    page = admin_client.get("/admin/users").get_data(as_text=True)
    headers = re.findall(r"<th[^>]*>(.*?)</th>", page, re.S)
    assert headers and all(h.strip() for h in headers)


# --- in the browser ----------------------------------------------------------------------------------

@pytest.mark.parametrize("width,height", [(1366, 1024), (390, 844)])
def test_user_pages_have_no_serious_accessibility_violation(ministers, users, live_server, browser, width, height):
    from tests.e2e.test_accessibility import _sign_in, _violations

    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=True)
    page = context.new_page()
    try:
        _sign_in(page, live_server.url, "admin@example.gov.vn")
        for path in ("/admin/users", "/admin/users?q=nguyen", f"/admin/users/{users['member'].id}/deactivate",
                     "/admin/users/new"):
            page.goto(live_server.url + path)
            assert _violations(page) == [], path
        page.goto(live_server.url + "/admin/users")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"users-{width}x{height}.png"), full_page=False)
    finally:
        context.close()


def test_an_edit_posted_without_a_role_changes_nothing(admin_client, users):
    chair = users["chair"]
    token = csrf_from(admin_client.get(f"/admin/users/{chair.id}").get_data(as_text=True))
    r = admin_client.post(f"/admin/users/{chair.id}", data={"csrf_token": token, "name": chair.name,
                                                             "email": chair.email})
    assert r.status_code == 400 and "Vui lòng chọn một vai trò trong danh sách." in r.get_data(as_text=True)
    db.session.refresh(chair)
    assert chair.role is Role.CHAIR
