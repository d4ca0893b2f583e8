"""A secretary edits the minutes, the chair approves them, and the signed PDF is downloaded."""

from __future__ import annotations

import io

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.conftest import PASSWORD, LiveServer


def _sign_in(browser, base_url: str, email: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(base_url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base_url + "/")
    return context, page


def test_secretary_edits_chair_approves_and_downloads(closed_meeting, cabinet, browser, db_url, tmp_path,
                                                      signing_pair):
    server = LiveServer(db_url, tmp_path, SIGNING_KEY=str(signing_pair[0]),
                        SIGNING_CERT=str(signing_pair[1])).start()
    contexts = []
    try:
        sec_ctx, sec = _sign_in(browser, server.url, "secretary@example.gov.vn")
        contexts.append(sec_ctx)
        sec.goto(f"{server.url}/meetings/{closed_meeting.id}/minutes")
        sec.get_by_role("button", name="Lập dự thảo biên bản từ hồ sơ phiên họp").click()
        editor = sec.locator("#minutes-editor")
        expect(editor).to_contain_text("BIÊN BẢN PHIÊN HỌP")
        editor.click()
        sec.keyboard.press("Control+End")
        sec.keyboard.type(" Chủ tọa kết luận: thông qua tờ trình.")
        sec.get_by_role("button", name="Lưu thành bản sửa đổi mới").click()
        expect(sec.get_by_test_id("minutes-text")).to_contain_text("Chủ tọa kết luận: thông qua tờ trình.")
        sec.get_by_label("Hạn góp ý của thành viên").fill("2030-01-15T17:00")
        sec.get_by_role("button", name="Gửi lấy ý kiến thành viên").click()
        expect(sec.get_by_test_id("minutes-status")).to_have_text("Đang lấy ý kiến")
        minutes_url = sec.url

        chair_ctx, chair = _sign_in(browser, server.url, "chair@example.gov.vn")
        contexts.append(chair_ctx)
        chair.goto(minutes_url)
        chair.on("dialog", lambda dialog: dialog.accept())
        chair.get_by_role("button", name="Phê duyệt và ký").click()
        expect(chair.get_by_test_id("minutes-status")).to_have_text("Bản chính thức")
        expect(chair.get_by_test_id("signature")).to_contain_text("Đã ký và nguyên vẹn")
        with chair.expect_download() as info:
            chair.get_by_test_id("download-pdf").click()
        data = open(info.value.path(), "rb").read()
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
        assert "Chủ tọa kết luận: thông qua tờ trình." in text
    finally:
        for context in contexts:
            context.close()
        server.stop()
