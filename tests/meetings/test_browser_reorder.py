"""Drag and drop on the agenda, in a real browser: the new order is saved all at once."""

from __future__ import annotations

from playwright.sync_api import expect

from ecabinet.extensions import db
from tests.conftest import PASSWORD


def test_secretary_reorders_by_drag_and_drop(draft, cabinet, live_server, browser):
    first, second, third = draft.items
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/login")
        page.get_by_label("Email").fill("secretary@example.gov.vn")
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(live_server.url + "/")
        page.goto(f"{live_server.url}/meetings/{draft.id}")
        with page.expect_navigation():  # the page reloads once the server has accepted the order
            page.locator(f"#item-{third.id}").drag_to(page.locator(f"#item-{first.id}"),
                                                      target_position={"x": 20, "y": 3})
        expect(page.locator(".agenda-item").first).to_have_attribute("data-item-id", str(third.id))
        db.session.rollback()
        db.session.refresh(draft)
        assert [i.id for i in sorted(draft.items, key=lambda i: i.position)] == [third.id, first.id, second.id]
    finally:
        context.close()
