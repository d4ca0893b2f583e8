"""In Chromium, on SQLite: a ministry's liaison sends a submission with a PDF asking for written opinions,
the secretariat accepts it for written opinions, the chair's approved ballot reaches the members (who can
open the submission's document from it), and once it closes the liaison reads the outcome. axe-core finds
no serious violation on the liaison's pages and on the intake queue."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ecabinet.extensions import db
from tests.browser import sign_in, violations
from tests.submissions.conftest import BROWSER_SIZE, SYSTEM, in_days

TITLE = "Dự thảo Nghị quyết về thủ tục công chứng điện tử"


@pytest.mark.both_databases
def test_a_written_opinion_submission_reaches_the_members_and_its_outcome_the_liaison(
        db_url, browser, live_server, liaison_sends, cabinet):
    from ecabinet.submissions.models import Submission, SubmissionStatus
    from ecabinet.voting import service as voting
    from ecabinet.voting.models import BallotKind

    liaison = liaison_sends(TITLE, kind="resolution", urgency="normal", handling="written", deadline_days=15)
    expect(liaison.get_by_text("Lấy ý kiến bằng văn bản")).to_be_visible()
    assert violations(liaison) == []
    submission_url = liaison.url

    # The secretariat: the intake queue, the submission, accepted for written opinions.
    context, page = sign_in(browser, live_server.url, "secretary@example.gov.vn", "/submissions/intake", BROWSER_SIZE)
    try:
        expect(page.get_by_test_id("submission-row")).to_have_count(1)
        assert violations(page) == []
        page.get_by_role("link", name=TITLE).click()
        form = page.get_by_test_id("accept-written-form")
        form.get_by_label("Hạn gửi ý kiến bằng văn bản").fill(in_days(7))
        form.get_by_role("button", name="Soạn phiếu lấy ý kiến").click()
        expect(page.get_by_test_id("submission-status")).to_have_text("Đã tiếp nhận")
        expect(page.get_by_test_id("submission-outcome")).to_contain_text("Đã gửi lấy ý kiến bằng văn bản.")
        expect(page.get_by_test_id("outcome-ballot")).to_have_text("Mở phiếu lấy ý kiến")
    finally:
        context.close()

    db.session.rollback()
    submission = db.session.query(Submission).one()
    assert submission.status is SubmissionStatus.ACCEPTED
    ballot = voting.get_ballot(submission.ballot_id)
    assert ballot.kind is BallotKind.WRITTEN and ballot.title == TITLE
    # The chair approves the drafted ballot, and it opens (the voting domain's own steps).
    voting.approve_ballot(SYSTEM, ballot)
    voting.open_ballot(SYSTEM, ballot)
    db.session.commit()

    # A member sees the ballot, and from it the submission's document.
    context, page = sign_in(browser, live_server.url, "member@example.gov.vn", "/ballots", BROWSER_SIZE)
    try:
        page.get_by_role("link", name=TITLE).first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
        document = page.get_by_role("link", name=submission.latest.documents[0].title)
        expect(document).to_have_attribute(
            "href", f"/submissions/{submission.id}/files/{submission.latest.documents[0].id}")
        answer = page.request.get(live_server.url + document.get_attribute("href"))
        assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    finally:
        context.close()

    # Not decided yet, for the liaison; closing the ballot gives the submission its outcome.
    liaison.goto(submission_url)
    expect(liaison.get_by_test_id("submission-outcome")).to_contain_text("Chưa có quyết định.")
    expect(liaison.get_by_test_id("outcome-ballot")).to_have_count(0)  # ballots are not the liaison's
    voting.close_ballot(SYSTEM, voting.get_ballot(submission.ballot_id), reason="deadline")
    db.session.commit()
    liaison.reload()
    expect(liaison.get_by_test_id("outcome-value")).to_be_visible()
    expect(liaison.get_by_test_id("submission-outcome")).not_to_contain_text("Chưa có quyết định.")
    assert violations(liaison) == []
