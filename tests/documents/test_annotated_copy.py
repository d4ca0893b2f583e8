"""A member's own annotated copy: their highlights, notes, pins and ink written into their watermarked
copy as standard PDF annotations, which another PDF program (poppler) draws; nobody else's marks in it."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from ecabinet.audit.models import AuditEntry
from ecabinet.documents import service
from ecabinet.extensions import db
from ecabinet.pdf.annotate import PageFrame
from tests.documents.app_fixtures import *  # noqa: F403
from tests.documents.app_fixtures import actor, signed_in

HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}
HIGHLIGHT = {"kind": "highlight", "color": "green", "page": 1, "quote": "Nghị định",
             "rects": [[0.1, 0.3, 0.5, 0.05]]}
NOTE = {"kind": "note", "page": 1, "body": "Hỏi lại Bộ Tài chính", "quote": "đầu tư công",
        "rects": [[0.2, 0.5, 0.1, 0.02]], "color": "blue"}
PIN = {"kind": "pin", "page": 1, "body": "Xem lại số liệu năm 2025", "point": [0.7, 0.8], "color": "pink"}
INK = {"kind": "ink", "page": 1, "color": "blue",
       "strokes": [{"points": [[0.1, 0.9], [0.3, 0.92], [0.5, 0.9]], "width": 0.004}]}


def _post(client, token, document, body):
    answer = client.post(f"/documents/{document.id}/annotations", data=json.dumps(body),
                         headers={**HEADERS, "X-CSRFToken": token})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["annotation"]


def _annotations(pdf_bytes: bytes) -> list[dict]:
    page = PdfReader(io.BytesIO(pdf_bytes)).pages[0]
    return [a.get_object() for a in page.get("/Annots") or []]


def test_the_copy_holds_my_marks_as_pdf_annotations_and_keeps_the_watermark(app, client, meeting_doc, cabinet):
    token = signed_in(client, "member@example.gov.vn")
    for body in (HIGHLIGHT, NOTE, PIN, INK):
        _post(client, token, meeting_doc, body)
    # Another member's shared note is theirs, not in my copy.
    other_client = app.test_client()
    other = signed_in(other_client, "member2@example.gov.vn")
    _post(other_client, other, meeting_doc, {**PIN, "body": "Ý kiến của người khác", "shared": True})

    answer = client.get(f"/documents/{meeting_doc.id}/annotated")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.mimetype == "application/pdf"
    assert "attachment" in answer.headers["Content-Disposition"]
    assert "-ghi-chu.pdf" in answer.headers["Content-Disposition"]
    code = answer.headers["X-Copy-Code"]
    data = answer.get_data()

    reader = PdfReader(io.BytesIO(data))
    # The watermark with the reader's copy code is still on the page.
    assert code in reader.pages[0].extract_text().replace(" ", "")
    marks = _annotations(data)
    kinds = sorted(str(a["/Subtype"]) for a in marks)
    assert kinds == ["/Highlight", "/Highlight", "/Ink", "/Text", "/Text"], kinds
    bodies = {str(a.get("/Contents", "")) for a in marks}
    assert {"Hỏi lại Bộ Tài chính", "Xem lại số liệu năm 2025"} <= bodies
    assert "Ý kiến của người khác" not in bodies
    assert all(str(a["/T"]) == cabinet["member"].name for a in marks)
    assert all("/AP" in a for a in marks)  # drawn the same in every program

    # The highlight lies exactly over the rectangle the viewer kept (fractions from the top left).
    box = reader.pages[0].cropbox
    width, height = float(box.width), float(box.height)
    green = next(a for a in marks if a["/Subtype"] == "/Highlight" and list(a["/C"])[0] < 0.5)
    quad = [float(v) for v in green["/QuadPoints"]]
    assert quad[0] == pytest.approx(float(box.left) + 0.1 * width, abs=0.01)
    assert quad[1] == pytest.approx(float(box.top) - 0.3 * height, abs=0.01)
    assert quad[2] == pytest.approx(float(box.left) + 0.6 * width, abs=0.01)
    assert quad[5] == pytest.approx(float(box.top) - 0.35 * height, abs=0.01)

    db.session.rollback()
    entry = db.session.query(AuditEntry).filter_by(action="document.annotated_copy").one()
    assert json.loads(entry.details)["copy_code"] == code


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
def test_another_pdf_program_draws_the_highlight_where_it_was_made(client, meeting_doc, cabinet, tmp_path):
    token = signed_in(client, "member@example.gov.vn")
    _post(client, token, meeting_doc, {**HIGHLIGHT, "color": "yellow", "rects": [[0.1, 0.1, 0.8, 0.1]]})
    pdf = tmp_path / "copy.pdf"
    pdf.write_bytes(client.get(f"/documents/{meeting_doc.id}/annotated").get_data())
    subprocess.run(["pdftoppm", "-r", "30", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
                   check=True, timeout=60)
    image = next(tmp_path.glob("p*.ppm")).read_bytes()
    # P6 header: magic, width, height, maxval, then RGB bytes.
    header = image.split(b"\n", 3)
    w, h = (int(v) for v in header[1].split())
    pixels = header[3]

    def rgb(fx: float, fy: float) -> tuple[int, int, int]:
        i = (int(fy * h) * w + int(fx * w)) * 3
        return pixels[i], pixels[i + 1], pixels[i + 2]

    r, g, b = rgb(0.5, 0.15)  # inside the highlight: yellowish (blue well below red and green)
    assert b < r - 40 and b < g - 40, (r, g, b)
    r, g, b = rgb(0.5, 0.6)  # outside it: the page's white or its text, not yellow
    assert not (b < r - 40 and b < g - 40), (r, g, b)


def test_without_marks_it_says_so_and_keeps_the_reader_in_the_viewer(client, meeting_doc, cabinet):
    signed_in(client, "member@example.gov.vn")
    as_json = client.get(f"/documents/{meeting_doc.id}/annotated", headers={"Accept": "application/json"})
    assert as_json.status_code == 409
    assert "ghi chú" in as_json.get_json()["error"]
    followed = client.get(f"/documents/{meeting_doc.id}/annotated", headers={"Accept": "text/html"})
    assert followed.status_code == 302 and followed.headers["Location"].endswith(f"/documents/{meeting_doc.id}")
    page = client.get(followed.headers["Location"]).get_data(as_text=True)
    assert "Bạn chưa có ghi chú" in page


def test_a_confidential_document_is_not_taken_away_even_with_notes(client, meeting_doc, cabinet):
    token = signed_in(client, "member@example.gov.vn")
    _post(client, token, meeting_doc, PIN)
    service.set_confidential(actor(cabinet["secretary"]), meeting_doc, True)
    db.session.commit()
    answer = client.get(f"/documents/{meeting_doc.id}/annotated", headers={"Accept": "application/json"})
    assert answer.status_code == 403


def test_someone_outside_the_meeting_gets_nothing(app, meeting_doc, cabinet):
    from tests.conftest import PASSWORD
    from tests.helpers import login
    from tests.meetings.conftest import make_outsider

    make_outsider()
    outsider = app.test_client()
    login(outsider, "outsider@example.gov.vn", PASSWORD)
    answer = outsider.get(f"/documents/{meeting_doc.id}/annotated", headers={"Accept": "application/json"})
    assert answer.status_code in (403, 404)
    anonymous = app.test_client().get(f"/documents/{meeting_doc.id}/annotated")
    assert anonymous.status_code in (302, 404) and anonymous.mimetype != "application/pdf"


@pytest.mark.parametrize(("rotate", "expected"), [
    (0, (10 + 0.25 * 200, 20 + 400 - 0.5 * 400)),
    (90, (10 + 0.5 * 200, 20 + 0.25 * 400)),
    (180, (210 - 0.25 * 200, 20 + 0.5 * 400)),
    (270, (210 - 0.5 * 200, 420 - 0.25 * 400)),
])
def test_a_point_on_a_turned_page_lands_where_it_was_shown(rotate, expected):
    frame = PageFrame(10, 20, 210, 420, rotate)
    assert frame.point(0.25, 0.5) == pytest.approx(expected)
    # The displayed page's corners map onto the crop box's corners.
    corners = {frame.point(fx, fy) for fx in (0, 1) for fy in (0, 1)}
    assert corners == {(10, 20), (10, 420), (210, 20), (210, 420)}
