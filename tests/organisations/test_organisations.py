"""The list of organisations through HTTP: administrators and the secretariat add, rename, reorder and
deactivate; everyone else is refused; bad input gets a clear message on the form, never an error page."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from ecabinet.audit.models import AuditEntry
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from ecabinet.organisations import service
from ecabinet.organisations.models import Organisation
from ecabinet.organisations.service import OrganisationData
from tests.conftest import PASSWORD
from tests.helpers import csrf_from, login

ROW = re.compile(r'data-testid="organisation-row">\s*<td[^>]*>\d+</td>\s*'
                 r'<td><a class="target-link" href="[^"]+">([^<]+)</a>')


@pytest.fixture
def ministries(app):
    system = Actor.system("test")
    made = [service.create(system, OrganisationData(name=name, short_name=short))
            for name, short in (("Bộ Quốc phòng", "BQP"), ("Bộ Công an", "BCA"), ("Bộ Ngoại giao", "BNG"))]
    db.session.commit()
    return made


def _signed_in(client, users, role: str):
    login(client, f"{role}@example.gov.vn", PASSWORD)
    return client


def _post(client, path: str, data: dict, page: str = "/admin/organisations"):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def _names(client) -> list[str]:
    return [html.unescape(n) for n in ROW.findall(client.get("/admin/organisations").get_data(as_text=True))]


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("organisation.%"))
                                   .order_by(AuditEntry.id)))


@pytest.mark.parametrize("role", ["admin", "secretary"])
def test_managers_add_an_organisation_at_the_end_of_the_list(client, users, ministries, role):
    _signed_in(client, users, role)
    response = _post(client, "/admin/organisations/new", {"name": "  Bộ   Tư pháp ", "short_name": "BTP"},
                     page="/admin/organisations/new")
    assert response.status_code == 302
    assert _names(client) == ["Bộ Quốc phòng", "Bộ Công an", "Bộ Ngoại giao", "Bộ Tư pháp"]
    added = db.session.scalar(select(Organisation).where(Organisation.name == "Bộ Tư pháp"))
    assert added.short_name == "BTP" and added.active
    assert _actions()[-1] == "organisation.create"


def test_an_organisation_is_renamed_and_linked_users_follow(client, users, ministries):
    from ecabinet.accounts.models import User

    member = users["member"]
    member.organisation_id, member.organisation = ministries[2].id, ministries[2].name
    db.session.commit()
    _signed_in(client, users, "admin")
    page = f"/admin/organisations/{ministries[2].id}"
    assert 'value="Bộ Ngoại giao"' in client.get(page).get_data(as_text=True)
    response = _post(client, page, {"name": "Bộ Ngoại giao (mới)", "short_name": "BNG"}, page=page)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, ministries[2].id).name == "Bộ Ngoại giao (mới)"
    assert db.session.get(User, member.id).organisation == "Bộ Ngoại giao (mới)"
    assert _actions()[-1] == "organisation.update"


def test_a_duplicate_name_is_refused_on_the_form(client, users, ministries):
    _signed_in(client, users, "admin")
    response = _post(client, "/admin/organisations/new", {"name": "bộ công AN"}, page="/admin/organisations/new")
    assert response.status_code == 400
    assert "Đã có cơ quan tên “bộ công AN”." in html.unescape(response.get_data(as_text=True))
    page = f"/admin/organisations/{ministries[0].id}"
    response = _post(client, page, {"name": "Bộ Ngoại giao"}, page=page)
    assert response.status_code == 400
    assert "Đã có cơ quan tên “Bộ Ngoại giao”." in html.unescape(response.get_data(as_text=True))
    assert _names(client) == ["Bộ Quốc phòng", "Bộ Công an", "Bộ Ngoại giao"]


@pytest.mark.parametrize(("data", "message"), [
    ({"name": ""}, "Vui lòng nhập trường này."),
    ({"name": "   "}, "Vui lòng nhập trường này."),
    ({"name": "x" * 201}, "Trường này chỉ được tối đa 200 ký tự."),
    ({"name": "Bộ Y tế", "short_name": "y" * 61}, "Trường này chỉ được tối đa 60 ký tự."),
])
def test_bad_input_gets_a_clear_message_not_an_error_page(client, users, data, message):
    _signed_in(client, users, "secretary")
    response = _post(client, "/admin/organisations/new", data, page="/admin/organisations/new")
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(Organisation)) is None


def test_deactivating_asks_first_and_takes_it_out_of_the_pickers(client, users, ministries):
    _signed_in(client, users, "admin")
    target = ministries[1]
    # A post without the confirmation's flag only leads to the confirmation page.
    response = _post(client, f"/admin/organisations/{target.id}/active", {"active": "0"})
    assert response.status_code == 302 and response.location.endswith(f"/admin/organisations/{target.id}/deactivate")
    page = client.get(f"/admin/organisations/{target.id}/deactivate").get_data(as_text=True)
    assert "Ngừng hoạt động Bộ Công an?" in html.unescape(page)
    _post(client, f"/admin/organisations/{target.id}/active", {"active": "0", "confirm": "1"})
    db.session.expire_all()
    assert not db.session.get(Organisation, target.id).active
    assert _actions()[-1] == "organisation.deactivate"
    offered = re.findall(r'<option value="\d+">([^<]+)</option>', client.get("/admin/users/new").get_data(as_text=True))
    assert "Bộ Quốc phòng (BQP)" in offered and "Bộ Công an (BCA)" not in offered
    # And back.
    _post(client, f"/admin/organisations/{target.id}/active", {"active": "1"})
    db.session.expire_all()
    assert db.session.get(Organisation, target.id).active


def test_move_up_and_down(client, users, ministries):
    _signed_in(client, users, "secretary")
    _post(client, f"/admin/organisations/{ministries[2].id}/move", {"direction": "up"})
    assert _names(client) == ["Bộ Quốc phòng", "Bộ Ngoại giao", "Bộ Công an"]
    _post(client, f"/admin/organisations/{ministries[0].id}/move", {"direction": "down"})
    assert _names(client) == ["Bộ Ngoại giao", "Bộ Quốc phòng", "Bộ Công an"]
    # The first cannot go further up: nothing changes, nothing breaks.
    response = _post(client, f"/admin/organisations/{ministries[2].id}/move", {"direction": "up"})
    assert response.status_code == 302
    assert _names(client) == ["Bộ Ngoại giao", "Bộ Quốc phòng", "Bộ Công an"]
    response = _post(client, f"/admin/organisations/{ministries[2].id}/move", {"direction": "sideways"})
    assert response.status_code == 302
    assert _actions().count("organisation.move") == 2


@pytest.mark.parametrize("role", ["member", "chair", "guest"])
def test_others_are_refused(client, users, ministries, role):
    _signed_in(client, users, role)
    target = ministries[0].id
    assert client.get("/admin/organisations").status_code == 403
    assert client.get("/admin/organisations/new").status_code == 403
    assert client.get(f"/admin/organisations/{target}").status_code == 403
    token = csrf_from(client.get("/account").get_data(as_text=True))
    for path, data in ((f"/admin/organisations/{target}/move", {"direction": "down"}),
                       (f"/admin/organisations/{target}/active", {"active": "0", "confirm": "1"}),
                       ("/admin/organisations/new", {"name": "Bộ mới"}),
                       (f"/admin/organisations/{target}", {"name": "Đổi tên"})):
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403
    db.session.expire_all()
    assert [o.name for o in service.list_organisations()] == ["Bộ Quốc phòng", "Bộ Công an", "Bộ Ngoại giao"]
    assert all(o.active for o in service.list_organisations())


def test_unknown_organisation_is_not_found(client, users):
    _signed_in(client, users, "admin")
    assert client.get("/admin/organisations/999999").status_code == 404
    assert client.get("/admin/organisations/99999999999999").status_code == 404


def test_the_audit_log_tells_organisation_changes_in_words(client, users, ministries):
    _signed_in(client, users, "admin")
    _post(client, f"/admin/organisations/{ministries[1].id}/move", {"direction": "up"})
    page = html.unescape(client.get("/admin/audit/").get_data(as_text=True))
    assert "đã thêm cơ quan «Bộ Công an»" in page
    assert "đã chuyển cơ quan «Bộ Công an» đến vị trí 1" in page
