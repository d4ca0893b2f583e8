"""In Chromium, on SQLite: a ministry's liaison sends a submission with a PDF, the secretariat finds it
in the intake queue and puts it on a meeting's agenda; axe-core finds no serious violation on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ecabinet.extensions import db
from tests.browser import sign_in, violations
from tests.submissions.conftest import BROWSER_SIZE


@pytest.mark.both_databases
def test_liaison_submits_and_the_secretariat_accepts_to_a_meeting(db_url, browser, live_server, liaison_sends,
                                                                  published):
    from ecabinet.meetings.models import MeetingItem
    from ecabinet.submissions.models import Submission, SubmissionStatus

    liaison = liaison_sends("Dự thảo Nghị định về công chứng", kind="decree", urgency="urgent", handling="meeting",
                            deadline_days=20)
    expect(liaison.get_by_test_id("version-1-documents")).to_contain_text("1 trang")

    context, page = sign_in(browser, live_server.url, "secretary@example.gov.vn", "/submissions/intake", BROWSER_SIZE)
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
