"""Every minutes route for every role: the policy decides, nothing answers 500."""

from __future__ import annotations

import pytest

from ecabinet.minutes import service
from tests.conftest import PASSWORD
from tests.helpers import login
from tests.meetings.conftest import actor, make_outsider

ROLES = ["anonymous", "admin", "guest", "member", "chair", "secretary", "outsider"]


@pytest.fixture
def record(closed_meeting, cabinet):
    from datetime import date

    minutes = service.create_draft(actor(cabinet["secretary"]), closed_meeting)
    action = service.add_action(actor(cabinet["secretary"]), closed_meeting, service.ActionData(
        title="Báo cáo", ministry="Bộ Thử nghiệm", due_date=date.today(), responsible_id=cabinet["member"].id))
    make_outsider()
    return {"meeting_id": closed_meeting.id, "minutes_id": minutes.id, "action_id": action.id, "number": 1}


def _url(rule, values: dict) -> str:
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<int:{name}>", str(values[name]))
    return path


@pytest.mark.parametrize("role", ROLES)
def test_every_minutes_route_for_every_role(app, client, record, role):
    app.config["WTF_CSRF_ENABLED"] = False  # so that the policy, not the token, decides each POST
    if role != "anonymous":
        login(client, f"{role}@example.gov.vn", PASSWORD)
    seen = {}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("minutes."):
            continue
        url = _url(rule, record)
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method, data={})
        assert response.status_code < 500, (role, url, response.status_code)
        seen[rule.endpoint] = response.status_code
    draft_view = seen["minutes.view"]
    if role in ("outsider", "admin", "guest"):
        assert seen["minutes.meeting_record"] == 404 and draft_view == 404
        assert seen["minutes.export"] == 404
    if role == "member":
        assert seen["minutes.meeting_record"] == 200
        assert draft_view == 404  # a draft is the secretariat's and the chair's until circulated
        assert seen["minutes.edit"] == 404 and seen["minutes.approve"] == 404
    if role == "secretary":
        assert draft_view == 200 and seen["minutes.edit"] == 200
    if role == "chair":
        assert draft_view == 200 and seen["minutes.edit"] == 403
    if role == "anonymous":
        assert all(code in (302, 401) for code in seen.values())
