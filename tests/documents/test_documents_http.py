"""Briefing documents over HTTP: uploads (good and hostile), PDF headers, downloads, confidentiality,
and every documents route walked by every role."""

from __future__ import annotations

import io
import json
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from ecabinet.audit.models import AuditEntry
from ecabinet.documents.models import Document, DocumentVersion
from ecabinet.extensions import db
from tests.documents.app_fixtures import *  # noqa: F403
from tests.documents.app_fixtures import actor, blob_files, count_rows, signed_in, upload_http
from tests.pdf import crafted
from tests.pdf.conftest import corpus_files, corpus_pages, require_corpus


def _upload_url(meeting, item) -> str:
    return f"/meetings/{meeting.id}/items/{item.id}/documents"


def _encrypted(briefing: bytes) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(briefing)))
    writer.encrypt("mật-khẩu", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_upload_several_files_over_http(client, with_guest, cabinet, storage, briefing, briefing_v2):
    token = signed_in(client, "secretary@example.gov.vn")
    url = _upload_url(with_guest, with_guest.items[1])
    for data, name in ((briefing, "a.pdf"), (briefing_v2, "b.pdf")):
        r = upload_http(client, token, url, data, name)
        assert r.status_code == 201, r.get_data(as_text=True)
        assert r.json["document"]["pages"] >= 1
    assert count_rows(Document) == 2 and len(blob_files(storage)) == 2


def test_upload_without_csrf_header_is_refused(client, with_guest, cabinet, storage, briefing):
    signed_in(client, "secretary@example.gov.vn")
    r = client.post(_upload_url(with_guest, with_guest.items[0]),
                    data={"file": (io.BytesIO(briefing), "a.pdf")}, content_type="multipart/form-data")
    assert r.status_code == 400 and count_rows(Document) == 0


BAD = {
    "empty": (lambda b: b"", "empty", "empty"),
    "html": (lambda b: b"<html><body>hello</body></html>", "not_pdf", "not a PDF"),
    "encrypted": (_encrypted, "encrypted", "password"),
    "truncated": (lambda b: b[: len(b) // 2], "truncated", "incomplete"),
    "broken_xref": (lambda b: crafted.broken_xref_pdf(), None, None),
    "looping_xref": (lambda b: crafted.looping_xref_pdf(), None, None),
    "looping_pages": (lambda b: crafted.looping_pages_pdf(), None, None),
    "bomb": (lambda b: crafted.bomb_pdf(), "decompression_bomb", "decompression bomb"),
    "many_pages": (lambda b: crafted.many_pages_pdf(), "too_many_pages", "pages"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_hostile_upload_is_refused_with_its_reason_and_nothing_stored(case, client, with_guest, cabinet, storage,
                                                                      briefing, app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    make, code, words = BAD[case]
    token = signed_in(client, "secretary@example.gov.vn")
    with client.session_transaction() as s:
        s["locale"] = "en"
    r = upload_http(client, token, _upload_url(with_guest, with_guest.items[0]), make(briefing), f"{case}.pdf")
    if code is None and r.status_code == 201:
        return  # pypdf repairs some damaged files; accepted is a fine outcome as long as it is a PDF
    assert 400 <= r.status_code < 500, r.get_data(as_text=True)
    if code:
        assert r.json["code"] == code
        assert words.lower() in r.json["error"].lower()
    assert count_rows(Document) == 0 and count_rows(DocumentVersion) == 0 and blob_files(storage) == []
    assert client.get("/healthz").status_code == 200


def test_password_protected_message_in_vietnamese(client, with_guest, cabinet, storage, briefing):
    token = signed_in(client, "secretary@example.gov.vn")
    r = upload_http(client, token, _upload_url(with_guest, with_guest.items[0]), _encrypted(briefing))
    assert r.status_code == 422 and r.json["code"] == "encrypted"


def test_upload_page_limit_is_configurable(client, app, with_guest, cabinet, storage, briefing_v2):
    app.config["DOCUMENT_MAX_PAGES"] = 1
    token = signed_in(client, "secretary@example.gov.vn")
    r = upload_http(client, token, _upload_url(with_guest, with_guest.items[0]), briefing_v2)
    pages = len(PdfReader(io.BytesIO(briefing_v2)).pages)
    assert (r.status_code == 422 and r.json["code"] == "too_many_pages") if pages > 1 else r.status_code == 201


def test_active_content_and_polyglot_are_served_only_as_pdf(client, with_guest, cabinet, storage):
    token = signed_in(client, "secretary@example.gov.vn")
    for data in (crafted.active_content_pdf(), crafted.html_polyglot_pdf()):
        r = upload_http(client, token, _upload_url(with_guest, with_guest.items[0]), data)
        assert r.status_code == 201, r.get_data(as_text=True)
        doc_id = r.json["document"]["id"]
        for path, disposition in ((f"/documents/{doc_id}/file", "inline"),
                                  (f"/documents/{doc_id}/download", "attachment"),
                                  (f"/documents/{doc_id}/original", "attachment")):
            got = client.get(path)
            assert got.status_code == 200
            assert got.headers["Content-Type"] == "application/pdf"
            assert got.headers["X-Content-Type-Options"] == "nosniff"
            assert got.headers["Content-Security-Policy"].startswith("sandbox")
            assert got.headers["Content-Disposition"].startswith(disposition)
    flags = [v.active_content for v in db.session.scalars(select(DocumentVersion))]
    assert any("JavaScript" in f for f in flags) and any("Polyglot" in f for f in flags)


def test_downloaded_copy_names_its_reader_and_the_audited_copy_code(client, meeting_doc, cabinet):
    signed_in(client, "member@example.gov.vn")
    r = client.get(f"/documents/{meeting_doc.id}/download")
    assert r.status_code == 200 and r.headers["Content-Disposition"].startswith("attachment")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    assert cabinet["member"].name in text
    db.session.rollback()
    member_id = cabinet["member"].id
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "document.downloaded",
                                                          AuditEntry.actor_id == member_id))
    codes = [json.loads(e.details).get("copy_code") for e in entries]
    assert codes and codes[-1] in text
    from ecabinet.documents import service

    assert r.data != service.blobs().path(meeting_doc.latest.sha256).read_bytes()  # never the original


def test_viewer_stream_answers_range_requests(client, meeting_doc, cabinet):
    signed_in(client, "member@example.gov.vn")
    full = client.get(f"/documents/{meeting_doc.id}/file")
    assert full.status_code == 200 and full.headers.get("Accept-Ranges") == "bytes"
    part = client.get(f"/documents/{meeting_doc.id}/file", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100 and part.data == full.data[:100]
    db.session.rollback()
    views = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "document.viewed")).all()
    assert len(views) == 1  # the Range request is not another read


def test_confidential_refuses_download_but_the_viewer_works(client, meeting_doc, cabinet):
    from ecabinet.documents import service
    from tests.documents.app_fixtures import actor

    service.set_confidential(actor(cabinet["secretary"]), meeting_doc, True)
    db.session.commit()
    signed_in(client, "member@example.gov.vn")
    assert client.get(f"/documents/{meeting_doc.id}/download").status_code == 403
    assert client.get(f"/documents/{meeting_doc.id}/file").status_code == 200
    page = client.get(f"/documents/{meeting_doc.id}")
    assert page.status_code == 200 and f"/documents/{meeting_doc.id}/download" not in page.get_data(as_text=True)


def test_item_page_lists_documents_and_home_counts_unread(client, meeting_doc, cabinet):
    signed_in(client, "member@example.gov.vn")
    page = client.get(f"/meetings/{meeting_doc.meeting_id}/items/{meeting_doc.item_id}").get_data(as_text=True)
    assert meeting_doc.title in page
    home = client.get("/").get_data(as_text=True)
    assert re.search(r"1 (unread documents|tài liệu chưa đọc)", home), home[:3000]


def test_meeting_page_lists_each_items_documents_with_the_readers_unread_marks(client, with_guest, cabinet, storage,
                                                                                briefing):
    from ecabinet.documents import service

    secretary = actor(cabinet["secretary"])
    own = service.upload(secretary, with_guest.items[0], io.BytesIO(briefing), "a.pdf", title="Tài liệu mục một")
    other = service.upload(secretary, with_guest.items[1], io.BytesIO(briefing), "b.pdf", title="Tài liệu mục hai")
    service.touch_receipt(cabinet["member"], service.version_of(own))
    db.session.commit()
    signed_in(client, "member@example.gov.vn")
    page = client.get(f"/meetings/{with_guest.id}").get_data(as_text=True)
    rows = re.findall(r'<li class="document-row( unread)?">\s*<a class="document-title" href="/documents/(\d+)">', page)
    assert rows == [("", str(own.id)), (" unread", str(other.id))]
    client = client.application.test_client()
    signed_in(client, "guest@example.gov.vn")  # invited to item 1 only: never sees item 2's document
    page = client.get(f"/meetings/{with_guest.id}").get_data(as_text=True)
    assert own.title in page and other.title not in page and f"/documents/{other.id}" not in page


# --- every route, every role ------------------------------------------------------------------------

ROLES = ["anonymous", "guest_own", "guest_other", "member", "outsider", "chair", "secretary", "admin"]


def _walk_setup(with_guest, cabinet, briefing):
    from ecabinet.documents import service
    from tests.documents.app_fixtures import actor
    from tests.meetings.conftest import make_outsider

    sec = actor(cabinet["secretary"])
    own = service.upload(sec, with_guest.items[0], io.BytesIO(briefing), "own.pdf")
    other = service.upload(sec, with_guest.items[1], io.BytesIO(briefing), "other.pdf", confidential=True)
    note = service.add_annotation(actor(cabinet["member"]), own, {"kind": "note", "page": 1, "body": "x"})
    make_outsider()
    db.session.commit()
    return own, other, note


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("documents."):
            yield rule


@pytest.mark.parametrize("role", ROLES)
def test_every_documents_route_for_every_role(role, app, client, with_guest, cabinet, storage, briefing,
                                              immediate_jobs):
    own, other, note = _walk_setup(with_guest, cabinet, briefing)
    email = {"guest_own": "guest", "guest_other": "guest", "outsider": "outsider"}.get(role, role)
    token = "" if role == "anonymous" else signed_in(client, f"{email}@example.gov.vn")
    document = other if role == "guest_other" else own
    args = {"meeting_id": with_guest.id, "item_id": document.item_id, "document_id": document.id,
            "annotation_id": note.id}
    seen = {}
    for rule in _routes(app):
        path = rule.rule
        for name, value in args.items():
            path = path.replace(f"<int:{name}>", str(value))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            headers = {"X-CSRFToken": token, "Accept": "application/json"}
            if method == "GET":
                r = client.get(path)
            elif rule.endpoint in ("documents.upload", "documents.new_version"):
                r = client.post(path, data={"file": (io.BytesIO(briefing), "x.pdf"), "csrf_token": token},
                                headers=headers, content_type="multipart/form-data")
            elif rule.endpoint == "documents.confidential":
                r = client.post(path, data={"csrf_token": token, "confidential": "y"})
            else:
                r = client.open(path, method=method, json={"kind": "note", "page": 1, "body": "hello"},
                                headers=headers)
            assert r.status_code < 500, (role, method, path, r.get_data(as_text=True)[:500])
            seen[(rule.endpoint, method)] = r.status_code
    if role == "anonymous":
        # Writes without a session have no valid CSRF token either: refused before the guard (400).
        assert all(code in (302, 400, 401) for code in seen.values()), seen
    elif role in ("outsider", "admin", "guest_other"):
        hidden = {k: v for k, v in seen.items() if k[0] not in ("documents.search_page",)}
        # The guest may see the meeting (their own item), so meeting-level pages answer; documents do not.
        for (endpoint, method), code in hidden.items():
            if role == "guest_other" and endpoint.startswith(("documents.board_book", "documents.receipts")):
                continue
            assert code in (403, 404), (role, endpoint, method, code)
        assert seen[("documents.search_page", "GET")] == 200
    elif role in ("member", "chair", "guest_own"):
        assert seen[("documents.show", "GET")] == 200
        assert seen[("documents.stream", "GET")] == 200
        assert seen[("documents.download", "GET")] == 200
        assert seen[("documents.upload", "POST")] == 403
        assert seen[("documents.original", "GET")] == 403
        assert seen[("documents.receipts", "GET")] in (403, 404)
    elif role == "secretary":
        assert seen[("documents.original", "GET")] == 200
        assert seen[("documents.upload", "POST")] == 201
        assert seen[("documents.receipts", "GET")] == 200


def test_guest_sees_no_document_of_another_item(client, with_guest, cabinet, storage, briefing):
    own, other, _note = _walk_setup(with_guest, cabinet, briefing)
    signed_in(client, "guest@example.gov.vn")
    assert client.get(f"/documents/{own.id}/file").status_code == 200
    for path in (f"/documents/{other.id}", f"/documents/{other.id}/file", f"/documents/{other.id}/download",
                 f"/documents/{other.id}/annotations"):
        assert client.get(path).status_code == 404


# --- the real-world corpus through the upload path ----------------------------------------------------

def test_corpus_through_the_upload_path(client, with_guest, cabinet, storage):
    require_corpus()
    expected = corpus_pages()
    token = signed_in(client, "secretary@example.gov.vn")
    url = _upload_url(with_guest, with_guest.items[0])
    outcomes = {}
    for path in corpus_files():
        r = upload_http(client, token, url, path.read_bytes(), path.name)
        if r.status_code == 201:
            if path.name in expected:
                assert r.json["document"]["pages"] == expected[path.name], path.name
            outcomes[path.name] = r.json["document"]["pages"]
        else:
            assert 400 <= r.status_code < 500 and r.json.get("code") and r.json.get("error"), (path.name, r.data[:300])
            outcomes[path.name] = r.json["code"]
    assert outcomes
