"""Odd payloads get an answer: every Socket.IO event and every JSON body, fed ids past the database's range,
lone surrogates, a 10,000-deep array, things that are not objects and missing fields, answers "invalid" and
names the field, never an exception, a 500 or silence. Events are walked from the registry, so a new event
is covered (and must declare a schema); JSON routes are found by the views that read a JSON body."""

from __future__ import annotations

import inspect
import json
import uuid
from typing import Any

import pytest

from ecabinet.core.policy import EVENT_RULES, EVENT_SCHEMAS
from ecabinet.core.schemas import MAX_ID, PAYLOAD
from ecabinet.extensions import db
from tests.conftest import PASSWORD
from tests.documents.app_fixtures import meeting_doc, storage, with_guest  # noqa: F401 - fixtures
from tests.helpers import login
from tests.meetings.conftest import actor

TOO_LARGE = 2**70
LONE_SURROGATE = "\ud800"
DEEP = "[" * 10_000 + "]" * 10_000
NOT_OBJECTS: list[Any] = ["not a dict", 5, [1, 2], None, True]


# --- what a schema declares, read from its JSON schema -------------------------------------------------

def _alternatives(prop: dict[str, Any]) -> list[dict[str, Any]]:
    return prop.get("anyOf", [prop])


def _fields_of_type(schema: Any, kind: str) -> list[str]:
    return [name for name, prop in schema.model_json_schema()["properties"].items()
            if any(alt.get("type") == kind for alt in _alternatives(prop))]


def _id_list_fields(schema: Any) -> list[str]:
    return [name for name, prop in schema.model_json_schema()["properties"].items()
            if any(alt.get("type") == "array" and alt.get("items", {}).get("type") == "integer"
                   for alt in _alternatives(prop))]


def _required(schema: Any) -> list[str]:
    return schema.model_json_schema().get("required", [])


def _assert_invalid(answer: Any, field: str, what: Any) -> None:
    assert isinstance(answer, dict), (what, answer)
    assert answer.get("error") == "invalid", (what, answer)
    assert isinstance(answer.get("fields"), dict) and field in answer["fields"], (what, field, answer)
    assert isinstance(answer["fields"][field], str) and answer["fields"][field], (what, answer)


# --- Socket.IO -----------------------------------------------------------------------------------------

@pytest.fixture
def room(app, client, published, cabinet):
    """The published meeting in session, its chair signed in on a Socket.IO test client.

    These tests send every event dozens of times a second, far past any tablet's pace: the rate limits
    (tested in tests/live/test_flood.py) are lifted so that each odd payload reaches its schema."""
    from ecabinet.core.ratelimit import RATES, Rate
    from ecabinet.meetings import service

    app.config["SOCKET_RATE_LIMITS"] = {name: Rate(count=10_000, seconds=1, burst=10_000) for name in RATES}
    service.start_meeting(actor(cabinet["chair"]), published)
    db.session.commit()
    login(client, cabinet["chair"].email, PASSWORD)
    sio = app.extensions["socketio"].test_client(app, flask_test_client=client,
                                                 headers={"Origin": "http://localhost"})
    assert sio.is_connected()
    yield sio, published
    if sio.is_connected():
        sio.disconnect()


def _well_formed(meeting) -> dict[str, Any]:  # noqa: ANN001
    """One payload every event's schema accepts (each ignores the fields it does not declare)."""
    return {"meeting_id": meeting.id, "item_id": meeting.items[0].id, "ballot_id": 1, "request_id": 1,
            "comment_id": 1, "request_ids": [], "mode": "room", "body": "Ý kiến", "client_id": "payload-0001",
            "choice": "approve", "client_vote_id": uuid.uuid4().hex, "last_seq": None, "document_id": 1,
            "page": 1}


def _emit(sio, event: str, *args: Any) -> Any:  # noqa: ANN001
    return sio.emit(event, *args, callback=True)


def _emit_raw(sio, event: str, encoded_payload: str) -> Any:  # noqa: ANN001
    """Send an EVENT packet whose payload is given as JSON text, as a client would put it on the wire (the
    test client's own encoder cannot even walk a 10,000-deep list)."""
    sio.callback_counter += 1
    packet = f"2{sio.callback_counter}[{json.dumps(event)},{encoded_payload}]"
    sio.socketio.server._handle_eio_message(sio.eio_sid, packet)
    ack, sio.acks = sio.acks, None
    assert ack is not None, f"{event}: no acknowledgement"
    return ack["args"][0] if len(ack["args"]) == 1 else ack["args"]


def test_every_socket_event_declares_a_schema(app):
    assert set(EVENT_RULES) <= set(EVENT_SCHEMAS), "pass schema= to guarded_event for every event"
    handlers = set(app.extensions["socketio"].server.handlers["/"]) - {"connect", "disconnect"}
    assert handlers <= set(EVENT_SCHEMAS)


def test_the_well_formed_payload_fits_every_schema(room):
    from ecabinet.core.schemas import validate

    _sio, meeting = room
    for event in sorted(EVENT_RULES):
        validate(EVENT_SCHEMAS[event], _well_formed(meeting))  # raises InvalidPayload naming the field


def test_ids_past_the_database_range_are_invalid(room):
    sio, meeting = room
    for event in sorted(EVENT_RULES):
        schema = EVENT_SCHEMAS[event]
        for field in _fields_of_type(schema, "integer"):
            payload = {**_well_formed(meeting), field: TOO_LARGE}
            _assert_invalid(_emit(sio, event, payload), field, (event, field))
        for field in _id_list_fields(schema):
            payload = {**_well_formed(meeting), field: [TOO_LARGE]}
            _assert_invalid(_emit(sio, event, payload), f"{field}.0", (event, field))


def test_the_id_range_is_the_database_range(room):
    sio, meeting = room
    ack = _emit(sio, "join", {"meeting_id": meeting.id, "last_seq": MAX_ID + 1})
    _assert_invalid(ack, "last_seq", "join")
    assert ack["fields"]["last_seq"] == f"must be a whole number between 0 and {MAX_ID}"
    ack = _emit(sio, "join", {"meeting_id": MAX_ID + 1})
    assert ack["fields"] == {"meeting_id": f"must be a whole number between 1 and {MAX_ID}"}
    # The largest id the database stores is a well-formed id of a meeting that does not exist.
    assert _emit(sio, "join", {"meeting_id": MAX_ID}) == {"ok": False, "error": "not_found"}
    for odd in (True, "1", 1.0, 0, -1):
        _assert_invalid(_emit(sio, "join", {"meeting_id": odd}), "meeting_id", odd)


def test_lone_surrogates_are_invalid(room):
    sio, meeting = room
    for event in sorted(EVENT_RULES):
        for field in _fields_of_type(EVENT_SCHEMAS[event], "string"):
            payload = {**_well_formed(meeting), field: LONE_SURROGATE}
            _assert_invalid(_emit(sio, event, payload), field, (event, field))


def test_a_10000_deep_array_is_answered(room):
    sio, _meeting = room
    for event in sorted(EVENT_RULES):
        ack = _emit_raw(sio, event, DEEP)
        assert ack == {"ok": False, "error": "invalid", "fields": {PAYLOAD: "is nested too deeply"}}, event


def test_a_number_too_long_to_read_is_answered(room):
    sio, meeting = room
    ack = _emit_raw(sio, "join", '{"meeting_id": ' + "9" * 5_000 + "}")
    _assert_invalid(ack, "meeting_id", "join")
    assert _emit_raw(sio, "join", json.dumps({"meeting_id": meeting.id}))["ok"]  # the raw path itself works


def test_payloads_that_are_not_objects_are_invalid(room):
    sio, _meeting = room
    for event in sorted(EVENT_RULES):
        for odd in NOT_OBJECTS:
            _assert_invalid(_emit(sio, event, odd), PAYLOAD, (event, odd))
        _assert_invalid(_emit(sio, event), PAYLOAD, (event, "no argument"))
        _assert_invalid(_emit(sio, event, {"meeting_id": 1}, {"meeting_id": 1}), PAYLOAD, (event, "two arguments"))


def test_missing_fields_are_invalid(room):
    sio, meeting = room
    for event in sorted(EVENT_RULES):
        required = _required(EVENT_SCHEMAS[event])
        assert "meeting_id" in required, event  # every room event names its meeting
        ack = _emit(sio, event, {})
        for field in required:
            _assert_invalid(ack, field, (event, "{}"))
        for field in required:
            payload = {k: v for k, v in _well_formed(meeting).items() if k != field}
            _assert_invalid(_emit(sio, event, payload), field, (event, f"without {field}"))


def test_an_invalid_payload_changes_nothing(room):
    from ecabinet.live.models import Comment

    sio, meeting = room
    ack = _emit(sio, "comment.post", {**_well_formed(meeting), "client_id": LONE_SURROGATE})
    assert ack["error"] == "invalid"
    db.session.rollback()
    assert db.session.query(Comment).count() == 0
    # The same payload, well formed, is stored: the schema, not the rule, refused it.
    assert _emit(sio, "comment.post", _well_formed(meeting))["ok"]


# --- JSON bodies -----------------------------------------------------------------------------------------

def _reads_json(view: Any) -> bool:
    source = inspect.getsource(inspect.unwrap(view))
    return "get_json" in source or "request.json" in source or "json_body(" in source


@pytest.fixture
def json_routes(app, client, draft, cabinet, meeting_doc):  # noqa: F811 - fixtures imported above
    """Every view that reads a JSON body, with a URL it can be reached at by a user its rule admits."""
    from ecabinet.documents import service as documents
    from ecabinet.documents.schemas import AnnotationChange, NewAnnotation
    from ecabinet.media.schemas import JoinBody, ModerateBody, PublishedBody
    from ecabinet.meetings.schemas import ReorderAgenda
    from ecabinet.offline.models import OfflineDevice
    from ecabinet.offline.schemas import Changes, CheckInBody, NewDevice, PackHeld

    note = documents.add_annotation(actor(cabinet["member"]), meeting_doc, {"page": 1, "body": "Ghi chú"})
    device = OfflineDevice(user_id=cabinet["member"].id, label="Safari · iPad", key_fingerprint="0" * 64,
                           wipe_reason="", held_bytes=0)
    db.session.add(device)
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False  # the schema, not the token, is under test
    meeting_id = meeting_doc.meeting_id
    return {
        "offline.new_device": ("member", "POST", "/offline/devices", NewDevice),
        "offline.pack_held": ("member", "POST", f"/offline/devices/{device.id}/meetings/{meeting_id}", PackHeld),
        "offline.check_in": ("member", "POST", "/offline/check-in", CheckInBody),
        "offline.changes": ("member", "POST", f"/offline/devices/{device.id}/changes", Changes),
        "meetings.reorder": ("secretary", "POST", f"/meetings/{draft.id}/reorder", ReorderAgenda),
        "documents.annotations": ("member", "POST", f"/documents/{meeting_doc.id}/annotations", NewAnnotation),
        "documents.annotation": ("member", "PATCH", f"/documents/{meeting_doc.id}/annotations/{note.id}",
                                 AnnotationChange),
        "media.join": ("member", "POST", f"/media/meetings/{meeting_id}/join", JoinBody),
        "media.published": ("member", "POST", f"/media/meetings/{meeting_id}/published", PublishedBody),
        "media.moderate": ("chair", "POST", f"/media/meetings/{meeting_id}/moderate", ModerateBody),
    }


@pytest.fixture
def send(app, client):  # noqa: ANN001 - ``client`` sets the app's test client class
    """``send(role, method, url, **kwargs)``: the request, from a client signed in as ``role``."""
    clients: dict[str, Any] = {}

    def send(role: str, method: str, url: str, **kwargs: Any):  # noqa: ANN202
        if role not in clients:
            clients[role] = app.test_client()
            login(clients[role], f"{role}@example.gov.vn", PASSWORD)
        return clients[role].open(url, method=method, **kwargs)

    return send


def _assert_400(response, field: str, what: Any) -> None:  # noqa: ANN001
    assert response.status_code == 400, (what, response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json()
    assert set(body) == {"error", "fields"} and body["error"] == "invalid", (what, body)
    assert field in body["fields"], (what, field, body)


def test_every_json_route_is_covered(app, json_routes):
    reading = {endpoint for endpoint, view in app.view_functions.items() if _reads_json(view)}
    assert reading == set(json_routes), "add the route to json_routes, and validate its body with json_body"


def test_json_bodies_with_odd_values_answer_400_naming_the_field(send, json_routes):
    for endpoint, (role, method, url, schema) in json_routes.items():
        for field in _fields_of_type(schema, "integer"):
            _assert_400(send(role, method, url, json={field: TOO_LARGE}), field, (endpoint, field))
        for field in _id_list_fields(schema):
            _assert_400(send(role, method, url, json={field: [1, TOO_LARGE]}), f"{field}.1",
                        (endpoint, field))
        for field in _fields_of_type(schema, "string"):
            _assert_400(send(role, method, url, json={field: LONE_SURROGATE}), field, (endpoint, field))
        for field in _required(schema):
            _assert_400(send(role, method, url, json={}), field, (endpoint, f"without {field}"))


def test_json_bodies_that_are_not_objects_answer_400(send, json_routes):
    for endpoint, (role, method, url, _schema) in json_routes.items():
        for odd in NOT_OBJECTS:
            _assert_400(send(role, method, url, json=odd), PAYLOAD, (endpoint, odd))
        deep = send(role, method, url, data=DEEP, content_type="application/json")
        _assert_400(deep, PAYLOAD, (endpoint, "deep"))
        assert deep.get_json()["fields"] == {PAYLOAD: "is nested too deeply"}
        _assert_400(send(role, method, url, data="{not json", content_type="application/json"), PAYLOAD,
                    (endpoint, "not JSON"))


def test_a_valid_annotation_body_still_works(send, json_routes):
    _role, _method, url, _schema = json_routes["documents.annotations"]
    response = send("member", "POST", url, json={"kind": "highlight", "page": 1, "quote": "Điều 5",
                                                          "rects": [[0.1, 0.2, 0.5, 0.02]], "shared": True})
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    assert response.get_json()["annotation"]["shared"] is True


# --- ids in URLs -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/meetings/99999999999999999999999", "/documents/9223372036854775808",
                                 "/minutes/18446744073709551616", "/meetings/9223372036854775807",
                                 f"/meetings/{MAX_ID + 1}", f"/meetings/{MAX_ID}", "/documents/" + "9" * 5_000])
def test_ids_past_the_database_range_in_urls_are_404(client, users, url):
    login(client, "secretary@example.gov.vn", PASSWORD)
    assert client.get(url).status_code == 404
