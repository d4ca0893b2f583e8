"""Background answers (the app's files, the service worker's shell, the JSON a page's script asks for by
itself) do not re-send the session cookie, so one answered after a form's redirect cannot put back the
cookie from before the form."""

from __future__ import annotations

import pytest
from flask import session

from ecabinet.core.session_cookie import BACKGROUND_ENDPOINTS, BACKGROUND_JSON
from tests.conftest import PASSWORD
from tests.helpers import login


def _sets_cookie(response) -> bool:  # noqa: ANN001
    return any(h.startswith("ecabinet_session=") for h in response.headers.getlist("Set-Cookie"))


def test_files_and_the_shell_leave_the_cookie_alone_and_pages_refresh_it(client, users):
    login(client, "member@example.gov.vn", PASSWORD)
    for path in ("/static/css/app.css", "/sw.js", "/offline", "/manifest.webmanifest"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not _sets_cookie(response), path
    assert _sets_cookie(client.get("/"))  # a page the reader opens keeps the sign-in alive


def test_a_message_set_by_a_form_survives_a_background_answer(client, users):
    login(client, "member@example.gov.vn", PASSWORD)
    before = client.get_cookie("ecabinet_session").value
    client.set_cookie("ecabinet_session", before)
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Đã lưu")]
    after_form = client.get_cookie("ecabinet_session").value
    # A stylesheet requested before the form, answered after it: sent with the older cookie.
    client.set_cookie("ecabinet_session", before)
    response = client.get("/static/css/app.css")
    client.set_cookie("ecabinet_session", after_form if not _sets_cookie(response) else before)
    assert "Đã lưu" in client.get("/").get_data(as_text=True)


def _check_in(client):  # noqa: ANN001, ANN202
    """The offline pack's check-in as static/js/offline.js makes it: a fresh token, then the POST."""
    token = client.get("/offline/token", headers={"Accept": "application/json"})
    assert token.status_code == 200
    answer = client.post("/offline/check-in", json={"device": 999999, "holdings": []},
                         headers={"X-CSRFToken": token.json["csrf"], "Accept": "application/json"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.is_json
    return answer


def test_every_background_endpoint_is_one_of_the_apps(app):
    """A renamed view would otherwise silently send the cookie again."""
    assert BACKGROUND_ENDPOINTS <= set(app.view_functions)


@pytest.mark.parametrize("endpoint", sorted(BACKGROUND_JSON))
def test_a_background_json_answer_sends_the_cookie_only_when_it_changed_the_session(app, endpoint):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    path = rule.build(dict.fromkeys(rule.arguments, 1))[1]
    method = "POST" if "POST" in rule.methods else "GET"
    with app.test_request_context(path, method=method):
        session["_user_id"] = "1"
        session.permanent = True
        session.modified = False  # as the signed-in request arrives
        assert not app.session_interface.should_set_cookie(app, session)
        session["csrf_token"] = "new"  # the request stored something: the browser must get it
        assert app.session_interface.should_set_cookie(app, session)


def test_the_offline_check_in_leaves_the_cookie_alone(client, users):
    login(client, "member@example.gov.vn", PASSWORD)
    client.get("/offline/token")  # the session's CSRF token, stored once (that answer carries it)
    assert not _sets_cookie(_check_in(client))
    assert _sets_cookie(client.get("/"))


def test_a_message_set_by_a_form_survives_a_check_in_answered_after_it(client, users):
    login(client, "member@example.gov.vn", PASSWORD)
    client.get("/offline/token")
    before = client.get_cookie("ecabinet_session").value
    with client.session_transaction() as form_session:
        form_session["_flashes"] = [("info", "Đã lưu")]
    after_form = client.get_cookie("ecabinet_session").value
    # The check-in sent before the form, answered after it: sent with the older cookie.
    client.set_cookie("ecabinet_session", before)
    response = _check_in(client)
    client.set_cookie("ecabinet_session", after_form if not _sets_cookie(response) else before)
    assert "Đã lưu" in client.get("/").get_data(as_text=True)


def test_a_sockets_events_use_its_handshake_session_without_decoding_the_cookie_again(app, client, users,
                                                                                     monkeypatch):
    from ecabinet.accounts.auth import TOKEN_KEY
    from ecabinet.core.session_cookie import SessionCookie
    from ecabinet.extensions import socketio

    login(client, "member@example.gov.vn", PASSWORD)
    tablet = socketio.test_client(app, flask_test_client=client, headers={"Origin": "http://localhost"})
    assert tablet.is_connected()
    decoded, seen = [], []
    serializer = SessionCookie.get_signing_serializer
    monkeypatch.setattr(SessionCookie, "get_signing_serializer",
                        lambda self, app: decoded.append(1) or serializer(self, app))

    @socketio.on("test.session_probe")
    def probe(data=None):  # noqa: ANN001, ANN202
        seen.append(bool(session.get(TOKEN_KEY)))
        return True

    try:
        for _ in range(3):
            assert tablet.emit("test.session_probe", {}, callback=True) is True
    finally:
        socketio.server.handlers["/"].pop("test.session_probe", None)
        tablet.disconnect()
    assert seen == [True, True, True]  # the handshake's session, sign-in token and all
    assert decoded == []
