"""The admin's user pages: create, edit, deactivate, reactivate, reset passwords; nobody else may."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ecabinet.accounts.models import Role, User
from ecabinet.audit.models import AuditEntry
from ecabinet.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import csrf_from, login


@pytest.fixture
def admin_client(client, users):
    login(client, "admin@example.gov.vn", PASSWORD)
    return client


def _form(client, path: str) -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def test_admin_creates_a_user(admin_client):
    token = _form(admin_client, "/admin/users/new")
    r = admin_client.post("/admin/users/new", data={
        "csrf_token": token, "name": "Nguyễn Thị Bình", "email": "Binh@Example.gov.vn",
        "title": "Bộ trưởng Bộ Y tế", "organisation": "Bộ Y tế", "role": "member", "password": "mat-khau-rat-dai"})
    assert r.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "binh@example.gov.vn"))
    assert user.name == "Nguyễn Thị Bình" and user.role is Role.MEMBER
    assert user.password_hash.startswith("$argon2")
    assert db.session.scalars(select(AuditEntry.action)).all()[-1] == "user.create"


def test_create_user_with_duplicate_email_is_refused(admin_client):
    token = _form(admin_client, "/admin/users/new")
    r = admin_client.post("/admin/users/new", data={
        "csrf_token": token, "name": "X", "email": "member@example.gov.vn", "role": "member",
        "password": "mat-khau-rat-dai"})
    assert r.status_code == 200 and "Đã có người dùng với địa chỉ email này." in r.get_data(as_text=True)


@pytest.mark.parametrize("field,value", [("name", ""), ("name", "x" * 121), ("title", "t" * 201),
                                         ("password", "short"), ("role", "emperor")])
def test_create_user_bad_fields_are_form_errors(admin_client, field, value):
    data = {"name": "Người Mới", "email": "new@example.gov.vn", "role": "member", "password": "mat-khau-rat-dai"}
    data[field] = value
    r = admin_client.post("/admin/users/new", data={**data, "csrf_token": _form(admin_client, "/admin/users/new")})
    assert r.status_code == 400
    assert db.session.scalar(select(User).where(User.email == "new@example.gov.vn")) is None


def test_admin_edits_a_user_role(admin_client, users):
    member = users["member"]
    token = _form(admin_client, f"/admin/users/{member.id}")
    r = admin_client.post(f"/admin/users/{member.id}", data={
        "csrf_token": token, "name": member.name, "email": member.email, "title": "Phó Thủ tướng",
        "organisation": "Chính phủ", "role": "chair"})
    assert r.status_code == 302
    db.session.refresh(member)
    assert member.role is Role.CHAIR and member.title == "Phó Thủ tướng"


def test_admin_deactivates_and_reactivates(admin_client, users):
    member = users["member"]
    for active, expected in (("0", False), ("1", True)):
        token = _form(admin_client, "/admin/users")
        admin_client.post(f"/admin/users/{member.id}/active",
                          data={"csrf_token": token, "active": active, "confirm": "1"})
        db.session.refresh(member)
        assert member.active is expected
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "user.deactivate" in actions and "user.activate" in actions


def test_admin_cannot_deactivate_themself(admin_client, users):
    token = _form(admin_client, "/admin/users")
    r = admin_client.post(f"/admin/users/{users['admin'].id}/active",
                          data={"csrf_token": token, "active": "0", "confirm": "1"}, follow_redirects=True)
    assert "Bạn không thể tự khóa tài khoản của mình." in r.get_data(as_text=True)
    db.session.refresh(users["admin"])
    assert users["admin"].active


def test_password_reset_ends_the_users_sessions(app, client, users):
    member_client, admin = client, app.test_client()
    login(member_client, "member@example.gov.vn", PASSWORD)
    assert member_client.get("/").status_code == 200
    login(admin, "admin@example.gov.vn", PASSWORD)
    token = _form(admin, f"/admin/users/{users['member'].id}")
    admin.post(f"/admin/users/{users['member'].id}/password", data={"csrf_token": token,
                                                                    "password": "mot-mat-khau-moi"})
    assert member_client.get("/").status_code == 302
    assert login(member_client, "member@example.gov.vn", "mot-mat-khau-moi").status_code == 302


@pytest.mark.parametrize("role", ["member", "chair", "secretary", "guest"])
def test_only_admins_reach_user_pages(client, users, role):
    login(client, f"{role}@example.gov.vn", PASSWORD)
    for path in ("/admin/users", "/admin/users/new", f"/admin/users/{users['member'].id}", "/admin/roles"):
        assert client.get(path).status_code == 403, path
    token = csrf_from(client.get("/").get_data(as_text=True))
    r = client.post(f"/admin/users/{users['member'].id}/active", data={"csrf_token": token, "active": "0"})
    assert r.status_code == 403


def test_unknown_user_is_404(admin_client):
    assert admin_client.get("/admin/users/999999").status_code == 404


def test_create_admin_command(app):
    result = CliRunner().invoke(app.cli, ["ecabinet", "create-admin", "--email", "root@example.gov.vn",
                                          "--password", "mat-khau-quan-tri"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.email == "root@example.gov.vn")).role is Role.ADMIN
    again = CliRunner().invoke(app.cli, ["ecabinet", "create-admin", "--email", "root@example.gov.vn",
                                         "--password", "mat-khau-quan-tri"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_demo_is_idempotent_and_prints_logins(app):
    first = CliRunner().invoke(app.cli, ["ecabinet", "demo"])
    assert first.exit_code == 0, first.output
    assert "thutuong@ecabinet.gov.vn" in first.output and "demo-password-2026" in first.output
    count = db.session.scalar(select(db.func.count()).select_from(User))
    assert count >= 29
    members = db.session.scalar(select(db.func.count()).select_from(User).where(User.role == Role.MEMBER))
    assert 20 <= members <= 30
    second = CliRunner().invoke(app.cli, ["ecabinet", "demo"])
    assert second.exit_code == 0
    assert db.session.scalar(select(db.func.count()).select_from(User)) == count
