"""Every cookie the app sets, in the production configuration, carries Secure, HttpOnly and SameSite: the
anonymous session of the login page, the signed-in session, and the one after switching language.
(The login page alone: tests/core/test_security.py.)"""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.helpers import csrf_from

HTTPS = "https://localhost"


def test_every_cookie_carries_its_flags(production_client):
    client = production_client
    cookies: list[str] = []

    def keep(response):  # noqa: ANN001, ANN202
        cookies.extend(response.headers.getlist("Set-Cookie"))
        return response

    page = keep(client.get("/login", base_url=HTTPS))
    # Over HTTPS the token check also wants a Referer from this site (Flask-WTF's SSL-strict mode).
    token = csrf_from(page.get_data(as_text=True))
    form = {"email": "member@example.gov.vn", "password": PASSWORD, "csrf_token": token}
    keep(client.post("/login", base_url=HTTPS, headers={"Referer": HTTPS + "/login"}, data=form))
    home = keep(client.get("/", base_url=HTTPS))
    assert home.status_code == 200, "signed in"
    form = {"csrf_token": csrf_from(home.get_data(as_text=True)), "next": "/"}
    keep(client.post("/language/en", base_url=HTTPS, headers={"Referer": HTTPS + "/"}, data=form))
    assert len(cookies) >= 2
    for cookie in cookies:
        assert "; Secure" in cookie and "; HttpOnly" in cookie and "; SameSite=Lax" in cookie, cookie
