"""Signing in: each refusal is its own rule, and every failure is audited."""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from ecabinet.audit.models import AuditEntry
from ecabinet.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import csrf_from, login


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_login_success_lands_on_home(client, users):
    r = login(client, "member@example.gov.vn", PASSWORD)
    assert r.status_code == 302 and r.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Test member" in home.get_data(as_text=True)
    assert "login.success" in audit_actions()


def test_login_wrong_password_is_refused_and_audited(client, users):
    r = login(client, "member@example.gov.vn", "wrong-password-123")
    assert r.status_code == 401
    assert "Email hoặc mật khẩu không đúng." in r.get_data(as_text=True)
    assert audit_actions()[-1] == "login.failed"


def test_login_unknown_user_gets_the_same_message(client, users):
    r = login(client, "nobody@example.gov.vn", PASSWORD)
    assert r.status_code == 401
    assert "Email hoặc mật khẩu không đúng." in r.get_data(as_text=True)
    assert audit_actions()[-1] == "login.failed"


def test_login_disabled_account_is_told_so(client, users):
    from ecabinet.accounts import service
    from ecabinet.core.actor import Actor

    service.set_active(Actor(users["admin"]), users["member"], False)
    db.session.commit()
    r = login(client, "member@example.gov.vn", PASSWORD)
    assert r.status_code == 401
    assert "Tài khoản này đã bị khóa" in r.get_data(as_text=True)
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "login.failed" and '"disabled"' in entry.details


def test_login_empty_fields_are_a_form_error(client, users):
    r = login(client, "", "")
    assert r.status_code == 400
    assert client.get("/").status_code == 302  # still signed out
    assert audit_actions()[-1] == "login.failed"


def test_login_overlong_fields_are_a_form_error(client, users):
    r = login(client, "a" * 5000 + "@example.gov.vn", "p" * 100_000)
    assert r.status_code == 400
    assert audit_actions()[-1] == "login.failed"


def test_login_without_csrf_token_is_refused_and_audited(client, users):
    r = client.post("/login", data={"email": "member@example.gov.vn", "password": PASSWORD})
    assert r.status_code == 400
    assert "Biểu mẫu đã hết hạn" in r.get_data(as_text=True)
    assert audit_actions()[-1] == "security.csrf_failed"


def test_login_with_stale_csrf_token_is_refused(client, users, app):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    with client.session_transaction() as s:
        s.clear()  # the token no longer matches any session
    r = client.post("/login", data={"email": "member@example.gov.vn", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 400
    assert audit_actions()[-1] == "security.csrf_failed"


def test_login_is_throttled(app, client, users):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    codes = [login(client, "member@example.gov.vn", "wrong-password-123").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    assert audit_actions()[-1] == "security.rate_limited"


def test_login_with_totp_needs_the_code(client, users):
    from ecabinet.accounts import service
    from ecabinet.core.actor import Actor

    secret = service.new_totp_secret()
    service.enable_totp(Actor(users["chair"]), users["chair"], secret, pyotp.TOTP(secret).now())
    db.session.commit()
    r = login(client, "chair@example.gov.vn", PASSWORD)
    assert r.headers["Location"] == "/login/code"
    assert client.get("/").status_code == 302  # not yet signed in
    page = client.get("/login/code").get_data(as_text=True)
    bad = client.post("/login/code", data={"code": "000000", "csrf_token": csrf_from(page)})
    assert bad.status_code == 401
    good = client.post("/login/code", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(page)})
    assert good.status_code == 302 and client.get("/").status_code == 200


def test_mandatory_totp_forces_enrolment(client, users):
    from ecabinet.accounts import service
    from ecabinet.accounts.models import Role
    from ecabinet.core.actor import Actor

    service.set_totp_required(Actor(users["admin"]), Role.SECRETARY, True)
    db.session.commit()
    r = login(client, "secretary@example.gov.vn", PASSWORD)
    assert r.headers["Location"] == "/login/enrol"
    page = client.get("/login/enrol").get_data(as_text=True)
    with client.session_transaction() as s:
        secret = s["pending_totp_secret"]
    assert secret in page
    r = client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    db.session.refresh(users["secretary"])
    assert users["secretary"].totp_secret == secret
    assert client.get("/").status_code == 200


def test_logout_ends_the_session(client, users):
    login(client, "member@example.gov.vn", PASSWORD)
    with client.session_transaction() as s:
        old_session = dict(s)
    home = client.get("/").get_data(as_text=True)
    r = client.post("/logout", data={"csrf_token": csrf_from(home)})
    assert r.status_code == 302
    # Replaying the old cookie does not work: the server revoked the session.
    with client.session_transaction() as s:
        s.update(old_session)
    assert client.get("/").status_code == 302
    assert "logout" in audit_actions()


def test_next_parameter_cannot_redirect_off_site(client, users):
    page = client.get("/login?next=//evil.example/x").get_data(as_text=True)
    r = client.post("/login?next=//evil.example/x", data={"email": "member@example.gov.vn", "password": PASSWORD,
                                                          "csrf_token": csrf_from(page)})
    assert r.headers["Location"] == "/"


def test_login_throttle_is_kept_in_redis_when_configured(db_url, redis_url):
    import redis

    from ecabinet import create_app
    from tests.conftest import IsolatedClient, make_test_config

    redis.Redis.from_url(redis_url).flushdb()
    app = create_app(make_test_config(db_url, REDIS_URL=redis_url, LOGIN_RATE_LIMIT="2 per minute"))
    app.test_client_class = IsolatedClient
    with app.app_context():
        client = app.test_client()
        codes = [login(client, "nobody@example.gov.vn", "wrong-password-123").status_code for _ in range(3)]
        assert codes == [401, 401, 429]
        assert any(b"LIMITS" in key for key in redis.Redis.from_url(redis_url).keys("*"))
        db.session.remove()
        db.engine.dispose()
