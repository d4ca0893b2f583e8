"""The access matrix, built from the app's own URL map and Socket.IO registry, crossed with every role
and with "a participant of another meeting". A route added later without a policy decision, or with an
argument this matrix cannot fill, fails here; so does a Socket.IO event that EVENT_ACCESS does not list."""

from __future__ import annotations

import re

import pytest

from ecabinet.core.policy import EVENT_RULES, POLICY_ATTR
from tests.conftest import PASSWORD
from tests.helpers import login
from tests.meetings.conftest import actor, make_outsider

ROLES = ["anonymous", "guest", "member", "chair", "secretary", "admin", "outsider", "liaison"]


# URL arguments that name an object of world()'s meeting: nobody outside the meeting may reach them.
MEETING_OBJECTS = {"meeting_id", "item_id", "participant_id", "ballot_id", "minutes_id", "document_id",
                   "annotation_id", "action_id", "display_id"}


@pytest.fixture
def world(app, published, cabinet, briefing, tmp_path):
    """A meeting in session with a guest on its first item, and one real object for every kind of URL argument:
    a ballot, a briefing document with a member's note, draft minutes and an action item.

    The outsider is a member invited to another meeting only."""
    import io
    from datetime import date, timedelta

    from ecabinet.documents import service as documents
    from ecabinet.meetings import service
    from ecabinet.minutes import service as minutes
    from ecabinet.voting import service as voting

    secretary = actor(cabinet["secretary"])
    first = published.items[0]
    service.invite_guest(secretary, first, cabinet["guest"])
    service.start_meeting(actor(cabinet["chair"]), published)
    outsider = make_outsider()
    other = service.create_meeting(secretary, service.MeetingData(
        title="Phiên họp khác", starts_at=published.starts_at + timedelta(days=7),
        ends_at=published.ends_at + timedelta(days=7), chair_id=cabinet["chair"].id))
    service.add_item(secretary, other, service.ItemData(title="Decision Z", duration_minutes=10))
    service.publish(secretary, other)
    assert service.participant_of(other, outsider) is not None
    member = service.participant_of(published, cabinet["member"])
    ballot = voting.create_ballot(secretary, voting.BallotData(
        title="Thông qua Nghị quyết", kind="live", meeting_id=published.id, item_id=first.id))
    app.config["STORAGE_DIR"] = str(tmp_path / "storage")
    document = documents.upload(secretary, first, io.BytesIO(briefing), "to-trinh.pdf")
    note = documents.add_annotation(actor(cabinet["member"]), document, {"page": 1, "body": "Ghi chú riêng"})
    draft = minutes.create_draft(secretary, published)
    action = minutes.add_action(secretary, published, minutes.ActionData(
        title="Hoàn thiện Nghị định", ministry="Bộ Tài chính", due_date=date.today() + timedelta(days=30)))
    template = service.template_from_meeting(secretary, published, "Phiên họp thường kỳ (mẫu)")
    from ecabinet.organisations import service as organisations

    organisation = organisations.create(secretary, organisations.OrganisationData(name="Bộ Ngoại giao"))
    from ecabinet.display import service as displays

    display, token = displays.issue_display(secretary, published, "Phòng họp 1", "title")
    # The liaison of that ministry, and one submission of it with its document.
    from ecabinet.accounts import service as accounts
    from ecabinet.accounts.models import Role
    from ecabinet.submissions import service as submissions

    liaison = accounts.update_user(actor(cabinet["admin"]), cabinet["liaison"], accounts.UserData(
        email="liaison@example.gov.vn", name="Test liaison", role=Role.LIAISON, organisation_id=organisation.id))
    submission = submissions.create_submission(actor(liaison), submissions.SubmissionData(
        title="Dự thảo Nghị định", kind="decree", handling="meeting", deadline=published.ends_at + timedelta(days=30)),
        [documents.receive(io.BytesIO(briefing), "to-trinh.pdf")])
    from ecabinet.offline.models import OfflineDevice  # a member's tablet with an offline pack

    device = OfflineDevice(user_id=cabinet["member"].id, label="Chrome · Android", key_fingerprint="0" * 64,
                           wipe_reason="", held_bytes=0)
    from ecabinet.extensions import db

    db.session.add(device)
    db.session.flush()
    return {"submission_id": submission.id, "file_id": submission.latest.documents[0].id, "device_id": device.id,
            "ballot_id": ballot.id, "meeting_id": published.id, "item_id": first.id, "user_id": cabinet["member"].id,
            "template_id": template.id, "organisation_id": organisation.id,
            "participant_id": member.id, "minutes_id": draft.id, "action_id": action.id, "document_id": document.id,
            "annotation_id": note.id, "number": 1, "code": "en", "step": "adjourn", "display_id": display.id,
            "token": token, "rest": ""}


# URL arguments that name a ministry's submission: only its liaison and the secretariat reach it.
SUBMISSION_OBJECTS = {"submission_id", "file_id"}
# What a liaison may open besides their ministry's submissions: what every signed-in person has (their
# account, their notices, the home page, the language) and nothing of the cabinet's work.
LIAISON_MAY = ("submissions.", "home.", "core.", "notifications.", "accounts.account", "accounts.change_password",
               "accounts.text_size", "accounts.reauth", "accounts.login")


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
    # The room screen's namespace takes no event at all: a screen only listens (ecabinet/display/events.py).
    assert set(app.extensions["socketio"].server.handlers["/display"]) == {"connect"}


INLINE_CODE = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>|<style\b|\sstyle=|\son[a-z]+=",
                         re.IGNORECASE)


def assert_no_inline_code(response, where) -> None:
    """The strict CSP on every answer, and no inline script, style or handler in any page it would block."""
    csp = response.headers.get("Content-Security-Policy", "")
    assert csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp, (where, csp)
    if response.mimetype == "text/html":
        found = INLINE_CODE.search(response.get_data(as_text=True))
        assert found is None, (where, found and found.group(0))


def _methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"}, key=lambda m: (m != "GET", m))


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, client, world, role):
    """Every method of every route, for every role: the policy decides, nothing answers 500, and every answer
    carries the strict CSP."""
    app.config["WTF_CSRF_ENABLED"] = False  # the policy, not the token, must decide each POST here
    if role != "anonymous":
        login(client, f"{role}@example.gov.vn", PASSWORD)
    reached: list[tuple[str, str, int]] = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "accounts.logout"):  # logout would end the session mid-matrix
            continue
        public = getattr(app.view_functions[rule.endpoint], POLICY_ATTR) == "public"
        url = _url(rule, world)
        for method in _methods(rule):
            response = client.open(url, method=method, data={})
            status = response.status_code
            assert status < 500, (role, method, url, status)
            assert_no_inline_code(response, (role, method, url))
            if role == "anonymous" and not public:
                assert status in (302, 401), (method, url, status)
            if role == "outsider" and MEETING_OBJECTS & set(rule.arguments):
                # A member of the cabinet who is not invited learns nothing about this meeting.
                assert status in (403, 404), (method, url, status)
            if role == "admin" and MEETING_OBJECTS & set(rule.arguments) and not rule.endpoint.startswith("audit."):
                assert status in (403, 404), (method, url, status)
            if role not in ("anonymous", "liaison", "secretary") and SUBMISSION_OBJECTS & set(rule.arguments):
                assert status in (403, 404), (role, method, url, status)
            if role == "liaison" and not public and not rule.endpoint.startswith(LIAISON_MAY) \
                    and status not in (403, 404):
                reached.append((method, url, status))
    # A ministry's liaison is refused the rest of the app.
    assert reached == [], f"the liaison reached these: {reached}"


# Who passes each Socket.IO event's policy in the meeting of world() (a refusal by the domain's rules, such
# as "the meeting has already started", still counts as passing the policy). A new event must be added here.
VIEWERS = {"guest", "member", "chair", "secretary"}
RESPONDERS = {"member", "chair"}
EVENT_ACCESS: dict[str, set[str]] = {
    "join": VIEWERS, "leave": VIEWERS, "vote.list": VIEWERS,
    "comments.page": VIEWERS,  # on the first item, which the guest is invited to
    "comment.post": VIEWERS,  # on the first item, which the guest is invited to
    "floor.request": RESPONDERS, "floor.withdraw": RESPONDERS, "attendance.check_in": RESPONDERS,
    "vote.cast": RESPONDERS,
    **{name: {"chair"} for name in ("chair.start", "chair.pause", "chair.resume", "chair.adjourn", "chair.set_item",
                                    "chair.adopt_consent", "chair.grant_floor", "chair.end_floor",
                                    "chair.reorder_queue", "chair.hide_comment", "chair.open_vote",
                                    "chair.close_vote")},
    "console.overview": {"chair"},  # what the chair's console shows before a step
    # The chair, or the presenter the agenda names for the item under discussion (no one in this world).
    **{name: {"chair"} for name in ("presenter.share", "presenter.page", "presenter.stop")},
}
DENIED = ("forbidden", "not_found", "not_signed_in")


def _registered_events(app) -> list[str]:
    return sorted(set(app.extensions["socketio"].server.handlers["/"]) - {"connect", "disconnect"})


def test_every_socket_event_has_an_access_decision(app):
    assert set(_registered_events(app)) == set(EVENT_ACCESS), "add the event to EVENT_ACCESS: who may send it?"


def _socket(app, client):
    return app.extensions["socketio"].test_client(app, flask_test_client=client,
                                                  headers={"Origin": "http://localhost"})


@pytest.fixture
def open_vote(world, cabinet):
    """The world's ballot, open: the members are checked in and the chair has opened it."""
    from ecabinet.extensions import db
    from ecabinet.meetings import service
    from ecabinet.meetings.models import CheckInMode
    from ecabinet.voting import service as voting

    meeting = service.get_meeting(world["meeting_id"])
    for name in ("chair", "member", "member2", "member3"):
        service.check_in(actor(cabinet["secretary"]), meeting, service.participant_of(meeting, cabinet[name]),
                         CheckInMode.ROOM)
    voting.open_ballot(actor(cabinet["chair"]), voting.get_ballot(world["ballot_id"]))
    db.session.commit()  # services only flush: the fixture is the boundary
    return world


@pytest.mark.parametrize("role", ROLES)
def test_socket_event_matrix(app, client, open_vote, role):
    """Every registered event, sent by every role with well-formed ids of this meeting: the policy decides."""
    world = open_vote
    if role != "anonymous":
        login(client, f"{role}@example.gov.vn", PASSWORD)
    sio = _socket(app, client)
    if role == "anonymous":
        assert not sio.is_connected()
        return
    payload = {"meeting_id": world["meeting_id"], "item_id": world["item_id"], "ballot_id": world["ballot_id"],
               "request_id": 1, "comment_id": 1, "request_ids": [], "mode": "room", "body": "Ý kiến",
               "client_id": "matrix", "choice": "approve", "client_vote_id": "matrix-" + role, "last_seq": None,
               "document_id": 1, "page": 1}
    passed = set()
    try:
        for event in _registered_events(app):
            ack = sio.emit(event, dict(payload), callback=True)
            assert isinstance(ack, dict) and "ok" in ack, (event, ack)
            if ack["ok"] or ack.get("error") not in DENIED:
                passed.add(event)
    finally:
        if sio.is_connected():
            sio.disconnect()
    expected = {event for event, roles in EVENT_ACCESS.items() if role in roles}
    assert passed == expected, f"{role}: passed {sorted(passed - expected)}, refused {sorted(expected - passed)}"
