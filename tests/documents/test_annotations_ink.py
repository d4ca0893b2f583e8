"""Annotation kinds: coloured highlights, notes on a passage, pinned notes and freehand ink; their
validation, and how pins and ink are carried to a new version."""

from __future__ import annotations

import io
import json

import pytest

from ecabinet.documents import service
from ecabinet.documents.models import Annotation
from ecabinet.documents.schemas import MAX_STROKE_POINTS, MAX_STROKES
from ecabinet.extensions import db
from tests.documents.app_fixtures import *  # noqa: F403
from tests.documents.app_fixtures import actor, signed_in

HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}
STROKE = {"points": [[0.1, 0.2], [0.15, 0.25, 0.5], [0.2, 0.3]], "width": 0.004}


def _url(document) -> str:
    return f"/documents/{document.id}/annotations"


def _post(client, token, document, body):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(_url(document), data=data, headers={**HEADERS, "X-CSRFToken": token})


def test_each_kind_is_created_listed_and_deleted_over_http(app, client, meeting_doc, cabinet):
    token = signed_in(client, "member@example.gov.vn")
    bodies = {
        "highlight": {"kind": "highlight", "color": "green", "page": 1, "quote": "Nghị định",
                      "rects": [[0.1, 0.2, 0.3, 0.02]]},
        "note": {"kind": "note", "page": 1, "body": "Hỏi lại", "quote": "đầu tư công",
                 "rects": [[0.2, 0.3, 0.1, 0.02]], "color": "blue"},
        "pin": {"kind": "pin", "page": 1, "body": "Xem lại số liệu", "point": [0.25, 0.75], "color": "pink"},
        "ink": {"kind": "ink", "page": 1, "color": "blue", "strokes": [STROKE, {"points": [[0.5, 0.5]]}]},
    }
    made = {}
    for kind, body in bodies.items():
        answer = _post(client, token, meeting_doc, body)
        assert answer.status_code == 201, answer.get_json()
        made[kind] = answer.get_json()["annotation"]
        assert made[kind]["kind"] == kind and made[kind]["color"] == body.get("color", "yellow")
    assert made["pin"]["point"] == [0.25, 0.75] and made["pin"]["rects"] == []
    assert made["ink"]["strokes"][0] == {"points": [[0.1, 0.2], [0.15, 0.25, 0.5], [0.2, 0.3]], "width": 0.004}
    assert made["ink"]["strokes"][1]["width"] == service.annotations.INK_WIDTH
    assert made["highlight"]["rects"] == [[0.1, 0.2, 0.3, 0.02]] and made["highlight"]["strokes"] is None

    listed = client.get(_url(meeting_doc)).get_json()["annotations"]
    assert {a["kind"] for a in listed} == set(bodies)
    assert all(not a["shared"] and not a["page_changed"] for a in listed)

    # Private by default: another member sees none of them, and may not delete them.
    other_client = app.test_client()
    other = signed_in(other_client, "member2@example.gov.vn")
    assert other_client.get(_url(meeting_doc)).get_json()["annotations"] == []
    refused = other_client.delete(f"{_url(meeting_doc)}/{made['ink']['id']}",
                                  headers={**HEADERS, "X-CSRFToken": other})
    assert refused.status_code == 403

    for annotation in made.values():
        gone = client.delete(f"{_url(meeting_doc)}/{annotation['id']}", headers={**HEADERS, "X-CSRFToken": token})
        assert gone.status_code == 200
    assert client.get(_url(meeting_doc)).get_json()["annotations"] == []


def test_shared_ink_is_seen_by_the_meeting(client, meeting_doc, cabinet):
    ink = service.add_annotation(actor(cabinet["member"]), meeting_doc,
                                 {"kind": "ink", "page": 1, "strokes": [STROKE], "shared": True})
    db.session.commit()
    signed_in(client, "member2@example.gov.vn")
    listed = client.get(_url(meeting_doc)).get_json()["annotations"]
    assert [(a["id"], a["kind"], a["mine"]) for a in listed] == [(ink.id, "ink", False)]


def _deep(depth: int) -> str:
    return '{"kind": "ink", "page": 1, "strokes": ' + "[" * depth + "]" * depth + "}"


REFUSALS = [
    # (body, the field named in the answer, or None for a rule of the service with its message)
    ({"kind": "pin", "page": 1, "body": "x"}, None),                                   # a pin without a point
    ({"kind": "pin", "page": 1, "body": "", "point": [0.1, 0.1]}, None),                # a pin without a note
    ({"kind": "pin", "page": 1, "body": "x", "point": [0.1]}, "point"),
    ({"kind": "pin", "page": 1, "body": "x", "point": [0.1, 0.2, 0.3]}, "point"),
    ({"kind": "pin", "page": 1, "body": "x", "point": ["0.1", 0.2]}, "point.0"),
    ({"kind": "ink", "page": 1}, None),                                                 # no strokes
    ({"kind": "ink", "page": 1, "strokes": []}, "strokes"),
    ({"kind": "ink", "page": 1, "strokes": [{"points": []}]}, "strokes.0.points"),
    ({"kind": "ink", "page": 1, "strokes": [[[0.1, 0.2]]]}, "strokes.0"),
    ({"kind": "ink", "page": 1, "strokes": [{"points": [[0.1, 0.2]], "width": 0}]}, "strokes.0.width"),
    ({"kind": "ink", "page": 1, "strokes": [{"points": [[0.1, 0.2]], "width": 1}]}, "strokes.0.width"),
    ({"kind": "ink", "page": 1, "strokes": [{"points": [[0.1, 0.2]] * (MAX_STROKE_POINTS + 1)}]},
     "strokes.0.points"),
    ({"kind": "ink", "page": 1, "strokes": [{"points": [[0.1, 0.2]]}] * (MAX_STROKES + 1)}, "strokes"),
    ({"kind": "ink", "page": 99, "strokes": [STROKE]}, None),                           # no such page
    ({"kind": "highlight", "page": 1, "quote": "x", "color": "ultraviolet"}, None),
    ({"kind": "highlight", "page": 1, "quote": "x", "color": 3}, "color"),
    ({"kind": "scribble", "page": 1, "strokes": [STROKE]}, None),
]


@pytest.mark.parametrize(("body", "field"), REFUSALS)
def test_odd_annotations_are_refused_with_a_clear_400(client, meeting_doc, cabinet, body, field):
    token = signed_in(client, "member@example.gov.vn")
    answer = _post(client, token, meeting_doc, body)
    assert answer.status_code == 400
    data = answer.get_json()
    if field is None:
        assert data["error"] and data["error"] != "invalid"
    else:
        assert data["error"] == "invalid" and field in data["fields"], data
    assert db.session.query(Annotation).count() == 0


@pytest.mark.parametrize("raw", [
    '{"kind": "pin", "page": 1, "body": "x", "point": [NaN, 0.5]}',
    '{"kind": "pin", "page": 1, "body": "x", "point": [Infinity, 0.5]}',
    '{"kind": "ink", "page": 1, "strokes": [{"points": [[0.1, -Infinity]]}]}',
    '{"kind": "ink", "page": 1, "strokes": [{"points": [[0.1, 0.2]], "width": NaN}]}',
    _deep(100_000),
    _deep(50),
    '{"kind": "ink", "page": 1, "strokes": [{"points": [[1' + "0" * 5000 + ', 0.2]]}]}',
    "[1, 2, 3]",
    "not json",
])
def test_unreadable_or_non_finite_input_is_a_400_never_a_500(client, meeting_doc, cabinet, raw):
    token = signed_in(client, "member@example.gov.vn")
    answer = _post(client, token, meeting_doc, raw)
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert answer.get_json()["error"] == "invalid"


def test_ink_is_kept_within_the_page_without_repeated_points(meeting_doc, cabinet):
    ink = service.add_annotation(actor(cabinet["member"]), meeting_doc, {"kind": "ink", "page": 1, "strokes": [
        {"points": [[-0.5, 0.2], [-0.1, 0.2], [0.3, 0.4], [0.300001, 0.4], [1.7, 2.0]]}]})
    strokes = json.loads(ink.geometry)["strokes"]
    assert strokes[0]["points"] == [[0.0, 0.2], [0.3, 0.4], [1.0, 1.0]]
    assert json.loads(ink.rects) == [] and ink.quote == ""


def test_a_note_changes_colour_and_sharing_but_only_to_a_known_colour(client, meeting_doc, cabinet):
    pin = service.add_annotation(actor(cabinet["member"]), meeting_doc,
                                 {"kind": "pin", "page": 1, "body": "x", "point": [0.5, 0.5]})
    db.session.commit()
    token = signed_in(client, "member@example.gov.vn")
    url = f"{_url(meeting_doc)}/{pin.id}"
    changed = client.patch(url, data=json.dumps({"color": "green", "shared": True}),
                           headers={**HEADERS, "X-CSRFToken": token})
    assert changed.status_code == 200 and changed.get_json()["annotation"]["color"] == "green"
    refused = client.patch(url, data=json.dumps({"color": "mauve"}), headers={**HEADERS, "X-CSRFToken": token})
    assert refused.status_code == 404 and refused.get_json()["error"]  # the view's answer to a refused change
    emptied = client.patch(url, data=json.dumps({"body": " "}), headers={**HEADERS, "X-CSRFToken": token})
    assert emptied.status_code == 404


def test_pins_and_ink_keep_their_page_and_are_flagged_when_its_text_changed(with_guest, cabinet, storage,
                                                                            tmp_path):
    from ecabinet.documents.demo_pdf import make_demo_pdf

    make_demo_pdf("Tờ trình", ["Mở đầu.", "Điều 5 quy định về kế hoạch.", "Kết luận.", "Phụ lục."],
                  tmp_path / "v1.pdf", one_page_per_paragraph=True)
    make_demo_pdf("Tờ trình", ["Mở đầu.", "Điều 5 quy định về kế hoạch đã sửa.", "Kết luận."],
                  tmp_path / "v2.pdf", one_page_per_paragraph=True)
    make_demo_pdf("Tờ trình", ["Mở đầu.", "Điều 5 quy định về kế hoạch đã sửa.", "Kết luận."],
                  tmp_path / "v3.pdf", one_page_per_paragraph=True)
    secretary, member = actor(cabinet["secretary"]), actor(cabinet["member"])
    document = service.upload(secretary, with_guest.items[0], (tmp_path / "v1.pdf").open("rb"), "v1.pdf")
    changed_ink = service.add_annotation(member, document, {"kind": "ink", "page": 2, "color": "green",
                                                            "strokes": [STROKE]})
    same_pin = service.add_annotation(member, document, {"kind": "pin", "page": 3, "body": "Đồng ý",
                                                         "point": [0.4, 0.6]})
    lost_ink = service.add_annotation(member, document, {"kind": "ink", "page": 4, "strokes": [STROKE]})
    service.replace(secretary, document, (tmp_path / "v2.pdf").open("rb"), "v2.pdf")
    db.session.commit()
    db.session.expire_all()

    ink = db.session.get(Annotation, changed_ink.id)
    assert (ink.page, ink.version_number, ink.page_changed) == (2, 2, True)
    assert json.loads(ink.geometry)["strokes"][0]["points"] == STROKE["points"]  # position kept
    pin = db.session.get(Annotation, same_pin.id)
    assert (pin.page, pin.page_changed) == (3, False)
    assert json.loads(pin.geometry) == {"point": [0.4, 0.6]}
    lost = db.session.get(Annotation, lost_ink.id)
    assert lost.page is None and lost.placed_page == 4  # unplaced, not deleted

    # The flag stays on the next version even though that page did not change again.
    service.replace(secretary, document, (tmp_path / "v3.pdf").open("rb"), "v3.pdf")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Annotation, changed_ink.id).page_changed is True
    assert db.session.get(Annotation, same_pin.id).page_changed is False
    listed = {a["id"]: a for a in (service.annotation_dict(a, cabinet["member"])
                                   for a in service.annotations_for(cabinet["member"], document))}
    assert listed[changed_ink.id]["page_changed"] is True and listed[changed_ink.id]["color"] == "green"


def test_placing_an_unplaced_ink_by_hand_clears_the_flag(with_guest, cabinet, storage, tmp_path):
    from ecabinet.documents.demo_pdf import make_demo_pdf

    make_demo_pdf("Tờ trình", ["Một.", "Hai."], tmp_path / "v1.pdf", one_page_per_paragraph=True)
    make_demo_pdf("Tờ trình", ["Một đã sửa."], tmp_path / "v2.pdf", one_page_per_paragraph=True)
    secretary, member = actor(cabinet["secretary"]), actor(cabinet["member"])
    document = service.upload(secretary, with_guest.items[0], (tmp_path / "v1.pdf").open("rb"), "v1.pdf")
    flagged = service.add_annotation(member, document, {"kind": "ink", "page": 1, "strokes": [STROKE]})
    unplaced = service.add_annotation(member, document, {"kind": "ink", "page": 2, "strokes": [STROKE]})
    service.replace(secretary, document, io.BytesIO((tmp_path / "v2.pdf").read_bytes()), "v2.pdf")
    db.session.commit()
    assert db.session.get(Annotation, flagged.id).page_changed is True
    assert db.session.get(Annotation, unplaced.id).page is None
    service.update_annotation(member, document, flagged.id, {"page": 1})
    assert db.session.get(Annotation, flagged.id).page_changed is False


@pytest.mark.parametrize("strokes", [None, "x", [1, 2], [{"points": "x"}], [{"points": [[float("nan"), 0.1]]}],
                                     [{"points": [["a", "b"]]}]])
def test_the_service_refuses_unusable_ink_from_any_caller(meeting_doc, cabinet, strokes):
    with pytest.raises(service.DocumentError):
        service.add_annotation(actor(cabinet["member"]), meeting_doc, {"kind": "ink", "page": 1, "strokes": strokes})


def test_the_service_refuses_a_pin_outside_numbers(meeting_doc, cabinet):
    with pytest.raises(service.DocumentError):
        service.add_annotation(actor(cabinet["member"]), meeting_doc,
                               {"kind": "pin", "page": 1, "body": "x", "point": [float("inf"), 0.5]})
