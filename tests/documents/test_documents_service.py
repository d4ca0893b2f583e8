"""Briefing documents through the service: intake, storage, versions, copies, receipts, annotations."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from ecabinet.audit.models import AuditEntry
from ecabinet.core.policy import Denied
from ecabinet.documents import service
from ecabinet.documents.models import Annotation, Document, DocumentVersion, SearchEntry
from ecabinet.extensions import db
from ecabinet.pdf.errors import IntakeError
from tests.documents.app_fixtures import *  # noqa: F403
from tests.documents.app_fixtures import actor, blob_files, count_rows


def test_upload_stores_facts_once_by_content(with_guest, cabinet, storage, briefing):
    sec = actor(cabinet["secretary"])
    item = with_guest.items[0]
    first = service.upload(sec, item, io.BytesIO(briefing), "to-trinh.pdf")
    second = service.upload(sec, item, io.BytesIO(briefing), "to-trinh-copy.pdf", title="Bản sao")
    db.session.commit()
    v1 = first.latest
    assert v1.page_count >= 1 and v1.size == len(briefing) and len(v1.sha256) == 64
    assert first.title == "Tờ trình dự thảo Nghị định về đầu tư công"
    assert "đầu tư công" in " ".join(v1.texts())
    assert second.title == "Bản sao" and second.position == 2
    assert len(blob_files(storage)) == 1  # the same bytes are stored once
    assert count_rows(SearchEntry) >= 2
    actions = list(db.session.scalars(select(AuditEntry.action)))
    assert actions.count("document.upload") == 2


def test_an_upload_queues_the_prepared_copy_readers_copies_are_made_from(with_guest, cabinet, storage, briefing,
                                                                        immediate_jobs):
    from ecabinet.pdf.copies import FORMAT
    from ecabinet.pdf.storage import BlobStore

    document = service.upload(actor(cabinet["secretary"]), with_guest.items[0], io.BytesIO(briefing), "to-trinh.pdf")
    db.session.commit()  # the job is queued once the upload is committed
    prepared = BlobStore(storage).prepared_path(document.latest.sha256, FORMAT)
    assert prepared.is_file() and PdfReader(prepared).get_num_pages() == document.latest.page_count
    copy = service.open_copy(actor(cabinet["member"]), document, purpose="download")
    assert "Mã bản sao" in PdfReader(copy.path).pages[0].extract_text()


@pytest.fixture
def queued_preparations():
    """The prepared-copy jobs queued, in order, instead of running them."""
    import ecabinet.jobs  # noqa: F401 - registers the real jobs first, so they do not replace the stand-in
    from ecabinet.documents import jobs

    real = jobs.queued_jobs.get(jobs.PREPARE_COPIES)
    queued: list[str] = []
    jobs.queued_jobs.register(jobs.PREPARE_COPIES)(queued.append)
    yield queued
    jobs.queued_jobs.register(jobs.PREPARE_COPIES)(real)


def test_an_uploads_preparation_is_queued_after_its_commit_and_never_after_a_rollback(
        with_guest, cabinet, storage, briefing, briefing_v2, queued_preparations):
    sec = actor(cabinet["secretary"])
    service.upload(sec, with_guest.items[0], io.BytesIO(briefing), "a.pdf")
    assert queued_preparations == []  # not before the document's row is committed
    db.session.rollback()
    db.session.commit()
    assert queued_preparations == []  # the upload was rolled back: no job for it, ever
    document = service.upload(sec, with_guest.items[0], io.BytesIO(briefing_v2), "b.pdf")
    sha256 = document.latest.sha256
    assert queued_preparations == []
    db.session.commit()
    assert queued_preparations == [sha256]


def test_an_upload_and_a_new_version_are_room_events_of_their_item(meeting_doc, cabinet, briefing_v2):
    from ecabinet.live.models import MeetingEvent

    service.replace(actor(cabinet["secretary"]), meeting_doc, io.BytesIO(briefing_v2), "v2.pdf")
    db.session.commit()
    events = db.session.execute(select(MeetingEvent.type, MeetingEvent.item_id)
                                .where(MeetingEvent.meeting_id == meeting_doc.meeting_id,
                                       MeetingEvent.type.like("document.%"))
                                .order_by(MeetingEvent.seq)).all()
    # Once each (published, not also taken from the audit log), scoped to the item for redaction.
    assert [tuple(e) for e in events] == [("document.upload", meeting_doc.item_id),
                                          ("document.new_version", meeting_doc.item_id)]


def test_refused_upload_stores_nothing_and_says_why(with_guest, cabinet, storage):
    sec = actor(cabinet["secretary"])
    with pytest.raises(IntakeError) as info:
        service.upload(sec, with_guest.items[0], io.BytesIO(b"<html>not a pdf</html>"), "x.pdf")
    assert info.value.code == "not_pdf"
    assert blob_files(storage) == [] and count_rows(Document) == 0 and count_rows(DocumentVersion) == 0
    assert not any((storage / "incoming").iterdir())


def test_only_the_secretariat_uploads(with_guest, cabinet, storage, briefing):
    with pytest.raises(Denied):
        service.upload(actor(cabinet["member"]), with_guest.items[0], io.BytesIO(briefing), "a.pdf")


def test_reader_copy_carries_the_watermark_and_the_audited_copy_code(meeting_doc, cabinet):
    member = cabinet["member"]
    served = service.open_copy(actor(member), meeting_doc, purpose="download")
    text = "".join(page.extract_text() for page in PdfReader(served.path).pages)
    assert member.name in text and served.copy_code in text and member.organisation in text
    db.session.commit()  # the boundary's commit appends the recorded entry to the chain
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "document.copy_made")).all()
    assert any(json.loads(e.details)["copy_code"] == served.copy_code for e in entries)
    assert service.find_copy(served.copy_code).user_id == member.id
    # The cached copy is reused: same code, no second stamping.
    again = service.open_copy(actor(member), meeting_doc, purpose="view")
    assert again.copy_code == served.copy_code


def test_secretariat_gets_the_original(meeting_doc, cabinet, storage):
    served = service.open_copy(actor(cabinet["secretary"]), meeting_doc, purpose="download")
    assert served.copy_code is None and served.path == service.blobs().path(meeting_doc.latest.sha256)


def test_confidential_is_view_only(meeting_doc, cabinet):
    service.set_confidential(actor(cabinet["secretary"]), meeting_doc, True)
    with pytest.raises(service.DocumentError):
        service.open_copy(actor(cabinet["member"]), meeting_doc, purpose="download")
    assert service.open_copy(actor(cabinet["member"]), meeting_doc, purpose="view").copy_code


def test_new_version_keeps_old_ones_notifies_and_marks_updated(meeting_doc, cabinet, briefing_v2):
    member = cabinet["member"]
    service.open_copy(actor(member), meeting_doc, purpose="view")
    assert service.read_states(member, [meeting_doc])[meeting_doc.id].read
    assert service.unread_count(member, meeting_doc.item.meeting) == 0
    service.replace(actor(cabinet["secretary"]), meeting_doc, io.BytesIO(briefing_v2), "v2.pdf")
    assert [v.number for v in meeting_doc.versions] == [1, 2] and meeting_doc.current_version == 2
    state = service.read_states(member, [meeting_doc])[meeting_doc.id]
    assert state.updated_since_read and not state.read
    assert service.unread_count(member, meeting_doc.item.meeting) == 1
    from ecabinet.notifications.models import Notification

    notes = db.session.scalars(select(Notification).where(Notification.user_id == member.id)).all()
    assert any("version" in n.key for n in notes)
    # Receipts: the secretariat sees the member read version 1 only.
    rows = service.receipts_overview(meeting_doc.item.meeting)
    reader = next(r for r in rows[0].readers if r[0].id == member.id)
    assert reader[1] is None and reader[2] == 1


def test_annotations_carry_over_to_a_new_version(meeting_doc, cabinet, briefing_v2):
    member = actor(cabinet["member"])
    texts = meeting_doc.latest.texts()
    page = next(i for i, t in enumerate(texts, 1) if "Điều 5" in t)
    moved = service.add_annotation(member, meeting_doc, {
        "kind": "note", "page": page, "body": "Hỏi lại Bộ Tài chính",
        "quote": "Điều 5 quy định về trình tự lập kế hoạch", "prefix": "", "suffix": "đầu tư công"})
    gone = service.add_annotation(member, meeting_doc, {
        "kind": "note", "page": page, "body": "Đoạn này sẽ bị bỏ", "quote": "Dự thảo Nghị định quy định chi tiết"})
    plain = service.add_annotation(member, meeting_doc, {"kind": "note", "page": 1, "body": "Ghi chú trang 1"})
    service.replace(actor(cabinet["secretary"]), meeting_doc, io.BytesIO(briefing_v2), "v2.pdf")
    db.session.commit()
    db.session.expire_all()
    new_texts = meeting_doc.latest.texts()
    expected = next(i for i, t in enumerate(new_texts, 1) if "Điều 5" in t)
    assert db.session.get(Annotation, moved.id).page == expected
    assert db.session.get(Annotation, gone.id).page is None  # unplaced, not lost
    assert db.session.get(Annotation, plain.id).page == 1
    listed = service.annotations_for(cabinet["member"], meeting_doc)
    assert {a.id for a in listed} == {moved.id, gone.id, plain.id}
    assert all(a.version_number == 2 for a in listed)
    # Private by default: another member does not see them.
    assert service.annotations_for(cabinet["member2"], meeting_doc) == []


def test_a_highlight_that_moves_to_another_page_gets_rectangles_measured_there(with_guest, cabinet, storage,
                                                                                tmp_path):
    from ecabinet.documents.demo_pdf import make_demo_pdf

    article = "Điều 5 quy định về trình tự lập kế hoạch đầu tư công trung hạn."
    make_demo_pdf("Tờ trình", ["Mở đầu.", article], tmp_path / "v1.pdf", one_page_per_paragraph=True)
    make_demo_pdf("Tờ trình", ["Mở đầu.", "Nội dung mới chen vào trước.", article], tmp_path / "v2.pdf",
                  one_page_per_paragraph=True)
    secretary, member = actor(cabinet["secretary"]), actor(cabinet["member"])
    document = service.upload(secretary, with_guest.items[0], (tmp_path / "v1.pdf").open("rb"), "v1.pdf")
    old_rects = [[0.5, 0.5, 0.2, 0.02]]
    mark = service.add_annotation(member, document, {
        "kind": "highlight", "page": 2, "quote": "Điều 5 quy định về trình tự", "rects": old_rects})
    note = service.add_annotation(member, document, {"kind": "note", "page": 2, "body": "Không trích dẫn"})
    service.replace(secretary, document, (tmp_path / "v2.pdf").open("rb"), "v2.pdf")
    db.session.commit()
    db.session.expire_all()
    moved = db.session.get(Annotation, mark.id)
    assert moved.page == 3
    rects = json.loads(moved.rects)
    assert len(rects) == 1 and rects != old_rects
    x, y, w, h = rects[0]
    assert 0.05 < x < 0.3 and 0 < y < 0.5 and 0.1 < w < 0.7 and 0 < h < 0.05  # near the top left, one line
    assert db.session.get(Annotation, note.id).page == 2  # no quote: stays where it was


def test_find_anchor_ignores_accents_and_line_breaks():
    pages = ["mở đầu", "Điều 5 quy định\nvề trình tự", "kết luận"]
    assert service.find_anchor("dieu 5 quy dinh ve", "", "", pages, 1) == 2
    assert service.find_anchor("không có", "", "", pages, 1) is None
