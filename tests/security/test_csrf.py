"""CSRF on every state-changing route, found from the URL map: with the token check on (as in production),
every POST, PUT, PATCH and DELETE without a valid token is refused before its view runs, and audited.
A route added later is covered without anyone listing it here."""

from __future__ import annotations

from sqlalchemy import func, select

from ecabinet.audit.models import AuditEntry
from ecabinet.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import csrf_from, login
from tests.security.test_access_matrix import _url, world  # noqa: F401 - fixture reused here

CHANGES = {"POST", "PUT", "PATCH", "DELETE"}
# Routes that carry their own proof instead of the form token, each with the test that tries to get past it.
OWN_PROOF = {
    # Janus's signalling from the browser: every POST must carry the signed-in user's own live media
    # token, and only a page's own requests about its own room pass (tests/media/test_pass_through.py).
    "media.pass_through",
}


def _csrf_failures() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "security.csrf_failed"))


def _changing_routes(app, values: dict) -> list[tuple[str, str]]:
    return [(method, _url(rule, values)) for rule in app.url_map.iter_rules()
            if rule.endpoint not in OWN_PROOF for method in sorted(rule.methods & CHANGES)]


def test_every_state_changing_route_refuses_a_missing_or_forged_token(app, client, world):  # noqa: F811
    assert app.config.get("WTF_CSRF_ENABLED", True), "the token check must be on, as in production"
    routes = _changing_routes(app, world)
    assert len(routes) > 40  # the walk found the app's forms, not an empty map
    login(client, "secretary@example.gov.vn", PASSWORD)
    # A token that is valid, but for another session: what a forged cross-site form would carry.
    other = app.test_client()
    forged = csrf_from(other.get("/login").get_data(as_text=True))
    for token in (None, forged, "not-a-token"):
        for method, url in routes:
            before = _csrf_failures()
            data = {} if token is None else {"csrf_token": token}
            headers = {} if token is None else {"X-CSRFToken": token}
            response = client.open(url, method=method, data=data, headers=headers)
            assert response.status_code == 400, (method, url, token, response.status_code)
            assert _csrf_failures() == before + 1, (method, url, "refused, but not by the token check")
    # The refused logout did not end the session.
    assert client.get("/").status_code == 200


def test_a_valid_token_passes_the_check(app, client, world):  # noqa: F811
    """The control: with the session's own token, no route is refused by the token check (its policy and
    rules still decide), so the refusals above are the token's doing."""
    login(client, "secretary@example.gov.vn", PASSWORD)
    token = csrf_from(client.get("/").get_data(as_text=True))
    before = _csrf_failures()
    for method, url in _changing_routes(app, world):
        if url == "/logout":
            continue
        client.open(url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
    assert _csrf_failures() == before


def test_over_https_a_foreign_referer_is_refused_even_with_the_token(production_client):
    """In production (HTTPS) the token must also come with a Referer from this site."""
    client = production_client
    token = csrf_from(client.get("/login", base_url="https://localhost").get_data(as_text=True))
    form = {"email": "member@example.gov.vn", "password": PASSWORD, "csrf_token": token}
    for referer, status in (("https://evil.example/login", 400), (None, 400), ("https://localhost/login", 302)):
        headers = {"Referer": referer} if referer else {}
        assert client.post("/login", base_url="https://localhost", headers=headers, data=form).status_code == status
