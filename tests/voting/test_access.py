"""Every voting page for every role: the policy decides, nothing answers 500; every socket event has a rule."""

from __future__ import annotations

import pytest

from ecabinet.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import login
from tests.meetings.conftest import actor
from tests.voting.conftest import make_live, make_written

ROLES = ["anonymous", "admin", "guest", "member", "chair", "secretary"]


@pytest.mark.parametrize("role", ROLES)
def test_every_voting_route_for_every_role(app, quorate, cabinet, client, role):
    from ecabinet.voting import service

    live = make_live(quorate, cabinet)
    written = make_written(cabinet)
    service.approve_ballot(actor(cabinet["chair"]), written)
    service.send_ballot(actor(cabinet["secretary"]), written)
    db.session.commit()
    if role != "anonymous":
        login(client, f"{role}@example.gov.vn", PASSWORD)
    args = {"ballot_id": live.id, "meeting_id": quorate.id}
    seen = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("voting."):
            continue
        seen.add(rule.endpoint)
        url = rule.build({k: v for k, v in args.items() if k in rule.arguments})[1]
        for ballot in (live, written):
            url = rule.build({**{k: v for k, v in args.items() if k in rule.arguments},
                              **({"ballot_id": ballot.id} if "ballot_id" in rule.arguments else {})})[1]
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                status = client.open(url, method=method).status_code
                assert status < 500, (role, method, url, status)
                if role == "anonymous":
                    assert status in (302, 401, 400), (method, url, status)
                if role in ("admin", "guest") and "ballot_id" in rule.arguments:
                    assert status in (404, 400), (role, method, url, status)
    assert len(seen) >= 10


def test_member_sees_live_ballot_page(quorate, cabinet, client):
    live = make_live(quorate, cabinet)
    from ecabinet.voting import service

    service.open_ballot(actor(cabinet["chair"]), live)
    db.session.commit()
    login(client, "member@example.gov.vn", PASSWORD)
    page = client.get(f"/ballots/{live.id}")
    assert page.status_code == 200
    assert "Tán thành" in page.get_data(as_text=True) or "Approve" in page.get_data(as_text=True)


def test_draft_hidden_from_members(quorate, cabinet, client):
    live = make_live(quorate, cabinet)
    login(client, "member@example.gov.vn", PASSWORD)
    assert client.get(f"/ballots/{live.id}").status_code == 404


def test_every_voting_socket_event_has_a_rule(app):
    from ecabinet.core.policy import EVENT_RULES

    for name in ("vote.list", "vote.cast", "chair.open_vote", "chair.close_vote"):
        assert name in EVENT_RULES
        assert name in app.extensions["socketio"].server.handlers["/"]


def test_the_audit_log_tells_a_ballot_by_its_title(app, quorate, cabinet):
    from ecabinet.audit import words
    from tests.voting.conftest import make_live

    ballot = make_live(quorate, cabinet, title="Thông qua Nghị quyết phiên họp")
    assert words.Names.for_ids({"ballot": {ballot.id}}).by_kind["ballot"] == {ballot.id: ballot.title}
