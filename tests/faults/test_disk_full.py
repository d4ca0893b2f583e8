"""The storage directory's file system is full when a briefing is uploaded.

Nothing is simulated in the application: STORAGE_DIR is a real 1 MB tmpfs mounted for the test (as
root), filled with a ballast file so that the kernel answers ENOSPC either while the upload is received
(``incoming/``) or while it is stored under its content hash (``objects/``). Proves: the upload fails
with HTTP 507 and a message naming the problem (no disk space left), no partial file is left in the
storage directory, nothing is stored in the database (no document, version or audit entry), and once
space is freed the same upload succeeds.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ecabinet.audit.models import AuditEntry
from ecabinet.documents.models import Document, DocumentVersion
from tests.documents.app_fixtures import count_rows, signed_in, upload_http
from tests.faults.conftest import _unavailable
from tests.meetings.conftest import cabinet, draft, published  # noqa: F401 - fixtures reused here

pytestmark = pytest.mark.timeout(60)

SIZE = 1024 * 1024


@pytest.fixture
def full_disk(app, tmp_path):
    """STORAGE_DIR on a 1 MB tmpfs of its own; unmounted at the end whatever happens."""
    storage = tmp_path / "storage"
    storage.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        _unavailable("mounting a small tmpfs for STORAGE_DIR needs root and mount(8)")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(storage)],
                             capture_output=True, text=True, timeout=10)
    if mounted.returncode != 0:
        _unavailable(f"this machine does not allow mounting a tmpfs: {mounted.stderr.strip()}")
    app.config["STORAGE_DIR"] = str(storage)
    try:
        yield storage
    finally:
        subprocess.run(["umount", "-l", str(storage)], capture_output=True, timeout=10)


@pytest.fixture(scope="module")
def big_briefing() -> bytes:
    """A valid PDF of about 300 KB that does not compress (a random-filled image)."""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject

    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    image = DecodedStreamObject()
    image.set_data(secrets.token_bytes(550 * 550))
    image.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
                  NameObject("/Width"): NumberObject(550), NameObject("/Height"): NumberObject(550),
                  NameObject("/ColorSpace"): NameObject("/DeviceGray"),
                  NameObject("/BitsPerComponent"): NumberObject(8)})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): DictionaryObject(
        {NameObject("/Im0"): writer._add_object(image)})})
    content = DecodedStreamObject()
    content.set_data(b"q 550 0 0 550 20 200 cm /Im0 Do Q")
    page[NameObject("/Contents")] = ArrayObject([writer._add_object(content)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _free(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def _leave_free(storage: Path, wanted: int) -> Path:
    ballast = storage / "ballast"
    with ballast.open("wb") as fh:
        fh.write(b"\0" * max(0, _free(storage) - wanted))
    return ballast


def _files(storage: Path) -> list[str]:
    return sorted(str(p.relative_to(storage)) for p in storage.rglob("*") if p.is_file() and p.name != "ballast")


@pytest.mark.parametrize("fails_while", ["receiving", "storing"])
def test_upload_to_a_full_disk(client, published, cabinet, full_disk, big_briefing, fails_while):  # noqa: F811
    size = len(big_briefing)
    # Receiving needs the upload's size once; storing it under its hash needs it a second time.
    wanted = size // 2 if fails_while == "receiving" else size + size // 2
    ballast = _leave_free(full_disk, wanted)
    token = signed_in(client, "secretary@example.gov.vn")
    audit_before = count_rows(AuditEntry)
    url = f"/meetings/{published.id}/items/{published.items[0].id}/documents"

    r = upload_http(client, token, url, big_briefing, "to-trinh.pdf")
    assert r.status_code == 507, r.get_data(as_text=True)
    assert "hết dung lượng" in r.json["error"]  # "no disk space left", in the default Vietnamese
    assert _files(full_disk) == []  # no partial file anywhere under STORAGE_DIR
    assert count_rows(Document) == 0 and count_rows(DocumentVersion) == 0
    from ecabinet.extensions import db

    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "document.upload")) == 0
    assert count_rows(AuditEntry) == audit_before

    ballast.unlink()
    again = upload_http(client, token, url, big_briefing, "to-trinh.pdf")
    assert again.status_code == 201, again.get_data(as_text=True)
    assert count_rows(Document) == 1
