"""Three browsers: the chair moves the item, both tablets follow, a member asks for the floor, the chair
grants it, and everyone sees who speaks."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import PASSWORD


def _sign_in(browser, base_url: str, email: str, path: str, tablet: bool = True):
    viewport = {"width": 1024, "height": 768} if tablet else {"width": 1440, "height": 900}
    context = browser.new_context(viewport=viewport, has_touch=tablet)
    page = context.new_page()
    page.goto(base_url + "/login?next=" + path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base_url + path)
    return context, page


def test_chair_moves_item_members_follow_and_floor_is_granted(in_session, cabinet, live_server, browser):
    mid = in_session.id
    second = in_session.items[1]
    contexts = []
    try:
        chair_ctx, chair = _sign_in(browser, live_server.url, "chair@example.gov.vn", f"/meetings/{mid}/console",
                                    tablet=False)
        m1_ctx, m1 = _sign_in(browser, live_server.url, "member@example.gov.vn", f"/meetings/{mid}/room")
        m2_ctx, m2 = _sign_in(browser, live_server.url, "member2@example.gov.vn", f"/meetings/{mid}/room")
        contexts = [chair_ctx, m1_ctx, m2_ctx]
        for page in (chair, m1, m2):
            expect(page.get_by_test_id("meeting-status")).to_have_text("Đang họp")

        chair.locator("#live-items").get_by_role("button", name=f"2. {second.title}").click()
        for page in (m1, m2):
            expect(page.get_by_test_id("shown-item")).to_have_text(second.title)

        # Browsing freely, then back with one tap.
        m2.locator("#live-items").get_by_role("button", name=f"1. {in_session.items[0].title}").click()
        expect(m2.get_by_test_id("shown-item")).to_have_text(in_session.items[0].title)
        m2.get_by_role("button", name="Trở về vấn đề đang thảo luận").click()
        expect(m2.get_by_test_id("shown-item")).to_have_text(second.title)

        m1.get_by_role("button", name="Đăng ký phát biểu").click()
        expect(chair.get_by_test_id("queue")).to_contain_text("Test member")
        chair.get_by_test_id("queue").get_by_role("button", name="Mời phát biểu").click()
        for page in (chair, m1, m2):
            expect(page.get_by_test_id("floor")).to_contain_text("Đang phát biểu: Test member")
    finally:
        for context in contexts:
            context.close()


def test_tablet_shows_reconnecting_and_disables_actions(in_session, live_server, browser):
    context, page = _sign_in(browser, live_server.url, "member@example.gov.vn", f"/meetings/{in_session.id}/room")
    try:
        expect(page.get_by_test_id("meeting-status")).to_have_text("Đang họp")
        page.evaluate("window.ecabinetLive.socket.io.engine.close()")
        expect(page.locator("#live-connection")).to_be_visible()
        expect(page.locator("#live-connection")).to_have_text("Mất kết nối. Đang kết nối lại…")
        expect(page.get_by_role("button", name="Điểm danh: tại phòng họp")).to_be_disabled()
        # Socket.IO reconnects by itself; the room comes back to the current state.
        expect(page.locator("#live-connection")).to_be_hidden(timeout=15000)
        expect(page.get_by_role("button", name="Điểm danh: tại phòng họp")).to_be_enabled()
    finally:
        context.close()
