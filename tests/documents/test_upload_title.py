"""A briefing document's title: typed at upload, else the PDF's own /Title, else the file's name, never the
first line of its text; the secretariat may change it afterwards."""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from ecabinet.documents.models import Document, SearchEntry
from ecabinet.extensions import db
from tests.documents.app_fixtures import *  # noqa: F403
from tests.documents.app_fixtures import count_rows, signed_in, upload_http
from tests.helpers import csrf_from

FIRST_LINE = "Hello, here is some text"


def _pdf(title: str | None) -> bytes:
    """A real PDF whose first line of text is FIRST_LINE, with the given /Title ("" for none)."""
    import tempfile
    from pathlib import Path

    from ecabinet.documents.demo_pdf import make_demo_pdf

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        make_demo_pdf(FIRST_LINE, ["Kính gửi các thành viên Chính phủ."], path)
        writer = PdfWriter(clone_from=PdfReader(path))
    writer.add_metadata({"/Title": title or ""})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _url(meeting, item) -> str:
    return f"/meetings/{meeting.id}/items/{item.id}/documents"


def _upload(client, token, meeting, data, filename, title=None):
    form = {"file": (io.BytesIO(data), filename)}
    if title is not None:
        form["title"] = title
    return client.post(_url(meeting, meeting.items[0]), data=form, content_type="multipart/form-data",
                       headers={"X-CSRFToken": token, "Accept": "application/json"})


def test_the_typed_title_wins(client, with_guest, cabinet, storage):
    token = signed_in(client, "secretary@example.gov.vn")
    r = _upload(client, token, with_guest, _pdf("Tiêu đề trong tệp"), "to-trinh.pdf", "  Tờ trình   số 12/TTr-BTC ")
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.json["document"]["title"] == "Tờ trình số 12/TTr-BTC"


def test_without_a_typed_title_the_pdfs_own_title_is_used(client, with_guest, cabinet, storage):
    token = signed_in(client, "secretary@example.gov.vn")
    r = _upload(client, token, with_guest, _pdf("Tờ trình dự thảo Nghị định"), "scan_0012.pdf", "")
    assert r.status_code == 201 and r.json["document"]["title"] == "Tờ trình dự thảo Nghị định"


def test_without_either_the_file_name_is_used_never_the_first_line(client, with_guest, cabinet, storage):
    token = signed_in(client, "secretary@example.gov.vn")
    r = _upload(client, token, with_guest, _pdf(None), "Bao-cao KT-XH thang 11.pdf")
    assert r.status_code == 201 and r.json["document"]["title"] == "Bao-cao KT-XH thang 11"
    assert FIRST_LINE not in r.json["document"]["title"]


def test_a_too_long_title_is_refused_and_nothing_stored(client, with_guest, cabinet, storage):
    token = signed_in(client, "secretary@example.gov.vn")
    r = _upload(client, token, with_guest, _pdf(None), "a.pdf", "x" * 301)
    assert r.status_code == 400 and "300" in r.json["error"] and count_rows(Document) == 0


def test_the_item_page_offers_the_title_field(client, with_guest, cabinet, storage):
    signed_in(client, "secretary@example.gov.vn")
    page = client.get(f"/meetings/{with_guest.id}/items/{with_guest.items[0].id}").get_data(as_text=True)
    assert 'class="upload-title" name="title"' in page and "Tên tài liệu (không bắt buộc)" in page


def test_the_secretariat_renames_a_document(client, meeting_doc, cabinet):
    signed_in(client, "secretary@example.gov.vn")
    page = client.get(f"/meetings/{meeting_doc.meeting_id}/items/{meeting_doc.item_id}").get_data(as_text=True)
    assert f'action="/documents/{meeting_doc.id}/title"' in page
    r = client.post(f"/documents/{meeting_doc.id}/title", data={"csrf_token": csrf_from(page),
                                                                 "title": "Tờ trình (bản chính thức)"})
    assert r.status_code == 302
    db.session.expire_all()
    document = db.session.get(Document, meeting_doc.id)
    assert document.title == "Tờ trình (bản chính thức)"
    entry = db.session.scalar(select(SearchEntry).where(SearchEntry.document_id == document.id))
    assert entry.title == "Tờ trình (bản chính thức)"
    from ecabinet.audit.models import AuditEntry

    assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)) == "document.rename"


def test_a_rename_to_nothing_or_too_long_is_refused(client, meeting_doc, cabinet):
    signed_in(client, "secretary@example.gov.vn")
    old = meeting_doc.title
    url = f"/meetings/{meeting_doc.meeting_id}/items/{meeting_doc.item_id}"
    for title in ("", "   ", "x" * 301):
        r = client.post(f"/documents/{meeting_doc.id}/title",
                        data={"csrf_token": csrf_from(client.get(url).get_data(as_text=True)), "title": title},
                        follow_redirects=True)
        assert r.status_code == 200 and "flash-error" in r.get_data(as_text=True), title
    db.session.expire_all()
    assert db.session.get(Document, meeting_doc.id).title == old


def test_members_may_not_rename(client, meeting_doc, cabinet):
    signed_in(client, "member@example.gov.vn")
    page = client.get(f"/meetings/{meeting_doc.meeting_id}/items/{meeting_doc.item_id}").get_data(as_text=True)
    assert f"/documents/{meeting_doc.id}/title" not in page
    r = client.post(f"/documents/{meeting_doc.id}/title", data={"csrf_token": csrf_from(page), "title": "Khác"})
    assert r.status_code == 403


def test_upload_http_helper_still_names_by_metadata(client, with_guest, cabinet, storage, briefing):
    token = signed_in(client, "secretary@example.gov.vn")
    r = upload_http(client, token, _url(with_guest, with_guest.items[1]), briefing, "to-trinh.pdf")
    assert r.json["document"]["title"] == "Tờ trình dự thảo Nghị định về đầu tư công"
