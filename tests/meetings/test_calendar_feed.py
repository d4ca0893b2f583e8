"""A person's calendar subscription: a private address of an .ics feed of their meetings, read by a
calendar program without a session; revocable, renewable, and carrying no agenda."""

from __future__ import annotations

import re

import pytest
from icalendar import Calendar

from ecabinet.extensions import db
from ecabinet.meetings.models import Confidentiality
from tests.conftest import PASSWORD
from tests.helpers import login, post_form
from tests.meetings.conftest import make_outsider


def _make(client, email: str | None) -> str:
    if email:
        login(client, email, PASSWORD)
    answer = post_form(client, "/meetings/calendar", {}, page="/meetings/calendar")
    assert answer.status_code == 200
    address = re.search(r'value="http[^"]*(/calendar/[^"]+\.ics)"', answer.get_data(as_text=True))
    assert address, answer.get_data(as_text=True)[-2000:]
    return address.group(1)


def test_a_member_subscribes_and_the_feed_holds_their_meetings_in_their_zone(app, client, published, cabinet):
    published.items[0].confidentiality = Confidentiality.CONFIDENTIAL
    db.session.commit()
    path = _make(client, "member@example.gov.vn")
    calendar_program = app.test_client()  # no session: a phone's calendar
    answer = calendar_program.get(path)
    assert answer.status_code == 200 and answer.mimetype == "text/calendar"
    assert answer.headers["Cache-Control"] == "private, no-store"
    body = answer.get_data(as_text=True)
    calendar = Calendar.from_ical(body)
    events = calendar.walk("VEVENT")
    assert [str(e["summary"]) for e in events] == [published.title]
    start = events[0].decoded("dtstart")
    assert str(start.tzinfo) == "Asia/Ho_Chi_Minh"
    assert f"DTSTART;TZID=Asia/Ho_Chi_Minh:{start.strftime('%Y%m%dT%H%M%S')}" in body
    # The agenda never leaves: no item title, confidential or not.
    assert all(item.title not in body for item in published.items)
    # The page says a calendar has read it.
    assert "Lần gần nhất" in client.get("/meetings/calendar").get_data(as_text=True)


def test_someone_not_invited_sees_nothing_of_the_meeting(app, client, published, cabinet):
    make_outsider()
    path = _make(client, "outsider@example.gov.vn")
    body = app.test_client().get(path).get_data(as_text=True)
    assert published.title not in body and "VCALENDAR" in body


def test_a_new_address_stops_the_old_and_revoking_stops_both(app, client, published, cabinet):
    first = _make(client, "member@example.gov.vn")
    second = _make(client, None)
    program = app.test_client()
    assert program.get(first).status_code == 404
    assert program.get(second).status_code == 200
    assert post_form(client, "/meetings/calendar/revoke", {}, page="/meetings/calendar").status_code == 302
    assert program.get(second).status_code == 404


def test_a_deactivated_account_has_no_feed(app, client, published, cabinet):
    from ecabinet.accounts import service as accounts
    from tests.meetings.conftest import actor

    path = _make(client, "member@example.gov.vn")
    accounts.set_active(actor(cabinet["admin"]), cabinet["member"], False)
    db.session.commit()
    assert app.test_client().get(path).status_code == 404


@pytest.mark.parametrize("token", ["x", "%00", "a" * 400, "..%2F..%2Fetc", "%E2%80%AE"])
def test_odd_addresses_are_not_found(app, token):
    assert app.test_client().get(f"/calendar/{token}.ics").status_code == 404
