"""Three browsers run a live vote: the chair opens it from the console, two members vote on their
tablets and see their receipts, the chair closes it, and everyone sees the result. Then a member answers
a written-opinion ballot through its page, after confirming their password."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from ecabinet.extensions import db
from tests.browser import sign_in
from tests.conftest import PASSWORD, ROOT
from tests.meetings.conftest import actor
from tests.voting.conftest import make_live, make_written

TABLET, DESKTOP = (1024, 768), (1440, 900)


def _artifact(name: str) -> Path:
    """Screenshots for a person to look at (``TEST_ARTIFACTS_DIR``, by default tests/artifacts)."""
    folder = Path(os.environ.get("TEST_ARTIFACTS_DIR", ROOT / "tests" / "artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def test_live_vote_in_the_browser(quorate, cabinet, live_server, browser):
    make_live(quorate, cabinet, title="Thông qua Nghị quyết phiên họp")
    mid = quorate.id
    contexts = []
    try:
        chair_ctx, chair = sign_in(browser, live_server.url, "chair@example.gov.vn", f"/meetings/{mid}/console",
                                   DESKTOP)
        m1_ctx, m1 = sign_in(browser, live_server.url, "member@example.gov.vn", f"/meetings/{mid}/room", TABLET)
        m2_ctx, m2 = sign_in(browser, live_server.url, "member2@example.gov.vn", f"/meetings/{mid}/room", TABLET)
        contexts = [chair_ctx, m1_ctx, m2_ctx]
        for page in (chair, m1, m2):
            expect(page.get_by_test_id("meeting-status")).to_have_text("Đang họp")

        chair.get_by_role("button", name="Mở biểu quyết").click()
        for page in (chair, m1, m2):
            expect(page.get_by_test_id("ballot-participation")).to_have_text("0 / 4 thành viên đã biểu quyết")

        m1.get_by_role("button", name="Tán thành", exact=True).click()
        expect(m1.get_by_test_id("vote-receipt")).to_have_text(
            re.compile(r"Đã ghi nhận phiếu “Tán thành” của bạn — mã biên nhận [A-Z2-9]{4}-[A-Z2-9]{4}"))
        # The chosen option is filled and says so; changing it asks first, and keeping it changes nothing.
        chosen = m1.get_by_role("button", name=re.compile("Tán thành"))
        expect(chosen).to_have_attribute("aria-pressed", "true")
        expect(chosen).to_contain_text("lựa chọn của bạn")
        m1.get_by_role("button", name="Không tán thành", exact=True).click()
        expect(m1.locator("#vote-confirm")).to_be_visible()
        expect(m1.locator("#vote-confirm-text")).to_have_text("Đổi phiếu của bạn thành “Không tán thành”?")
        m1.get_by_role("button", name="Giữ nguyên phiếu").click()
        expect(m1.locator("#vote-confirm")).to_be_hidden()
        m1.reload()  # the device keeps its own choice and receipt
        expect(m1.get_by_role("button", name=re.compile("Tán thành"))).to_have_attribute("aria-pressed", "true",
                                                                                       timeout=10000)
        for name, size in (("phone", (390, 844)), ("tablet-landscape", (1366, 1024))):
            m1.set_viewport_size({"width": size[0], "height": size[1]})
            m1.get_by_test_id("vote-receipt").scroll_into_view_if_needed()
            m1.screenshot(path=str(_artifact(f"room-vote-{name}-{size[0]}x{size[1]}.png")))
        m2.get_by_role("button", name="Tán thành", exact=True).click()
        expect(m2.get_by_test_id("vote-receipt")).to_be_visible()
        expect(chair.get_by_test_id("ballot-participation")).to_have_text("2 / 4 thành viên đã biểu quyết")

        chair.get_by_role("button", name="Kết thúc biểu quyết").click()
        chair.get_by_role("button", name="Xác nhận kết thúc ngay").click()
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
    context, page = sign_in(browser, live_server.url, "member@example.gov.vn", "/ballots", TABLET)
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


class Taps:
    """Counts what the member taps: a click or a check is one tap."""

    def __init__(self, page) -> None:  # noqa: ANN001
        self.page, self.count = page, 0

    def tap(self, locator) -> None:  # noqa: ANN001
        locator.click()
        self.count += 1


def test_voting_in_a_live_vote_takes_two_taps_from_home(quorate, cabinet, live_server, browser):
    from ecabinet.voting import service

    ballot = make_live(quorate, cabinet, title="Thông qua Nghị quyết phiên họp")
    service.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    context, page = sign_in(browser, live_server.url, "member@example.gov.vn", "/", TABLET)
    try:
        taps = Taps(page)
        taps.tap(page.get_by_test_id("pending-ballots").get_by_role("link", name="Thông qua Nghị quyết phiên họp"))
        taps.tap(page.get_by_role("button", name="Tán thành", exact=True))
        expect(page.get_by_test_id("my-receipt")).to_be_visible()
        assert taps.count <= 2
    finally:
        context.close()


def test_a_written_opinion_of_three_questions_takes_five_taps_and_shows_what_was_given(cabinet, live_server,
                                                                                      browser):
    from ecabinet.voting import service

    ballot = make_written(cabinet, questions=("Câu 1?", "Câu 2?", "Câu 3?"))
    service.approve_ballot(actor(cabinet["chair"]), ballot)
    service.send_ballot(actor(cabinet["secretary"]), ballot)
    db.session.commit()
    context, page = sign_in(browser, live_server.url, "member@example.gov.vn", "/", TABLET)
    try:
        taps = Taps(page)
        taps.tap(page.get_by_test_id("pending-ballots").get_by_role("link"))
        # ``all()`` does not wait: without this the questions of a page still loading are none.
        questions = page.locator("fieldset.ballot-question")
        expect(questions).to_have_count(3)
        for fieldset in questions.all():
            taps.tap(fieldset.get_by_label("Đồng ý", exact=True))
        taps.tap(page.get_by_role("button", name="Gửi phiếu"))
        expect(page.get_by_test_id("my-receipt")).to_be_visible()
        assert taps.count <= 5
        # What was given stays on the page, and the form comes back filled for a change.
        answers = page.get_by_test_id("my-answers")
        expect(answers).to_contain_text("Câu 3?")
        expect(answers.locator("dd")).to_have_count(3)
        assert page.locator("fieldset.ballot-question input:checked").count() == 3
        page.locator("fieldset.ballot-question").nth(1).get_by_label("Ý kiến khác", exact=True).check()
        page.locator("fieldset.ballot-question").nth(1).locator("textarea").fill("Đề nghị làm rõ thẩm quyền.")
        page.get_by_role("button", name="Sửa ý kiến").click()
        expect(page.get_by_test_id("my-answers")).to_contain_text("Đề nghị làm rõ thẩm quyền.")
    finally:
        context.close()
