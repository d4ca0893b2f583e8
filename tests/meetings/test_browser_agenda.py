"""In a browser: a secretary builds and publishes an agenda, a member marks positions, and the consent
block holds exactly the items nobody objects to or wants to speak on."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import PASSWORD


def _sign_in(browser, base_url: str, email: str):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm prompts
    page.goto(base_url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base_url + "/")
    return context, page


def _add_item(page, title: str, kind: str, minutes: str) -> None:
    form = page.locator("#new-item")
    form.get_by_label("Tên mục").fill(title)
    form.get_by_label("Thời lượng dự kiến (phút)").fill(minutes)
    form.get_by_label("Loại").select_option(kind)
    form.get_by_role("button", name="Thêm mục").click()
    expect(page.locator(".agenda-item", has_text=title)).to_be_visible()
    # The page's modules still load after the list shows; a key pressed meanwhile could be lost.
    page.wait_for_load_state("load")


def test_secretary_builds_and_publishes_member_marks_positions_consent_block(cabinet, live_server, browser):
    base = live_server.url
    contexts = []
    try:
        sec_ctx, sec = _sign_in(browser, base, "secretary@example.gov.vn")
        contexts.append(sec_ctx)
        sec.get_by_role("link", name="Phiên họp", exact=True).click()
        sec.get_by_role("link", name="Phiên họp mới").click()
        sec.get_by_label("Tên phiên họp").fill("Phiên họp thử nghiệm")
        sec.get_by_label("Bắt đầu").fill("2031-03-03T08:00")
        sec.get_by_label("Dự kiến kết thúc").fill("2031-03-03T10:00")
        sec.get_by_label("Địa điểm").fill("Hà Nội")
        sec.get_by_role("button", name="Lưu").click()
        expect(sec.locator("h1")).to_have_text("Phiên họp thử nghiệm")

        _add_item(sec, "Nghị định A", "decision", "20")
        _add_item(sec, "Nghị định B", "decision", "20")
        _add_item(sec, "Báo cáo C", "information", "10")
        _add_item(sec, "Nghị quyết D", "decision", "15")
        expect(sec.locator(".agenda-time")).to_contain_text("65 trên 120 phút")

        # Keyboard reordering: the "up" button of D, reached and pressed from the keyboard.
        up = sec.get_by_role("button", name="Chuyển Nghị quyết D lên")
        up.focus()
        expect(up).to_be_focused()
        sec.keyboard.press("Enter")
        expect(sec.locator(".agenda-item .item-title")).to_have_text(
            ["Nghị định A", "Nghị định B", "Nghị quyết D", "Báo cáo C"])

        sec.get_by_role("button", name="Công bố chương trình").click()
        expect(sec.locator(".flash-info")).to_contain_text("Đã công bố chương trình")
        meeting_url = sec.url.split("#")[0]

        mem_ctx, mem = _sign_in(browser, base, "member@example.gov.vn")
        contexts.append(mem_ctx)
        card = mem.locator(".meeting-card", has_text="Phiên họp thử nghiệm")
        expect(card).to_contain_text("3 mục đang chờ ý kiến của tôi")
        card.get_by_role("link", name="Phiên họp thử nghiệm").click()
        for title, choice in (("Nghị định A", "Đồng ý"), ("Nghị định B", "Phản đối"), ("Nghị quyết D", "Đồng ý")):
            item = mem.locator(".agenda-item", has_text=title)
            item.get_by_label(choice).check()
            item.get_by_role("button", name="Lưu ý kiến").click()
            expect(mem.locator(".flash-info")).to_contain_text("Đã lưu ý kiến")
        expect(mem.locator(".agenda-item", has_text="Nghị định B").get_by_label("Phản đối")).to_be_checked()

        sec.goto(meeting_url)
        sec.get_by_role("link", name="Ý kiến và nhóm đồng thuận").click()
        expect(sec.locator(".consent-list li")).to_have_text(["1. Nghị định A", "3. Nghị quyết D"])
        # Who has not responded yet: the other members, not the one who did.
        row = sec.locator("tr", has_text="Nghị định B")
        expect(row).to_contain_text("Test member 2")
        expect(row).not_to_contain_text("Test member,")
    finally:
        for context in contexts:
            context.close()
