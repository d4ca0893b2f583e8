"""The document viewer in Debian's Chromium at five screen sizes (phone, tablet portrait both ways,
tablet landscape, desktop), with touch where the device has it: the page fills the width, nothing
scrolls sideways, find, full screen, the drawer with the outline and thumbnails, gestures, notes and
highlights, and axe-core. A screenshot of each size goes to the test artefacts directory
(``TEST_ARTIFACTS_DIR``, by default tests/artifacts)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ecabinet.extensions import db
from tests.conftest import PASSWORD, ROOT
from tests.documents.app_fixtures import *  # noqa: F403
from tests.documents.app_fixtures import actor
from tests.e2e.test_accessibility import _small_targets, _violations

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", ROOT / "tests" / "artifacts"))

# name: (viewport, touch, mobile)
SIZES = {
    "phone-390x844": ({"width": 390, "height": 844}, True, True),
    "tablet-768x1024": ({"width": 768, "height": 1024}, True, False),
    "tablet-1024x1366": ({"width": 1024, "height": 1366}, True, False),
    "tablet-landscape-1366x1024": ({"width": 1366, "height": 1024}, True, False),
    "desktop-1440x900": ({"width": 1440, "height": 900}, False, False),
}

# One paragraph a page.
PARAGRAPHS = [
    "Dự thảo Nghị định quy định chi tiết về quản lý đầu tư công được xây dựng theo chỉ đạo của Chính phủ.",
    "Điều 5 quy định về trình tự lập kế hoạch đầu tư công trung hạn và hằng năm của các bộ, ngành.",
    "Kinh phí thực hiện được bố trí từ ngân sách nhà nước theo phân cấp hiện hành.",
]
OUTLINE = ["Sự cần thiết", "Nội dung chính", "Tổ chức thực hiện"]


@pytest.fixture(scope="module")
def outlined_pdf(tmp_path_factory) -> bytes:
    """Three pages with a bookmark for each (the PDF's outline)."""
    from pypdf import PdfReader, PdfWriter

    from ecabinet.documents.demo_pdf import make_demo_pdf

    path = tmp_path_factory.mktemp("outline") / "to-trinh.pdf"
    assert make_demo_pdf("Tờ trình dự thảo Nghị định về đầu tư công", PARAGRAPHS, path,
                         one_page_per_paragraph=True) == len(OUTLINE)
    writer = PdfWriter(clone_from=PdfReader(path))
    for page, title in enumerate(OUTLINE):
        writer.add_outline_item(title, page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def viewer_doc(with_guest, cabinet, live_server, outlined_pdf, tmp_path, app):
    """The outlined document on item 1, with a highlight the member made earlier on page 1."""
    from ecabinet.documents import service

    app.config["STORAGE_DIR"] = str(tmp_path / "instance" / "storage")  # the live server's storage
    document = service.upload(actor(cabinet["secretary"]), with_guest.items[0], io.BytesIO(outlined_pdf),
                              "to-trinh.pdf")
    service.add_annotation(actor(cabinet["member"]), document, {
        "kind": "highlight", "page": 1, "quote": "Tờ trình", "rects": [[0.1, 0.1, 0.3, 0.03]]})
    db.session.commit()
    return document


@pytest.fixture
def signed_in_state(browser, live_server) -> dict:
    """The member's session, signed in once and given to each screen size's browser context."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.get_by_label("Email").fill("member@example.gov.vn")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live_server.url + "/")
    state = context.storage_state()
    context.close()
    return state


def _open(browser, live_server, state, document, size: str):
    viewport, touch, mobile = SIZES[size]
    context = browser.new_context(viewport=viewport, has_touch=touch, is_mobile=mobile, storage_state=state)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server.url}/documents/{document.id}")
    expect(page.locator("#viewer.ready")).to_be_visible(timeout=20_000)
    expect(page.locator(".page canvas").first).to_be_visible(timeout=20_000)
    expect(page.locator(".textLayer span").first).to_be_attached(timeout=20_000)
    return context, page, problems


def _geometry(page) -> dict:
    return page.evaluate("""() => {
        const box = document.querySelector('#viewer .pages');
        const canvas = document.querySelector('#viewer .page canvas').getBoundingClientRect();
        return {box: box.clientWidth, boxHeight: box.clientHeight, canvas: canvas.width, canvasHeight: canvas.height,
                scrollWidth: document.documentElement.scrollWidth, inner: window.innerWidth,
                boxScroll: box.scrollWidth - box.clientWidth};
    }""")


def _settled(page) -> None:
    """Waits until the first page's canvas has the size of the current scale (pdf.js redraws late)."""
    page.wait_for_function("""() => {
        const page = document.querySelector('#viewer .page');
        const canvas = page && page.querySelector('canvas');
        if (!canvas) return false;
        const a = page.getBoundingClientRect(), b = canvas.getBoundingClientRect();
        return Math.abs(a.width - b.width) < 2 && !page.classList.contains('loading');
    }""", timeout=10_000)


def _no_sideways_scroll(page, what: str) -> None:
    g = _geometry(page)
    assert g["scrollWidth"] <= g["inner"], (what, g)


@pytest.mark.parametrize("size", list(SIZES))
def test_viewer_reads_at_every_size(size, viewer_doc, live_server, signed_in_state, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context, page, problems = _open(browser, live_server, signed_in_state, viewer_doc, size)
    try:
        _settled(page)
        # Fit to width is the default: the page fills its box, and nothing scrolls sideways.
        g = _geometry(page)
        assert g["canvas"] >= 0.85 * g["box"], (size, g)
        assert g["boxScroll"] <= 1, (size, g)
        _no_sideways_scroll(page, size)
        # The earlier highlight is drawn on page 1.
        expect(page.locator('.page[data-page-number="1"] .annotation-mark').first).to_be_attached()
        # As read: the page scrolled so that the viewer's toolbar is at the top of the screen.
        page.evaluate("() => window.scrollTo(0, document.getElementById('reader').offsetTop)")
        page.screenshot(path=str(ARTIFACTS / f"viewer-{size}.png"))

        # Fit page: the whole page is visible in the box.
        page.get_by_role("button", name="Vừa trang").click()
        expect(page.get_by_role("button", name="Vừa trang")).to_have_attribute("aria-pressed", "true")
        page.wait_for_timeout(300)
        _settled(page)
        g = _geometry(page)
        assert g["canvasHeight"] <= g["boxHeight"] + 1, (size, g)
        assert g["canvas"] <= g["box"] + 1, (size, g)
        _no_sideways_scroll(page, size + " fit page")
        if not SIZES[size][1]:  # a mouse: in fit page, the wheel turns the pages
            box = page.locator("#viewer .pages").bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.wheel(0, 300)
            expect(page.locator('[data-role="page"]')).to_have_text("2")
            page.keyboard.press("ArrowLeft")
            expect(page.locator('[data-role="page"]')).to_have_text("1")
        page.get_by_role("button", name="Vừa chiều rộng").click()
        page.wait_for_timeout(300)
        _settled(page)
        g = _geometry(page)
        assert g["canvas"] >= 0.85 * g["box"], (size, g)

        # The drawer of thumbnails and contents opens and closes (closed at first below 1280 px).
        drawer_button = page.get_by_role("button", name="Các trang", exact=True)
        was_open = drawer_button.get_attribute("aria-expanded") == "true"
        assert was_open == (SIZES[size][0]["width"] >= 1280), size
        drawer = page.locator("#viewer-drawer")
        for opened in (not was_open, was_open):
            drawer_button.click()
            expect(drawer_button).to_have_attribute("aria-expanded", str(opened).lower())
            if opened:
                expect(drawer).to_be_visible()
                expect(page.locator(".thumbs .thumb").first).to_be_visible()
                expect(page.locator(".outline-section")).to_be_visible()
                _no_sideways_scroll(page, size + " drawer")
            else:
                expect(drawer).to_be_hidden()

        # Find in the document: the word is highlighted in the text layer.
        page.get_by_role("button", name="Tìm trong tài liệu").first.click()
        field = page.get_by_role("searchbox", name="Tìm trong tài liệu")
        expect(field).to_be_focused()
        field.fill("Kinh phí")
        expect(page.locator(".textLayer .highlight").first).to_be_attached(timeout=10_000)
        expect(page.locator(".find-status")).to_contain_text("1 / 1")
        _no_sideways_scroll(page, size + " find")
        page.get_by_role("button", name="Đóng tìm kiếm").click()
        expect(page.locator(".textLayer .highlight")).to_have_count(0)

        # Full screen, with a visible way out.
        page.get_by_role("button", name="Toàn màn hình").click()
        expect(page.locator("#reader.is-fullscreen")).to_be_visible()
        leave = page.get_by_role("button", name="Thoát toàn màn hình")
        expect(leave).to_be_visible()
        expect(leave).to_be_in_viewport()
        page.wait_for_timeout(300)
        _settled(page)
        g = _geometry(page)
        assert g["canvas"] >= 0.85 * g["box"], (size, "full screen", g)
        page.screenshot(path=str(ARTIFACTS / f"viewer-{size}-fullscreen.png"))
        leave.click()
        expect(page.locator("#reader.is-fullscreen")).to_have_count(0)
        expect(page.get_by_role("button", name="Toàn màn hình")).to_be_visible()
        assert not problems, problems
    finally:
        context.close()


def _touch(cdp, kind: str, points: list[tuple[float, float]]) -> None:
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
        {"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]})


def test_outline_gestures_and_notes_on_a_tablet(viewer_doc, live_server, signed_in_state, browser):
    context, page, problems = _open(browser, live_server, signed_in_state, viewer_doc, "tablet-landscape-1366x1024")
    try:
        _settled(page)
        # The outline from the PDF's bookmarks: choosing an entry turns to its page.
        drawer_button = page.get_by_role("button", name="Các trang", exact=True)
        expect(drawer_button).to_have_attribute("aria-expanded", "true")  # open at first on a wide screen
        outline = page.locator(".outline .outline-item")
        expect(outline).to_have_count(len(OUTLINE))
        expect(outline.nth(2)).to_have_text(OUTLINE[2])
        outline.nth(2).click()
        expect(page.locator('[data-role="page"]')).to_have_text("3")
        drawer_button.click()
        expect(page.locator("#viewer-drawer")).to_be_hidden()
        # Closing the drawer widens the page box and the viewer fits the page again, keeping page 3 in
        # view: a key pressed before that re-fit ends would be undone by it.
        _settled(page)
        expect(page.locator('[data-role="page"]')).to_have_text("3")

        # Keyboard arrows turn pages.
        page.locator("#viewer .pages").focus()
        page.keyboard.press("ArrowLeft")
        expect(page.locator('[data-role="page"]')).to_have_text("2")
        page.keyboard.press("ArrowRight")
        expect(page.locator('[data-role="page"]')).to_have_text("3")
        page.keyboard.press("Home")
        expect(page.locator('[data-role="page"]')).to_have_text("1")

        box = page.locator("#viewer .pages").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        cdp = context.new_cdp_session(page)
        # A swipe to the left turns to the next page.
        _touch(cdp, "touchStart", [(cx + 150, cy)])
        for step in range(1, 6):
            _touch(cdp, "touchMove", [(cx + 150 - step * 60, cy + step)])
        _touch(cdp, "touchEnd", [])
        expect(page.locator('[data-role="page"]')).to_have_text("2")
        page.keyboard.press("Home")
        expect(page.locator('[data-role="page"]')).to_have_text("1")

        # Pinch to zoom in: the scale grows and the reader's marks stay on the same spot of the page.
        def mark_in_page() -> list[float]:
            return page.evaluate("""() => {
                const div = document.querySelector('.page[data-page-number="1"]');
                const p = div.getBoundingClientRect();
                const m = div.querySelector('.annotation-mark').getBoundingClientRect();
                return [(m.left - p.left) / p.width, (m.top - p.top) / p.height,
                        m.width / p.width, m.height / p.height];
            }""")

        before = mark_in_page()
        assert before == pytest.approx([0.1, 0.1, 0.3, 0.03], abs=0.01)
        scale = page.evaluate("() => parseInt(document.querySelector('[data-role=zoom]').textContent)")
        _touch(cdp, "touchStart", [(cx - 50, cy), (cx + 50, cy)])
        for step in range(1, 8):
            _touch(cdp, "touchMove", [(cx - 50 - step * 20, cy), (cx + 50 + step * 20, cy)])
        _touch(cdp, "touchEnd", [])
        page.wait_for_function("s => parseInt(document.querySelector('[data-role=zoom]').textContent) > s * 1.5",
                               arg=scale)
        expect(page.get_by_role("button", name="Vừa chiều rộng")).to_have_attribute("aria-pressed", "false")
        page.wait_for_timeout(800)  # the page is redrawn once the fingers stop
        assert mark_in_page() == pytest.approx(before, abs=0.01)
        _no_sideways_scroll(page, "pinched")
        # A double tap goes back to fit width.
        page.touchscreen.tap(cx, cy)
        page.touchscreen.tap(cx, cy)
        expect(page.get_by_role("button", name="Vừa chiều rộng")).to_have_attribute("aria-pressed", "true")
        _settled(page)
        assert mark_in_page() == pytest.approx(before, abs=0.01)

        # A new highlight on selected text is saved and drawn.
        span = page.locator('.page[data-page-number="1"] .textLayer span', has_text="Dự thảo").first
        expect(span).to_be_visible()
        span.evaluate("""s => { const r = document.createRange(); r.selectNodeContents(s);
                               const sel = getSelection(); sel.removeAllRanges(); sel.addRange(r); }""")
        with page.expect_response(lambda r: r.url.endswith(f"/documents/{viewer_doc.id}/annotations")
                                  and r.request.method == "POST") as answer:
            page.get_by_role("button", name="Tô sáng đoạn chọn").click()
        assert answer.value.status == 201, answer.value.text()
        assert answer.value.json()["annotation"]["page"] == 1
        expect(page.locator('.page[data-page-number="1"] .annotation-mark')).to_have_count(2)
        expect(page.locator(".notes-list .note")).to_have_count(2)
        # Zooming out keeps the new mark on its text.
        text_box = span.bounding_box()
        mark = page.locator('.page[data-page-number="1"] .annotation-mark').nth(1).bounding_box()
        assert abs(mark["x"] - text_box["x"]) < 3 and abs(mark["y"] - text_box["y"]) < 6, (mark, text_box)
        page.get_by_role("button", name="Thu nhỏ").click()
        page.wait_for_timeout(300)
        _settled(page)
        text_box = span.bounding_box()
        mark = page.locator('.page[data-page-number="1"] .annotation-mark').nth(1).bounding_box()
        assert abs(mark["x"] - text_box["x"]) < 3 and abs(mark["y"] - text_box["y"]) < 6, (mark, text_box)

        # After a reload the highlights come back from the server.
        page.reload()
        expect(page.locator("#viewer.ready")).to_be_visible(timeout=20_000)
        expect(page.locator('.page[data-page-number="1"] .annotation-mark')).to_have_count(2, timeout=10_000)
        assert not problems, problems
    finally:
        context.close()


@pytest.mark.parametrize("size", ["tablet-landscape-1366x1024", "phone-390x844"])
def test_viewer_accessibility(size, viewer_doc, live_server, signed_in_state, browser):
    context, page, _ = _open(browser, live_server, signed_in_state, viewer_doc, size)
    try:
        _settled(page)
        assert _violations(page) == [], size
        assert _small_targets(page, links=True) == [], size
        # With the drawer (outline and thumbnails) and the find bar open.
        drawer_button = page.get_by_role("button", name="Các trang", exact=True)
        if drawer_button.get_attribute("aria-expanded") != "true":
            drawer_button.click()
        expect(page.locator(".thumbs .thumb").first).to_be_visible()
        page.get_by_role("button", name="Tìm trong tài liệu").first.click()
        page.get_by_role("searchbox", name="Tìm trong tài liệu").fill("Điều 5")
        expect(page.locator(".textLayer .highlight").first).to_be_attached(timeout=10_000)
        assert _violations(page) == [], size + " (drawer, find)"
        assert _small_targets(page, links=True) == [], size + " (drawer, find)"
    finally:
        context.close()
