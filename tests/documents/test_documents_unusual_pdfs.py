"""PDFs that readers show but that are unusual inside reach readers through the upload route: a page a billion
units wide with a null /CropBox is accepted, and its download and viewer copies are valid and watermarked."""

from __future__ import annotations

import io

import pikepdf
from pypdf import PdfReader

from tests.documents.app_fixtures import *  # noqa: F403
from tests.documents.app_fixtures import signed_in, upload_http
from tests.pdf import crafted


def test_huge_mediabox_with_a_null_cropbox_uploads_and_downloads_a_watermarked_copy(app, client, with_guest, cabinet,
                                                                                    storage):
    token = signed_in(client, "secretary@example.gov.vn")
    url = f"/meetings/{with_guest.id}/items/{with_guest.items[0].id}/documents"
    r = upload_http(client, token, url, crafted.huge_mediabox_pdf(), "12-huge-mediabox.pdf")
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.json["document"]["pages"] == 1
    doc_id = r.json["document"]["id"]
    reader = app.test_client()  # a member: the secretary is served the original
    signed_in(reader, "member@example.gov.vn")
    for path in (f"/documents/{doc_id}/download", f"/documents/{doc_id}/file"):
        got = reader.get(path)
        assert got.status_code == 200, (path, got.get_data(as_text=True)[:300])
        assert got.headers["Content-Type"] == "application/pdf"
        with pikepdf.open(io.BytesIO(got.data), attempt_recovery=False) as pdf:
            assert len(pdf.pages) == 1 and pdf.check_pdf_syntax() == []
            # The page clamped to the largest the PDF format allows, the null crop box gone.
            assert [float(v) for v in pdf.pages[0].mediabox] == [0, 0, 14400, 14400]
            assert "/CropBox" not in pdf.pages[0].obj
        text = PdfReader(io.BytesIO(got.data)).pages[0].extract_text()
        assert "Hello crafted page" in text and cabinet["member"].name in text
