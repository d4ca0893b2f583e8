"""The access matrix, built from the app's own URL map and Socket.IO registry, crossed with every role
and with "a member of another meeting". A route added later without a policy decision, or with an
argument this matrix cannot fill, fails here."""

from __future__ import annotations

import pytest

from ecabinet.core.policy import EVENT_RULES, POLICY_ATTR
from tests.conftest import PASSWORD
from tests.helpers import login
from tests.meetings.conftest import actor, make_outsider

ROLES = ["anonymous", "guest", "member", "chair", "secretary", "admin", "outsider"]


@pytest.fixture
def world(published, cabinet):
    """A meeting in session with a guest on its first item, and one id for every kind of URL argument."""
    from ecabinet.meetings import service

    first = published.items[0]
    service.invite_guest(actor(cabinet["secretary"]), first, cabinet["guest"])
    service.start_meeting(actor(cabinet["chair"]), published)
    make_outsider()
    member = service.participant_of(published, cabinet["member"])
    from ecabinet.voting import service as voting

    ballot = voting.create_ballot(actor(cabinet["secretary"]), voting.BallotData(
        title="Thông qua Nghị quyết", kind="live", meeting_id=published.id, item_id=first.id))
    return {"ballot_id": ballot.id, "meeting_id": published.id, "item_id": first.id, "user_id": cabinet["member"].id,
            "participant_id": member.id, "minutes_id": 1, "action_id": 1, "document_id": 1, "annotation_id": 1,
            "number": 1, "code": "en", "step": "adjourn"}


def _url(rule, values: dict) -> str:
    path = rule.rule
    for name in rule.arguments:
        if name not in values:
            pytest.fail(f"{rule.rule}: the access matrix does not know how to fill <{name}>; add it to world()")
        for converter in ("int:", "string:", ""):
            path = path.replace(f"<{converter}{name}>", str(values[name]))
    return path


def test_every_route_has_a_policy(app):
    missing = [r.endpoint for r in app.url_map.iter_rules()
               if r.endpoint != "static" and not hasattr(app.view_functions[r.endpoint], POLICY_ATTR)]
    assert missing == []


def test_every_socket_event_has_a_policy(app):
    handlers = set(app.extensions["socketio"].server.handlers["/"]) - {"connect", "disconnect"}
    assert handlers <= set(EVENT_RULES)


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, client, world, role):
    app.config["WTF_CSRF_ENABLED"] = False  # the policy, not the token, must decide each POST here
    if role != "anonymous":
        login(client, f"{role}@example.gov.vn", PASSWORD)
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "accounts.logout"):  # logout would end the session mid-matrix
            continue
        public = getattr(app.view_functions[rule.endpoint], POLICY_ATTR) == "public"
        url = _url(rule, world)
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        method = "GET" if "GET" in methods else "POST" if "POST" in methods else methods[0]
        status = client.open(url, method=method, data={}).status_code
        assert status < 500, (role, method, url, status)
        if role == "anonymous" and not public:
            assert status in (302, 401), (method, url, status)
        if role == "outsider" and "meeting_id" in rule.arguments:
            # A member of the cabinet who is not invited learns nothing about this meeting.
            assert status in (403, 404), (method, url, status)
        if role == "admin" and "meeting_id" in rule.arguments and not rule.endpoint.startswith("audit."):
            assert status in (403, 404), (method, url, status)
