"""A member signs in with a real browser (Debian's Chromium) and sees the home page in both languages."""

from __future__ import annotations

from tests.conftest import PASSWORD


def test_member_signs_in_and_switches_language(live_server, users, browser):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server.url + "/")
    assert page.url.startswith(live_server.url + "/login")
    page.get_by_label("Email").fill("member@example.gov.vn")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("heading", name="Xin chào, Test member").is_visible()

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Welcome, Test member").is_visible()
    assert page.locator("html").get_attribute("lang") == "en"

    page.get_by_role("button", name="Tiếng Việt").click()
    assert page.get_by_role("heading", name="Xin chào, Test member").is_visible()
    # The CSP blocks inline script: a violation would show up as a console error.
    assert [e for e in errors if "Content Security Policy" in e] == []
    context.close()


def test_touch_targets_are_large_enough(live_server, users, browser):
    context = browser.new_context(viewport={"width": 800, "height": 1280}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(live_server.url + "/login")
    for locator in (page.get_by_role("button", name="Đăng nhập"), page.get_by_label("Email")):
        box = locator.bounding_box()
        assert box is not None and box["height"] >= 44
    context.close()
