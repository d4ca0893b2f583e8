"""In Chromium, on SQLite: a ministry's liaison sends a submission with a PDF, the secretariat finds it
in the intake queue and puts it on a meeting's agenda; axe-core finds no serious violation on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ecabinet.extensions import db
from tests.browser import sign_in, violations
from tests.submissions.conftest import JUSTICE, in_days

SIZE = (1366, 1024)


@pytest.mark.both_databases
def test_liaison_submits_and_the_secretariat_accepts_to_a_meeting(db_url, browser, live_server, liaisons, published,
                                                                  briefing):
    from ecabinet.meetings.models import MeetingItem
    from ecabinet.submissions.models import Submission, SubmissionStatus

    context, page = sign_in(browser, live_server.url, JUSTICE, "/submissions/new", SIZE)
    try:
        page.get_by_label("Tên hồ sơ").fill("Dự thảo Nghị định về công chứng")
        page.get_by_label("Loại", exact=True).select_option("decree")
        page.get_by_label("Độ khẩn").select_option("urgent")
        page.get_by_label("Đề nghị hình thức xử lý").select_option("meeting")
        page.get_by_label("Hạn trả lời").fill(in_days(20))
        page.get_by_label("Tài liệu (PDF)").set_input_files(
            files=[{"name": "to-trinh.pdf", "mimeType": "application/pdf", "buffer": briefing}])
        assert violations(page) == []
        page.get_by_role("button", name="Gửi bộ phận thư ký").click()
        expect(page.get_by_test_id("submission-status")).to_have_text("Chờ bộ phận thư ký xử lý")
        expect(page.get_by_test_id("version-1-documents")).to_contain_text("1 trang")
    finally:
        context.close()

    context, page = sign_in(browser, live_server.url, "secretary@example.gov.vn", "/submissions/intake", SIZE)
    try:
        page.get_by_role("link", name="Dự thảo Nghị định về công chứng").click()
        expect(page.get_by_test_id("submission-ministry")).to_have_text("Bộ Tư pháp")
        assert violations(page) == []
        form = page.get_by_test_id("accept-meeting-form")
        form.get_by_label("Phiên họp", exact=True).select_option(str(published.id))
        form.get_by_role("button", name="Đưa vào chương trình").click()
        expect(page.get_by_test_id("submission-status")).to_have_text("Đã tiếp nhận")
        expect(page.get_by_test_id("submission-outcome")).to_contain_text(published.title)
    finally:
        context.close()
    db.session.rollback()
    submission = db.session.query(Submission).one()
    assert submission.status is SubmissionStatus.ACCEPTED
    item = db.session.get(MeetingItem, submission.agenda_item_id)
    assert item.meeting_id == published.id and item.ministry == "Bộ Tư pháp"
