"""The demo meeting gets Vietnamese briefing PDFs that search finds; loading twice changes nothing."""

from __future__ import annotations

from ecabinet.documents import search
from ecabinet.documents.models import Document
from ecabinet.extensions import db
from tests.documents.app_fixtures import count_rows, storage  # noqa: F401


def test_demo_documents(app, storage):  # noqa: F811
    from ecabinet.accounts import service as accounts
    from ecabinet.demo import load_demo
    from ecabinet.documents.demo import load_documents_demo

    load_demo("demo-password-123")
    db.session.commit()  # the command's boundary
    count = count_rows(Document)
    assert count >= 3
    assert load_documents_demo("x") == ["Demo documents already loaded."]
    assert count_rows(Document) == count
    chair = accounts.find_user_by_email("thutuong@ecabinet.gov.vn")
    hits = search.search(chair, "no cong")
    assert any(h.kind == "document" for h in hits)
