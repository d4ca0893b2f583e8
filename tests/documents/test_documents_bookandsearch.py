"""Board books as a background job (progress, cache, invalidation) and diacritic-free search through the policy."""

from __future__ import annotations

import io
import json
import time

import requests
from pypdf import PdfReader
from sqlalchemy import select

from ecabinet.audit.models import AuditEntry
from ecabinet.documents import search, service
from ecabinet.extensions import db
from tests.documents.app_fixtures import *  # noqa: F403
from tests.documents.app_fixtures import actor, signed_in
from tests.helpers import http_login
from tests.pdf import crafted


def test_board_book_is_built_cached_and_invalidated(meeting_doc, cabinet, immediate_jobs, briefing_v2, client):
    meeting = meeting_doc.item.meeting
    member = cabinet["member"]
    book = service.request_board_book(actor(member), meeting)
    db.session.commit()  # the job is queued once the request commits (and runs at once: immediate jobs)
    db.session.refresh(book)
    assert book.status == "ready" and book.page_count > meeting_doc.latest.page_count
    state = service.board_book_state(member, meeting)
    assert state["status"] == "ready" and state["done"] == state["total"]
    path, _name, code = service.open_board_book(actor(member), meeting)
    reader = PdfReader(path)
    text = reader.pages[-1].extract_text()
    assert member.name in text and code in text
    titles = [o.title if not isinstance(o, list) else None for o in reader.outline]
    assert any(t and t.startswith("1. ") for t in titles)
    # Same inputs: the cached book is reused.
    assert service.request_board_book(actor(member), meeting).copy_code == code
    # A new version changes the inputs: the book is stale until rebuilt.
    service.replace(actor(cabinet["secretary"]), meeting_doc, io.BytesIO(briefing_v2), "v2.pdf")
    assert service.board_book_state(member, meeting)["status"] == "stale"
    book = service.request_board_book(actor(member), meeting)
    db.session.commit()
    db.session.refresh(book)
    assert book.copy_code != code
    built = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "document.board_book_built")).all()
    assert len(built) == 2 and json.loads(built[-1].details)["reader_id"] == member.id


def test_board_book_holds_only_what_the_reader_may_see(with_guest, cabinet, storage, briefing, immediate_jobs):
    sec = actor(cabinet["secretary"])
    service.upload(sec, with_guest.items[0], io.BytesIO(briefing), "own.pdf", title="Tài liệu của khách")
    service.upload(sec, with_guest.items[1], io.BytesIO(briefing), "other.pdf", title="Tài liệu mục hai")
    service.request_board_book(actor(cabinet["guest"]), with_guest)
    db.session.commit()
    path, _name, _code = service.open_board_book(actor(cabinet["guest"]), with_guest)
    outline = json.dumps([str(o) for o in PdfReader(path).outline], ensure_ascii=False)
    assert "Tài liệu của khách" in outline and "Tài liệu mục hai" not in outline


def test_board_book_status_endpoint(client, meeting_doc, cabinet, immediate_jobs):
    token = signed_in(client, "member@example.gov.vn")
    url = f"/meetings/{meeting_doc.meeting_id}/board-book"
    assert client.get(url + "/status").json["status"] == "none"
    assert client.post(url, headers={"X-CSRFToken": token}).status_code == 202
    assert client.get(url + "/status").json["status"] == "ready"
    r = client.get(url + "/file")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Content-Disposition"].startswith("attachment")


def test_search_ignores_diacritics_and_respects_the_policy(with_guest, cabinet, storage, briefing, client):
    from ecabinet.meetings import service as meetings

    sec = actor(cabinet["secretary"])
    own = service.upload(sec, with_guest.items[0], io.BytesIO(briefing), "a.pdf")
    other = service.upload(sec, with_guest.items[1], io.BytesIO(briefing), "b.pdf")
    meetings.update_item(sec, with_guest.items[2], meetings.ItemData(
        title="Báo cáo tình hình kinh tế", summary="Tóm tắt về thị trường bất động sản", duration_minutes=15))
    member_hits = search.search(cabinet["member"], "nghi dinh")
    assert {h.document_id for h in member_hits if h.kind == "document"} == {own.id, other.id}
    assert any(h.page for h in member_hits)
    assert "Nghị định" in member_hits[0].snippet or "nghị định" in member_hits[0].snippet.lower()
    guest_hits = search.search(cabinet["guest"], "NGHI DINH")
    assert {h.document_id for h in guest_hits if h.kind == "document"} == {own.id}
    items = search.search(cabinet["member"], "bat dong san")
    assert [h.item_id for h in items] == [with_guest.items[2].id] and items[0].kind == "item"
    from tests.meetings.conftest import make_outsider

    assert search.search(make_outsider(), "nghi dinh") == []
    db.session.commit()
    signed_in(client, "member@example.gov.vn")
    page = client.get("/search?q=nghi+dinh").get_data(as_text=True)
    assert own.title in page
    assert search.search(cabinet["member"], "\"'); DROP TABLE x; --") == []


def test_server_stays_responsive_while_a_100000_page_file_is_refused(with_guest, cabinet, live_server):
    session = http_login(live_server.url, "secretary@example.gov.vn", "correct-horse-battery")
    home = session.get(live_server.url + "/").text
    token = home.split('name="csrf-token" content="')[1].split('"')[0]
    url = f"{live_server.url}/meetings/{with_guest.id}/items/{with_guest.items[0].id}/documents"
    import threading

    payload = crafted.many_pages_pdf()
    result = {}

    def upload() -> None:
        result["r"] = session.post(url, files={"file": ("huge.pdf", payload, "application/pdf")},
                                   headers={"X-CSRFToken": token, "Accept": "application/json"}, timeout=60)

    thread = threading.Thread(target=upload)
    thread.start()
    latencies = []
    # Probe while the upload is received, parsed in the child and refused (and a little after).
    while thread.is_alive() or len(latencies) < 3:
        started = time.monotonic()
        assert requests.get(live_server.url + "/healthz", timeout=5).status_code == 200
        latencies.append(time.monotonic() - started)
        time.sleep(0.02)
    thread.join(60)
    r = result["r"]
    assert r.status_code == 422 and r.json()["code"] == "too_many_pages", r.text[:300]
    assert max(latencies) < 1.0, latencies


def test_search_finds_decree_numbers_and_decimals_on_both_databases(with_guest, cabinet):
    from ecabinet.meetings import service as meetings

    sec = actor(cabinet["secretary"])
    meetings.update_item(sec, with_guest.items[2], meetings.ItemData(
        title="Sửa đổi Nghị định số 123/2024/NĐ-CP", summary="Tăng trưởng 6.5 phần trăm", duration_minutes=15))
    for query in ("nghi dinh 123/2024", "123 2024 nd cp", "nd-cp", "6.5", "tang truong 6"):
        hits = search.search(cabinet["member"], query)
        assert [h.item_id for h in hits] == [with_guest.items[2].id], query


def test_unselective_query_ranks_a_bounded_window_of_the_newest_matches(with_guest, cabinet, monkeypatch):
    from ecabinet.meetings import service as meetings

    monkeypatch.setattr(search, "RANK_WINDOW", 2)
    sec = actor(cabinet["secretary"])
    titles = ["Đầu tư công", "Đầu tư công đầu tư công đầu tư công", "Kế hoạch đầu tư công"]
    for item, title in zip(with_guest.items, titles, strict=False):
        meetings.update_item(sec, item, meetings.ItemData(title=title, duration_minutes=15))
    newest_two = search.search(cabinet["member"], "dau tu", limit=10)
    assert len(newest_two) == 2  # three match; only the two newest index rows are ranked
    monkeypatch.setattr(search, "RANK_WINDOW", 500)
    assert len(search.search(cabinet["member"], "dau tu", limit=10)) == 3


def test_board_book_whose_job_cannot_be_queued_is_not_left_queued(client, meeting_doc, cabinet, monkeypatch):
    """Redis (the production job queue) refusing connections: the request answers 503, and the book is
    marked failed rather than "queued", so the reader's next request queues it again."""
    from huey.storage import RedisStorage

    from ecabinet.jobs import huey
    from tests.conftest import free_port

    monkeypatch.setattr(huey, "immediate", False)
    monkeypatch.setattr(huey, "storage", RedisStorage("ecabinet", url=f"redis://127.0.0.1:{free_port()}/0"))
    token = signed_in(client, "member@example.gov.vn")
    url = f"/meetings/{meeting_doc.meeting_id}/board-book"
    assert client.post(url, headers={"X-CSRFToken": token}).status_code == 503
    assert client.get(url + "/status").json["status"] == "failed"


def test_a_document_is_indexed_page_by_page_as_its_whole_text_would_be():
    """Folded a page at a time (the instance runs between pages), the index holds what folding the whole
    text at once held: the same words, cut at the same length, whatever sits at a page's edge."""
    def whole(title: str, pages: list[str]) -> str:
        return search.index_text(title + "\n" + "\n".join(pages))[:search.MAX_INDEXED_CHARS]

    cases = [
        ("Tờ trình", ["Nghị định 123/2024/NĐ-CP", "", "  ", "QUYẾT ĐỊNH"]),
        ("", ["e\u0301 ở đầu trang", "\u0301dấu rời", "Straße ǅ ﬁ"]),  # a combining mark opening a page
        ("Báo cáo", ["Kinh tế " * 3_000] * 20),  # beyond MAX_INDEXED_CHARS: cut where the whole was
        ("Tiêu đề", []),
    ]
    for title, pages in cases:
        assert search.document_index_text(title, pages) == whole(title, pages)
    assert len(search.document_index_text("x", ["Kinh tế " * 3_000] * 20)) == search.MAX_INDEXED_CHARS
