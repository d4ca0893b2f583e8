"""Three browsers: the chair moves the item, both tablets follow, a member asks for the floor, the chair
grants it, and everyone sees who speaks."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import sign_in

TABLET = (1024, 768)


def test_chair_moves_item_members_follow_and_floor_is_granted(in_session, cabinet, live_server, browser):
    mid = in_session.id
    second = in_session.items[1]
    contexts = []
    try:
        chair_ctx, chair = sign_in(browser, live_server.url, "chair@example.gov.vn", f"/meetings/{mid}/console",
                                   (1440, 900))
        m1_ctx, m1 = sign_in(browser, live_server.url, "member@example.gov.vn", f"/meetings/{mid}/room", TABLET)
        m2_ctx, m2 = sign_in(browser, live_server.url, "member2@example.gov.vn", f"/meetings/{mid}/room", TABLET)
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
    context, page = sign_in(browser, live_server.url, "member@example.gov.vn", f"/meetings/{in_session.id}/room",
                            TABLET)
    try:
        expect(page.get_by_test_id("meeting-status")).to_have_text("Đang họp")
        # The first attempt to reconnect waits 4 s (instead of 0.5–1.5 s), so that a busy machine still
        # sees the tablet while it is disconnected.
        page.evaluate("""() => {
            const manager = window.ecabinetLive.socket.io;
            manager.randomizationFactor(0); manager.reconnectionDelay(4000); manager.reconnectionDelayMax(4000);
            manager.engine.close();
        }""")
        expect(page.locator("#live-connection")).to_be_visible()
        expect(page.locator("#live-connection")).to_have_text("Mất kết nối. Đang kết nối lại…")
        expect(page.get_by_role("button", name="Điểm danh: tại phòng họp")).to_be_disabled()
        # Socket.IO reconnects by itself; the room comes back to the current state.
        expect(page.locator("#live-connection")).to_be_hidden(timeout=15000)
        expect(page.get_by_role("button", name="Điểm danh: tại phòng họp")).to_be_enabled()
    finally:
        context.close()
