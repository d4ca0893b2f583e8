"""The large-text setting: each user chooses normal or large text on the account page; large puts a class
on <html> that grows the whole interface. Anything but the two sizes is refused with a clear message."""

from __future__ import annotations

import re

import pytest

from ecabinet.accounts import service
from ecabinet.accounts.models import User
from ecabinet.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import csrf_from, login


@pytest.fixture
def member_client(client, users):
    login(client, "member@example.gov.vn", PASSWORD)
    return client


def _member() -> User:
    db.session.expire_all()
    return db.session.execute(db.select(User).filter_by(email="member@example.gov.vn")).scalar_one()


def _set(client, size: str | None):
    token = csrf_from(client.get("/account").get_data(as_text=True))
    data = {"csrf_token": token} | ({"text_size": size} if size is not None else {})
    return client.post("/account/text-size", data=data)


def test_normal_text_is_the_default(member_client):
    assert _member().text_size == "normal"
    page = member_client.get("/account").get_data(as_text=True)
    assert 'class="text-large"' not in page
    normal = re.search(r'<input[^>]*value="normal"[^>]*>', page).group(0)
    assert "checked" in normal


def test_large_text_is_saved_and_put_on_every_page(member_client):
    r = _set(member_client, "large")
    assert r.status_code == 302 and r.headers["Location"].endswith("/account")
    assert _member().text_size == "large"
    assert "Đã bật chữ lớn." in member_client.get("/account").get_data(as_text=True)
    for path in ("/", "/meetings", "/account"):
        assert '<html lang="vi" class="text-large">' in member_client.get(path).get_data(as_text=True), path
    r = _set(member_client, "normal")
    assert r.status_code == 302 and _member().text_size == "normal"
    assert 'class="text-large"' not in member_client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("bad", ["huge", "LARGE", "", "large; drop table user_account", "x" * 500])
def test_an_unknown_size_is_refused_with_a_clear_message(member_client, bad):
    r = _set(member_client, bad)
    assert r.status_code == 400
    body = r.get_data(as_text=True)
    assert "Vui lòng chọn cỡ chữ trong danh sách: chữ thường hoặc chữ lớn." in body
    assert 'aria-describedby="text-size-error"' in body
    assert _member().text_size == "normal"


def test_a_missing_size_is_refused(member_client):
    r = _set(member_client, None)
    assert r.status_code == 400 and "Vui lòng chọn cỡ chữ" in r.get_data(as_text=True)


def test_the_refusal_is_in_english_for_an_english_reader(member_client):
    token = csrf_from(member_client.get("/account").get_data(as_text=True))
    member_client.post("/language/en", data={"csrf_token": token, "next": "/account"})
    r = _set(member_client, "giant")
    assert r.status_code == 400
    assert "Please choose a text size from the list: normal or large." in r.get_data(as_text=True)


def test_without_a_csrf_token_nothing_changes(member_client):
    r = member_client.post("/account/text-size", data={"text_size": "large"})
    assert r.status_code == 400 and _member().text_size == "normal"


def test_signed_out_users_cannot_set_it(client, users):
    r = client.post("/account/text-size", data={"text_size": "large"})
    assert r.status_code in (400, 401, 302)
    assert _member().text_size == "normal"


def test_the_service_refuses_an_unknown_size(users):
    user = users["member"]
    with pytest.raises(service.AccountError) as refused:
        service.set_text_size(user, "enormous")
    assert str(refused.value) == "Please choose a text size from the list: normal or large."
    db.session.rollback()
    service.set_text_size(user, "large")
    db.session.commit()
    assert _member().text_size == "large"
