"""The minutes draft gathers what other domains know: the ballots with their rule, counts and result,
and each item's briefing documents by title and version."""

from __future__ import annotations

import io

from ecabinet.extensions import db
from tests.live.conftest import in_session  # noqa: F401 - fixtures reused here
from tests.meetings.conftest import actor
from tests.voting.conftest import cvid, live_open, quorate  # noqa: F401 - fixtures reused here


def test_draft_lists_ballots_and_documents(live_open, cabinet, app, tmp_path):  # noqa: F811
    from ecabinet.documents import service as documents
    from ecabinet.documents.demo_pdf import make_demo_pdf
    from ecabinet.meetings import service as meetings
    from ecabinet.minutes import service
    from ecabinet.voting import service as voting

    meeting = meetings.get_meeting(live_open.meeting_id)
    item = meeting.items[0]
    pdf = tmp_path / "totrinh.pdf"
    make_demo_pdf("Tờ trình Nghị quyết A", ["Nội dung tờ trình."], pdf)
    documents.upload(actor(cabinet["secretary"]), item, io.BytesIO(pdf.read_bytes()), "totrinh.pdf",
                     title="Tờ trình Nghị quyết A")
    db.session.commit()  # the upload's boundary; the votes below are committed (or rolled back) by their own
    for who in ("chair", "member", "member2"):
        voting.cast_vote(actor(cabinet[who]), live_open.id, "approve", cvid())
    voting.close_ballot(actor(cabinet["chair"]), live_open)
    chair = actor(cabinet["chair"])
    meetings.adjourn_meeting(chair, meeting)
    meetings.close_meeting(chair, meeting)

    minutes = service.create_draft(actor(cabinet["secretary"]), meeting)
    body = service.current_body(minutes)
    assert "Tờ trình Nghị quyết A (phiên bản 1)" in body
    assert "Biểu quyết “Thông qua Nghị quyết A”" in body and "Kết quả: thông qua" in body
    assert "tán thành: 3" in body and "approve" not in body  # options named in Vietnamese


def test_export_holds_the_readers_board_book_and_archive_search_finds_documents(closed_meeting, cabinet, app,
                                                                               client, tmp_path):
    import zipfile

    from ecabinet.documents import service as documents
    from ecabinet.documents.demo_pdf import make_demo_pdf
    from ecabinet.minutes import service
    from tests.conftest import PASSWORD
    from tests.helpers import login

    pdf = tmp_path / "baocao.pdf"
    make_demo_pdf("Báo cáo giải ngân", ["Tình hình giải ngân vốn đầu tư công."], pdf)
    documents.upload(actor(cabinet["secretary"]), closed_meeting.items[0], io.BytesIO(pdf.read_bytes()),
                     "baocao.pdf", title="Báo cáo giải ngân")
    db.session.commit()  # the upload's boundary: the archive page below reads what is committed
    archive = zipfile.ZipFile(io.BytesIO(service.export_record(actor(cabinet["member"]), closed_meeting)))
    books = [n for n in archive.namelist() if n.startswith("tai-lieu-phien-hop-")]
    assert len(books) == 1 and archive.read(books[0]).startswith(b"%PDF")

    login(client, "member@example.gov.vn", PASSWORD)
    page = client.get("/archive?q=giai+ngan+von").get_data(as_text=True)
    assert "Báo cáo giải ngân" in page
