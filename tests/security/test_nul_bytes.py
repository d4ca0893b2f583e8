"""A NUL character in a query or form value: PostgreSQL can neither store nor compare one, so every route
refuses it with one clear 400 before its view runs, and nothing is stored."""

from __future__ import annotations

from sqlalchemy import func, select

from ecabinet.extensions import db
from ecabinet.organisations.models import Organisation
from tests.conftest import PASSWORD
from tests.helpers import login, post_form

REFUSED = "Nội dung không được chứa ký tự NUL"


def test_a_nul_in_a_form_field_is_refused_and_nothing_is_stored(client, users):
    login(client, "admin@example.gov.vn", PASSWORD)
    before = db.session.scalar(select(func.count()).select_from(Organisation))
    response = post_form(client, "/admin/organisations/new", {"name": "Bộ Thử", "short_name": "B\x00T"},
                         page="/admin/organisations/new")
    assert response.status_code == 400
    assert REFUSED in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == before


def test_a_nul_in_a_query_value_or_name_is_refused(client, users):
    login(client, "secretary@example.gov.vn", PASSWORD)
    for url in ("/actions?ministry=a%00b", "/archive?q=%00", "/meetings?%00=1"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert REFUSED in response.get_data(as_text=True)
    assert client.get("/actions?ministry=B%E1%BB%99").status_code == 200  # the control
