"""Background answers (the app's files, the service worker's shell) do not re-send the session cookie, so
one answered after a form's redirect cannot put back the cookie from before the form."""

from __future__ import annotations

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
