"""The secretariat's bulk work in a real browser, at desktop 1440x900 and tablet portrait 1024x1366: invite a
whole ministry, check in every member with one action, send a reminder, and preview a spreadsheet import.
axe-core finds no serious or critical violation; screenshots go to tests/artifacts/secretariat-*.png."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from ecabinet.accounts import service as accounts
from ecabinet.accounts.models import Role
from ecabinet.extensions import db
from ecabinet.meetings import service
from tests.browser import sign_in as _sign_in
from tests.browser import violations as _violations
from tests.conftest import PASSWORD, ROOT
from tests.meetings.conftest import SYSTEM

ARTIFACTS = ROOT / "tests" / "artifacts"
SIZES = {"desktop-1440x900": (1440, 900), "tablet-portrait-1024x1366": (1024, 1366)}






def _agenda_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["Tiêu đề", "Cơ quan trình", "Người trình bày", "Thời lượng", "Loại", "Tóm tắt"])
    sheet.append(["Dự thảo Nghị định về quản lý nợ công", "Bộ Tài chính", "Bộ trưởng Bộ Tài chính", 20, "quyết định",
                  ""])
    sheet.append(["Báo cáo tình hình giải ngân vốn đầu tư công", "Bộ Tài chính", "", 15, "thông tin", ""])
    sheet.append(["", "Bộ Y tế", "", "mười", "decision", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("size_name", sorted(SIZES))
def test_participants_bulk_work_and_import_preview(browser, live_server, published, cabinet, size_name):
    size = SIZES[size_name]
    for n, (name, ministry) in enumerate([("Nguyễn Văn An", "Bộ Tài chính"), ("Lê Thị Bình", "Bộ Tài chính"),
                                          ("Trần Văn Cường", "Bộ Y tế")]):
        accounts.create_user(SYSTEM, accounts.UserData(email=f"new{n}@example.gov.vn", name=name,
                                                       title="Thứ trưởng", organisation=ministry,
                                                       role=Role.MEMBER), PASSWORD)
    db.session.commit()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = f"/meetings/{published.id}/participants"
    context, page = _sign_in(browser, live_server.url, cabinet["secretary"].email, path, size)
    try:
        # Everyone from one ministry, in one action.
        page.locator("#invite-ministry").select_option(label="Bộ Tài chính (2)")
        page.get_by_test_id("invite-ministry").click()
        expect(page.locator(".flash").first).to_contain_text("Đã thêm 2 người tham dự")
        expect(page.locator("#invite-ministry option")).to_have_count(1)  # only Bộ Y tế is left
        # A reminder to those who have not answered (the six members); the page records who was told.
        page.get_by_test_id("send-reminder").click()
        expect(page.locator(".flash").first).to_contain_text("Đã gửi nhắc nhở tới 6 người chưa trả lời")
        expect(page.locator("tbody .told").filter(has_text="Đã nhắc 1 lần")).to_have_count(6)
        # Every member present, checked in at once.
        page.get_by_label("Chọn tất cả thành viên").check()
        page.locator("#bulk-mode").select_option("room")
        page.get_by_test_id("bulk-check-in").click()
        expect(page.locator(".flash").first).to_contain_text("Đã điểm danh 6 thành viên")
        expect(page.locator(".quorum").first).to_contain_text("Đủ")
        expect(page.get_by_test_id("send-reminder")).to_be_disabled()  # everyone present has acknowledged
        assert _violations(page) == []
        page.screenshot(path=str(ARTIFACTS / f"secretariat-participants-{size_name}.png"), full_page=True)

        # The import's preview: two rows ready, one with its faults named; nothing stored yet.
        before = len(service.get_meeting(published.id).items)
        page.goto(live_server.url + f"/meetings/{published.id}/import")
        page.locator("#file").set_input_files({"name": "chuong-trinh.xlsx", "buffer": _agenda_xlsx(),
                                                "mimeType": "application/vnd.openxmlformats-officedocument"
                                                            ".spreadsheetml.sheet"})
        page.get_by_test_id("import-preview").click()
        expect(page.locator(".import-preview")).to_contain_text("2 dòng có thể nhập")
        expect(page.locator("#import-row-4")).to_contain_text("Thiếu tên mục")
        expect(page.locator("#import-row-4")).to_contain_text("“mười” không phải là số phút")
        assert _violations(page) == []
        page.screenshot(path=str(ARTIFACTS / f"secretariat-import-{size_name}.png"), full_page=True)
        db.session.expire_all()
        assert len(service.get_meeting(published.id).items) == before
        page.get_by_test_id("import-confirm").click()
        page.wait_for_url(live_server.url + f"/meetings/{published.id}#agenda")
        expect(page.get_by_role("link", name="Dự thảo Nghị định về quản lý nợ công")).to_be_visible()
    finally:
        context.close()
