"""In a browser, on a tablet-sized screen: a member reads a briefing and adds a note, the secretariat
uploads version 2, and the member's note is still there."""

from __future__ import annotations

import io

from playwright.sync_api import expect

from ecabinet.extensions import db
from tests.conftest import PASSWORD
from tests.documents.app_fixtures import *  # noqa: F403
from tests.documents.app_fixtures import V2, actor

TABLET = {"width": 820, "height": 1180}


def _sign_in(browser, base_url: str, email: str):
    context = browser.new_context(viewport=TABLET, has_touch=True, is_mobile=False)
    page = context.new_page()
    page.goto(base_url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base_url + "/")
    return context, page


def test_tablet_viewer_note_and_new_version(with_guest, cabinet, live_server, briefing, tmp_path, app, browser):
    from ecabinet.documents import service
    from ecabinet.documents.demo_pdf import make_demo_pdf

    app.config["STORAGE_DIR"] = str(tmp_path / "instance" / "storage")
    document = service.upload(actor(cabinet["secretary"]), with_guest.items[0], io.BytesIO(briefing), "a.pdf")
    db.session.commit()
    v2 = tmp_path / "to-trinh-v2.pdf"
    make_demo_pdf("Tờ trình dự thảo Nghị định về đầu tư công (sửa đổi)", V2, v2)
    base = live_server.url
    contexts = []
    problems: list[str] = []
    try:
        mem_ctx, mem = _sign_in(browser, base, "member@example.gov.vn")
        contexts.append(mem_ctx)
        mem.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        mem.on("pageerror", lambda e: problems.append(str(e)))
        mem.goto(f"{base}/meetings/{with_guest.id}/items/{with_guest.items[0].id}")
        mem.get_by_role("link", name=document.title).click()
        expect(mem.locator("#viewer.ready")).to_be_visible(timeout=20_000)
        expect(mem.locator(".page canvas").first).to_be_visible(timeout=20_000)
        # Fit to width on a tablet: the page fills the reading column.
        width = mem.locator(".page").first.bounding_box()["width"]
        assert width > 500, width
        # Select text on the page, then write a note about it.
        span = mem.locator(".textLayer span", has_text="Điều 5").first
        expect(span).to_be_visible(timeout=10_000)
        span.dblclick()
        mem.get_by_label("Ghi chú mới trên trang này").fill("Cần hỏi Bộ Tài chính về điều này")
        mem.get_by_role("button", name="Thêm ghi chú").click()
        expect(mem.locator(".notes-list .note")).to_contain_text("Cần hỏi Bộ Tài chính")

        sec_ctx, sec = _sign_in(browser, base, "secretary@example.gov.vn")
        contexts.append(sec_ctx)
        sec.goto(f"{base}/documents/{document.id}")
        with sec.expect_response(lambda r: r.url.endswith(f"/documents/{document.id}/versions")) as answer:
            sec.locator("#version-file").set_input_files(str(v2))
        assert answer.value.status == 201, answer.value.text()
        expect(sec.locator(".subtitle")).to_contain_text("phiên bản 2", timeout=10_000)

        mem.reload()
        expect(mem.locator("#viewer.ready")).to_be_visible(timeout=20_000)
        expect(mem.locator(".subtitle")).to_contain_text("phiên bản 2")
        expect(mem.locator(".notes-panel")).to_contain_text("Cần hỏi Bộ Tài chính")
        assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    finally:
        for c in contexts:
            c.close()
