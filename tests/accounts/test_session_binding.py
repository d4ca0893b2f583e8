"""A sign-in session is held to the browser it was made in, not to an address.

A cookie replayed from another browser is refused on a page, on a download and on a socket, the session
it came from is revoked, and the replay is audited with both User-Agents. The same cookie from the same
browser at another address (a tablet moving from the room's Wi-Fi to 4G) goes on working; the new
address becomes the session's ``ip`` and the move is audited.
"""

from __future__ import annotations

import contextvars
import json

import pytest
from flask.globals import _cv_app
from sqlalchemy import select

from ecabinet.accounts.models import UserSession
from ecabinet.audit.models import AuditEntry
from ecabinet.extensions import db
from tests.conftest import PASSWORD, IsolatedClient
from tests.helpers import login
from tests.meetings.conftest import cabinet, draft, published  # noqa: F401 - fixtures reused here

TABLET = ("Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/126.0.6478.122 Safari/537.36")
TABLET_UPDATED = TABLET.replace("Chrome/126.0.6478.122", "Chrome/127.0.6533.64").replace("Android 13", "Android 14")
OTHER_BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
WIFI, MOBILE, ELSEWHERE = "10.20.0.15", "100.64.7.9", "203.0.113.66"
ORIGIN = {"Origin": "http://localhost"}


def device(app, user_agent: str, address: str):
    """A test client that speaks as one browser from one address (its sockets too: Flask-SocketIO's test
    client builds the handshake from it)."""
    app.test_client_class = IsolatedClient  # each request in an app context (and g) of its own
    browser = app.test_client()
    browser.environ_base.update(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    return browser


def signed_in_tablet(app, email: str = "member@example.gov.vn"):
    tablet = device(app, TABLET, WIFI)
    assert login(tablet, email, PASSWORD).status_code == 302
    return tablet


def with_cookie_of(source, target):
    """``target`` now carries the session cookie ``source`` was given."""
    name = source.application.config["SESSION_COOKIE_NAME"]
    cookie = source.get_cookie(name)
    target.set_cookie(name, cookie.value, domain=cookie.domain or "localhost")
    return target


def open_socket(app, browser, user_agent: str):
    """A socket from this browser, its handshake in an app context of its own, as the server gives it."""
    db.session.rollback()

    def isolated():
        _cv_app.set(None)
        return app.extensions["socketio"].test_client(app, flask_test_client=browser,
                                                      headers={**ORIGIN, "User-Agent": user_agent})

    return contextvars.copy_context().run(isolated)


def the_session(email: str = "member@example.gov.vn") -> UserSession:
    db.session.rollback()  # see what the requests committed
    rows = db.session.scalars(select(UserSession).join(UserSession.user).order_by(UserSession.id.desc()))
    return next(r for r in rows if r.user.email == email)


def entries(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def assert_replay_recorded(row: UserSession) -> None:
    assert row.revoked_at is not None
    [entry] = entries("security.session_replayed")
    # By nobody signed in, from where the copy was used, about the user whose cookie it was.
    assert (entry.object_type, entry.object_id, entry.actor_id, entry.ip) == ("user", str(row.user_id), None,
                                                                               ELSEWHERE)
    assert json.loads(entry.details) == {"session_id": row.id, "signed_in_with": TABLET[:120],
                                         "replayed_with": OTHER_BROWSER[:120]}


def test_a_cookie_replayed_from_another_browser_is_refused_on_a_page(app, users):
    tablet = signed_in_tablet(app)
    assert tablet.get("/account").status_code == 200
    thief = with_cookie_of(tablet, device(app, OTHER_BROWSER, ELSEWHERE))

    r = thief.get("/account")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")  # anonymous
    assert_replay_recorded(the_session())
    # The copy is worthless, and the session it was copied from is over: its owner signs in again.
    assert thief.get("/account").status_code == 302
    assert tablet.get("/account").status_code == 302
    assert len(entries("security.session_replayed")) == 1


def test_a_cookie_replayed_from_another_browser_is_refused_on_a_download(app, published):  # noqa: F811
    tablet = signed_in_tablet(app)
    url = f"/meetings/{published.id}/calendar.ics"
    assert tablet.get(url).status_code == 200
    thief = with_cookie_of(tablet, device(app, OTHER_BROWSER, ELSEWHERE))

    r = thief.get(url)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert b"BEGIN:VCALENDAR" not in r.data
    assert_replay_recorded(the_session())
    assert tablet.get(url).status_code == 302


def test_a_cookie_replayed_from_another_browser_is_refused_on_a_socket(app, users):
    tablet = signed_in_tablet(app)
    own = open_socket(app, tablet, TABLET)
    assert own.is_connected()
    own.disconnect()
    thief = with_cookie_of(tablet, device(app, OTHER_BROWSER, ELSEWHERE))

    replayed = open_socket(app, thief, OTHER_BROWSER)
    assert not replayed.is_connected()
    assert_replay_recorded(the_session())
    again = open_socket(app, tablet, TABLET)
    assert not again.is_connected()  # the session it came from is over


def test_the_same_browser_roaming_to_another_address_stays_signed_in(app, published):  # noqa: F811
    tablet = signed_in_tablet(app)
    assert the_session().ip == WIFI
    # The same tablet on 4G: the same cookie and browser (updated meanwhile), another address.
    on_4g = with_cookie_of(tablet, device(app, TABLET_UPDATED, MOBILE))

    assert on_4g.get("/account").status_code == 200
    assert on_4g.get(f"/meetings/{published.id}/calendar.ics").status_code == 200
    sio = open_socket(app, on_4g, TABLET_UPDATED)
    assert sio.is_connected()
    sio.disconnect()

    row = the_session()
    assert row.revoked_at is None and row.ip == MOBILE  # the last address
    [moved] = entries("session.address_changed")  # recorded once, not on every request
    assert (moved.actor_id, moved.ip) == (row.user_id, MOBILE)
    assert json.loads(moved.details) == {"session_id": row.id, "from": WIFI, "to": MOBILE}
    assert entries("security.session_replayed") == []
    # Back on the Wi-Fi: still the same session, and that move is recorded too.
    assert tablet.get("/account").status_code == 200
    assert the_session().ip == WIFI
    assert [json.loads(e.details)["to"] for e in entries("session.address_changed")] == [MOBILE, WIFI]


@pytest.mark.parametrize("agent", ["", "curl/8.5.0"])
def test_a_replay_without_a_browser_is_refused_too(app, users, agent):
    tablet = signed_in_tablet(app)
    replayed = with_cookie_of(tablet, device(app, agent, WIFI))
    assert replayed.get("/account").status_code == 302
    assert the_session().revoked_at is not None
