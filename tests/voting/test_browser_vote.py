"""Three browsers run a live vote: the chair opens it from the console, two members vote on their
tablets and see their receipts, the chair closes it, and everyone sees the result. Then a member answers
a written-opinion ballot through its page, after confirming their password."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from ecabinet.extensions import db
from tests.conftest import PASSWORD
from tests.live.test_room_browser import _sign_in
from tests.meetings.conftest import actor
from tests.voting.conftest import make_live, make_written


def test_live_vote_in_the_browser(quorate, cabinet, live_server, browser):
    make_live(quorate, cabinet, title="Thông qua Nghị quyết phiên họp")
    mid = quorate.id
    contexts = []
    try:
        chair_ctx, chair = _sign_in(browser, live_server.url, "chair@example.gov.vn", f"/meetings/{mid}/console",
                                    tablet=False)
        m1_ctx, m1 = _sign_in(browser, live_server.url, "member@example.gov.vn", f"/meetings/{mid}/room")
        m2_ctx, m2 = _sign_in(browser, live_server.url, "member2@example.gov.vn", f"/meetings/{mid}/room")
        contexts = [chair_ctx, m1_ctx, m2_ctx]
        for page in (chair, m1, m2):
            expect(page.get_by_test_id("meeting-status")).to_have_text("Đang họp")

        chair.get_by_role("button", name="Mở biểu quyết").click()
        for page in (chair, m1, m2):
            expect(page.get_by_test_id("ballot-participation")).to_have_text("0 / 4 thành viên đã biểu quyết")

        m1.get_by_role("button", name="Tán thành", exact=True).click()
        expect(m1.get_by_test_id("vote-receipt")).to_have_text(
            re.compile(r"Đã ghi nhận phiếu biểu quyết của bạn — mã biên nhận [A-Z2-9]{4}-[A-Z2-9]{4}"))
        m2.get_by_role("button", name="Tán thành", exact=True).click()
        expect(m2.get_by_test_id("vote-receipt")).to_be_visible()
        expect(chair.get_by_test_id("ballot-participation")).to_have_text("2 / 4 thành viên đã biểu quyết")

        chair.get_by_role("button", name="Kết thúc biểu quyết").click()
        for page in (chair, m1, m2):
            expect(page.get_by_test_id("ballot-result")).to_have_text(
                "Kết quả: Thông qua — Tán thành 2 · Không tán thành 0 · Không biểu quyết 0")
    finally:
        for context in contexts:
            context.close()


def test_written_opinion_in_the_browser(cabinet, live_server, browser):
    from ecabinet.voting import service

    ballot = make_written(cabinet, questions=("Đồng ý ban hành Nghị định?",))
    service.approve_ballot(actor(cabinet["chair"]), ballot)
    service.send_ballot(actor(cabinet["secretary"]), ballot)
    db.session.commit()
    context, page = _sign_in(browser, live_server.url, "member@example.gov.vn", "/ballots")
    try:
        page.get_by_test_id("pending-ballots").get_by_role("link").click()
        page.get_by_label("Ý kiến khác", exact=True).check()
        page.get_by_role("button", name="Gửi phiếu").click()
        # The session is fresh from the sign-in just now, so no confirmation is needed; "other" needs a comment.
        expect(page.locator(".flash-error")).to_contain_text("cần có ý kiến")
        page.get_by_label("Ý kiến khác", exact=True).check()
        page.get_by_label("Ý kiến (bắt buộc với “Ý kiến khác”)").fill("Cần bổ sung đánh giá tác động.")
        page.get_by_role("button", name="Gửi phiếu").click()
        expect(page.locator("p.flash-info").first).to_contain_text("mã biên nhận")
        expect(page.get_by_test_id("my-receipt")).to_be_visible()
        expect(page.get_by_test_id("participation")).to_have_text("1 / 4 thành viên đã biểu quyết")
    finally:
        context.close()
    assert PASSWORD
