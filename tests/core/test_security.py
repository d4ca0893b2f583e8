"""The security baseline: headers, cookies, error pages, and a policy decision on every route."""

from __future__ import annotations

from ecabinet.core.policy import POLICY_ATTR
from tests.conftest import PASSWORD
from tests.helpers import login


def test_every_route_has_a_policy_decision(app):
    missing = [rule.endpoint for rule in app.url_map.iter_rules()
               if rule.endpoint != "static" and not hasattr(app.view_functions[rule.endpoint], POLICY_ATTR)]
    assert missing == [], f"routes without @guard or @public: {missing}"


def test_csp_is_strict(client):
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp


def test_pages_carry_security_headers(client):
    headers = client.get("/login").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert headers["Cache-Control"] == "no-store"


def test_no_inline_script_or_style_in_pages(client, users):
    login(client, "admin@example.gov.vn", PASSWORD)
    for path in ("/", "/admin/users", "/account", "/admin/audit/", "/admin/roles"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and " style=" not in html and "<style" not in html, path
        assert " onclick=" not in html and " onsubmit=" not in html, path


def test_session_cookie_flags_in_production_config(db_url, monkeypatch):
    from ecabinet import create_app

    monkeypatch.delenv("SESSION_COOKIE_SECURE")
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "LOGIN_RATE_LIMIT": "1000 per minute"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost")
    cookie = page.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_unknown_page_is_a_plain_404(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert "Trang này không tồn tại" in r.get_data(as_text=True)


def test_server_error_leaks_nothing(app, client):
    @app.route("/boom-for-test")
    def boom():
        raise RuntimeError("secret internal detail /srv/db password=hunter2")

    setattr(boom, POLICY_ATTR, "public")
    r = client.get("/boom-for-test")
    body = r.get_data(as_text=True)
    assert r.status_code == 500
    assert "hunter2" not in body and "Traceback" not in body and "RuntimeError" not in body


def test_anonymous_is_sent_to_login(client):
    r = client.get("/admin/users")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=")


def test_post_without_login_is_401(client):
    from tests.helpers import csrf_from

    token = csrf_from(client.get("/login").get_data(as_text=True))
    assert client.post("/admin/users/1/active", data={"csrf_token": token}).status_code == 401


def test_language_switch_to_english(client, users):
    from tests.helpers import csrf_from

    login(client, "member@example.gov.vn", PASSWORD)
    assert "Xin chào" in client.get("/").get_data(as_text=True)
    token = csrf_from(client.get("/").get_data(as_text=True))
    client.post("/language/en", data={"csrf_token": token, "next": "/"})
    assert "Welcome, Test member" in client.get("/").get_data(as_text=True)
