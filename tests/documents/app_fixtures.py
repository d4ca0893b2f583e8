"""Fixtures for the briefing-documents tests (app level): a published meeting with documents.

Import the fixtures you use into the test module (``from tests.documents.app_fixtures import *``); the
meeting fixtures come from tests/meetings/conftest.py.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ecabinet.extensions import db
from tests.helpers import login
from tests.meetings.conftest import actor, cabinet, draft, published  # noqa: F401

__all__ = ["actor", "cabinet", "draft", "published", "storage", "briefing", "briefing_v2", "with_guest",
           "meeting_doc", "signed_in", "upload_http", "count_rows", "blob_files", "immediate_jobs"]

V1 = ["## Sự cần thiết ban hành Nghị định",
      "Dự thảo Nghị định quy định chi tiết về quản lý đầu tư công được xây dựng theo chỉ đạo của Chính phủ.",
      "Điều 5 quy định về trình tự lập kế hoạch đầu tư công trung hạn và hằng năm của các bộ, ngành.",
      "Kinh phí thực hiện được bố trí từ ngân sách nhà nước theo phân cấp hiện hành."]
V2 = ["## Sự cần thiết ban hành Nghị định (bản sửa)",
      "Bản này bổ sung ý kiến thẩm định của Bộ Tư pháp và các địa phương.",
      "Nội dung mới ở đầu văn bản đẩy các đoạn cũ xuống dưới.",
      "Điều 5 quy định về trình tự lập kế hoạch đầu tư công trung hạn và hằng năm của các bộ, ngành.",
      "Kinh phí thực hiện được bố trí từ ngân sách nhà nước theo phân cấp hiện hành."]


@pytest.fixture
def storage(app, tmp_path) -> Path:
    path = tmp_path / "storage"
    app.config["STORAGE_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def briefing(tmp_path_factory) -> bytes:
    from ecabinet.documents.demo_pdf import make_demo_pdf

    path = tmp_path_factory.mktemp("brief") / "to-trinh.pdf"
    make_demo_pdf("Tờ trình dự thảo Nghị định về đầu tư công", V1, path)
    return path.read_bytes()


@pytest.fixture(scope="session")
def briefing_v2(tmp_path_factory) -> bytes:
    from ecabinet.documents.demo_pdf import make_demo_pdf

    path = tmp_path_factory.mktemp("brief") / "to-trinh-v2.pdf"
    make_demo_pdf("Tờ trình dự thảo Nghị định về đầu tư công (sửa đổi)", V2, path)
    return path.read_bytes()


@pytest.fixture
def with_guest(published, cabinet):
    """The guest is invited to item 1 only."""
    from ecabinet.meetings import service

    service.invite_guest(actor(cabinet["secretary"]), published.items[0], cabinet["guest"])
    db.session.commit()
    return published


@pytest.fixture
def meeting_doc(with_guest, cabinet, storage, briefing):
    """A document on item 1 (the guest's item) of the published meeting."""
    from ecabinet.documents import service

    document = service.upload(actor(cabinet["secretary"]), with_guest.items[0], io.BytesIO(briefing),
                              "to-trinh.pdf")
    db.session.commit()
    return document


@pytest.fixture
def immediate_jobs():
    from ecabinet.jobs import huey

    before = huey.immediate
    huey.immediate = True
    yield huey
    huey.immediate = before


def signed_in(client, email: str) -> str:
    """Sign in; return a CSRF token for header-authenticated requests."""
    from tests.conftest import PASSWORD

    login(client, email, PASSWORD)
    return _meta_token(client)


def _meta_token(client) -> str:
    import re

    html = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def upload_http(client, token: str, url: str, data: bytes, filename: str = "file.pdf"):
    return client.post(url, data={"file": (io.BytesIO(data), filename)}, headers={"X-CSRFToken": token,
                       "Accept": "application/json"}, content_type="multipart/form-data")


def count_rows(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def blob_files(storage: Path) -> list[Path]:
    objects = storage / "objects"
    return [p for p in objects.rglob("*") if p.is_file() and p.parent.name != "tmp"] if objects.exists() else []
