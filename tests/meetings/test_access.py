"""Every route of the meetings capability, for every role: the expected answer, and never a 500.

CSRF is switched off here so that the policy, not the token, decides each POST; each role works on a
meeting of its own, so that what one role changes does not affect the next.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ecabinet.extensions import db
from ecabinet.meetings import service
from tests.conftest import PASSWORD
from tests.helpers import login
from tests.meetings.conftest import SYSTEM, actor, make_outsider

ROLES = ["anonymous", "guest", "member", "chair", "secretary", "admin", "outsider"]
SEES_MEETING = {"guest", "member", "chair", "secretary"}

EVERYONE = set(ROLES) - {"anonymous"}
VIEWERS = SEES_MEETING
SECRETARY = {"secretary"}
CHAIR = {"chair"}
MEMBERS = {"member", "chair"}

# endpoint -> roles allowed. Refused roles get 404 when they may not see the meeting, else 403.
ALLOWED: dict[str, set[str]] = {
    "meetings.index": EVERYONE,
    "meetings.create": SECRETARY,
    "meetings.show": VIEWERS,
    "meetings.calendar": VIEWERS,
    "meetings.seen": VIEWERS,
    "meetings.item": VIEWERS,
    "meetings.edit": SECRETARY,
    "meetings.copy": SECRETARY,
    "meetings.publish": SECRETARY,
    "meetings.item_add": SECRETARY,
    "meetings.item_edit": SECRETARY,
    "meetings.item_move": SECRETARY,
    "meetings.reorder": SECRETARY,
    "meetings.bulk": SECRETARY,
    "meetings.guest_add": SECRETARY,
    "meetings.guest_remove": SECRETARY,
    "meetings.participant_add": SECRETARY,
    "meetings.participant_remove": SECRETARY,
    "meetings.item_delete": SECRETARY,
    "meetings.step": CHAIR,
    "meetings.consent": CHAIR,
    "meetings.substitute_vote": CHAIR,
    "meetings.position": MEMBERS,
    "meetings.interest": MEMBERS,
    "meetings.respond": MEMBERS,
    "meetings.check_in": MEMBERS | SECRETARY,
    "meetings.check_out": MEMBERS | SECRETARY,
    "meetings.participants": MEMBERS | SECRETARY,
    "meetings.positions": CHAIR | SECRETARY,
    # the secretariat's bulk work
    "meetings.participants_add_many": SECRETARY,
    "meetings.participants_add_ministry": SECRETARY,
    "meetings.participants_check_in": SECRETARY,
    "meetings.participants_invite": SECRETARY,
    "meetings.participants_remind": SECRETARY,
    "meetings.import_items": SECRETARY,
    "meetings.import_confirm": SECRETARY,
    "meetings.templates": SECRETARY,
    "meetings.template_edit": SECRETARY,
    "meetings.template_use": SECRETARY,
    "meetings.template_delete": SECRETARY,
    # a person's calendar subscription: anyone signed in, for themselves
    "meetings.calendar_feed": EVERYONE,
    "meetings.make_calendar_feed": EVERYONE,
    "meetings.revoke_calendar_feed": EVERYONE,
    # the feed itself: public, its token is the key (a wrong one finds nothing)
    "meetings.calendar_subscription": set(ROLES),
}
PUBLIC = {"meetings.calendar_subscription"}
# Routes of no meeting: a refused role is told 403, whether it sees the meeting or not.
NO_MEETING = {"meetings.create", "meetings.templates", "meetings.template_edit", "meetings.template_use",
              "meetings.template_delete", "meetings.calendar_feed", "meetings.make_calendar_feed",
              "meetings.revoke_calendar_feed"}

# Changes that would spoil the later requests of the same role go last.
LAST = ["meetings.participant_remove", "meetings.guest_remove", "meetings.step", "meetings.item_delete",
        "meetings.template_delete"]


def _setup(cabinet):
    meeting = service.create_meeting(actor(cabinet["secretary"]), service.MeetingData(
        title="Access", starts_at=datetime(2031, 1, 6, 1, tzinfo=UTC), ends_at=datetime(2031, 1, 6, 3, tzinfo=UTC),
        chair_id=cabinet["chair"].id))
    a = service.add_item(SYSTEM, meeting, service.ItemData(title="A"))
    b = service.add_item(SYSTEM, meeting, service.ItemData(title="B"))
    service.publish(SYSTEM, meeting)
    service.invite_guest(SYSTEM, b, cabinet["guest"])
    service.template_from_meeting(SYSTEM, meeting, f"Access {meeting.id}")
    db.session.commit()
    return meeting, a, b


def _url(app, endpoint, meeting, item, cabinet) -> tuple[str, list[str]]:
    from flask import url_for

    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    args = {}
    if "meeting_id" in rule.arguments:
        args["meeting_id"] = meeting.id
    if "item_id" in rule.arguments:
        args["item_id"] = item.id
    if "participant_id" in rule.arguments:
        who = "guest" if endpoint == "meetings.guest_remove" else "member"
        args["participant_id"] = service.participant_of(meeting, cabinet[who]).id
    if "step" in rule.arguments:
        args["step"] = "start"
    if "token" in rule.arguments:
        args["token"] = "not-a-calendar-token"
    if "template_id" in rule.arguments:
        args["template_id"] = service.list_templates()[-1].id
    with app.test_request_context():
        return url_for(endpoint, **args), sorted(rule.methods - {"HEAD", "OPTIONS"})


def test_every_meetings_route_is_listed():
    from ecabinet import create_app

    endpoints = {r.endpoint for r in create_app({"TESTING": True}).url_map.iter_rules()
                 if r.endpoint.startswith("meetings.")}
    assert endpoints == set(ALLOWED)


@pytest.mark.parametrize("role", ROLES)
def test_access_for_role(app, cabinet, role):
    app.config["WTF_CSRF_ENABLED"] = False
    meeting, _a, b = _setup(cabinet)
    people = {**cabinet, "outsider": make_outsider()}  # created after the meeting: not invited
    from tests.conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    client = app.test_client()
    if role != "anonymous":
        assert login(client, people[role].email, PASSWORD).status_code == 302
    endpoints = sorted(ALLOWED, key=lambda e: (e in LAST, LAST.index(e) if e in LAST else 0, e))
    failures = []
    for endpoint in endpoints:
        url, methods = _url(app, endpoint, meeting, b, cabinet)
        for method in methods:
            r = client.open(url, method=method, data={})
            if endpoint in PUBLIC:
                expected = {404}
            elif role == "anonymous":
                expected = {302} if method == "GET" else {401}
            elif role in ALLOWED[endpoint]:
                expected = {200, 302, 400}
            else:
                expected = {404} if role not in SEES_MEETING and endpoint not in NO_MEETING else {403}
            if r.status_code not in expected:
                failures.append(f"{method} {url} as {role}: {r.status_code}, expected {sorted(expected)}")
    assert not failures, "\n".join(failures)


def test_guest_opening_an_item_they_are_not_invited_to_gets_404(app, client, cabinet):
    meeting, a, b = _setup(cabinet)
    login(client, cabinet["guest"].email, PASSWORD)
    assert client.get(f"/meetings/{meeting.id}/items/{b.id}").status_code == 200
    assert client.get(f"/meetings/{meeting.id}/items/{a.id}").status_code == 404
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "B" in page and f"item-{a.id}" not in page


def test_member_not_invited_gets_404_on_the_meeting(app, client, cabinet):
    meeting, a, _b = _setup(cabinet)
    outsider = make_outsider()
    login(client, outsider.email, PASSWORD)
    assert client.get(f"/meetings/{meeting.id}").status_code == 404
    assert client.get(f"/meetings/{meeting.id}/items/{a.id}").status_code == 404


def test_draft_is_hidden_from_members(app, client, cabinet):
    meeting, _a, _b = _setup(cabinet)
    draft = service.copy_meeting(SYSTEM, meeting)
    login(client, cabinet["member"].email, PASSWORD)
    assert client.get(f"/meetings/{draft.id}").status_code == 404
