"""Highlights in colour, pinned notes and ink in Chromium on a landscape tablet with touch: a green
highlight covers exactly the selected text, a note is pinned where the page was tapped, and ink drawn
with the finger (pointer events from real touches) is undone stroke by stroke, saved, and back after a
reload. A screenshot goes to the test artefacts directory."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.documents.app_fixtures import *  # noqa: F403
from tests.documents.test_viewer_browser import (  # noqa: F401 - fixtures
    ARTIFACTS,
    _open,
    _settled,
    _touch,
    outlined_pdf,
    signed_in_state,
    viewer_doc,
)

PAGE1 = '.page[data-page-number="1"]'

# The client boxes of characters 3..40 of the text layer's span starting "Dự thảo", selected.
SELECT = """() => {
    const span = [...document.querySelectorAll('.page[data-page-number="1"] .textLayer span')]
        .find((s) => s.textContent.startsWith('Dự thảo'));
    const node = span.firstChild;
    const range = document.createRange();
    range.setStart(node, 3);
    range.setEnd(node, Math.min(40, node.length));
    const sel = getSelection(); sel.removeAllRanges(); sel.addRange(range);
    return [...range.getClientRects()].map((r) => [r.left, r.top, r.right, r.bottom]);
}"""

MARKS = """sel => [...document.querySelectorAll(sel)].map((m) => {
    const r = m.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })"""


def _page_point(page, fx: float, fy: float) -> tuple[float, float]:
    box = page.locator(PAGE1).bounding_box()
    return box["x"] + fx * box["width"], box["y"] + fy * box["height"]


def _stroke(cdp, points: list[tuple[float, float]]) -> None:
    _touch(cdp, "touchStart", points[:1])
    for point in points[1:]:
        _touch(cdp, "touchMove", [point])
    _touch(cdp, "touchEnd", [])


def test_colours_pins_and_ink_on_a_landscape_tablet(viewer_doc, live_server, signed_in_state,  # noqa: F811
                                                    browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context, page, problems = _open(browser, live_server, signed_in_state, viewer_doc, "tablet-landscape-1366x1024")
    annotations_url = f"/documents/{viewer_doc.id}/annotations"

    def posted():
        return page.expect_response(lambda r: r.url.endswith(annotations_url) and r.request.method == "POST")

    try:
        _settled(page)
        # --- a green highlight over exactly the selected text ----------------------------------------
        page.get_by_role("radio", name="Xanh lá").click()
        expect(page.get_by_role("radio", name="Xanh lá")).to_have_attribute("aria-checked", "true")
        expect(page.locator(f"{PAGE1} .textLayer span", has_text="Dự thảo").first).to_be_visible()
        selected = page.evaluate(SELECT)
        assert selected
        with posted() as answer:
            page.get_by_role("button", name="Tô sáng đoạn chọn").click()
        assert answer.value.status == 201, answer.value.text()
        saved = answer.value.json()["annotation"]
        assert (saved["kind"], saved["color"]) == ("highlight", "green")
        expect(page.locator(f"{PAGE1} .annotation-mark.mark-green").first).to_be_attached()
        marks = page.evaluate(MARKS, f"{PAGE1} .annotation-mark.mark-green")
        assert marks
        left, top = min(m[0] for m in marks), min(m[1] for m in marks)
        right, bottom = max(m[2] for m in marks), max(m[3] for m in marks)
        tolerance = 1.5  # px: the rectangles are stored as fractions rounded to 1/100,000 of the page
        for x0, y0, x1, y1 in selected:
            assert left - tolerance <= x0 and x1 <= right + tolerance, (selected, marks)
            assert top - tolerance <= y0 and y1 <= bottom + tolerance, (selected, marks)
        # ...and not beyond it: the mark starts and ends where the selection does.
        assert abs(left - min(r[0] for r in selected)) < tolerance
        assert abs(right - max(r[2] for r in selected)) < tolerance

        # --- a note pinned where the page is tapped ----------------------------------------------------
        page.get_by_role("button", name="Ghim ghi chú").click()
        x, y = _page_point(page, 0.6, 0.5)
        page.touchscreen.tap(x, y)
        expect(page.locator(f"{PAGE1} .annotation-pin.pending")).to_have_count(1)
        page.locator("#note-body").fill("Đề nghị làm rõ nguồn vốn")
        with posted() as answer:
            page.get_by_role("button", name="Thêm ghi chú").click()
        assert answer.value.status == 201, answer.value.text()
        pin = answer.value.json()["annotation"]
        assert pin["kind"] == "pin" and pin["point"] == pytest.approx([0.6, 0.5], abs=0.01)
        expect(page.get_by_role("button", name="Ghim ghi chú")).to_have_attribute("aria-pressed", "false")
        marker = page.locator(f'{PAGE1} .annotation-pin[data-id="{pin["id"]}"]')
        expect(marker).to_be_visible()
        head = marker.bounding_box()
        assert abs(head["x"] + head["width"] / 2 - x) < 2 and abs(head["y"] + head["height"] / 2 - y) < 2
        marker.click()
        expect(page.locator(f"{PAGE1} .pin-popover")).to_contain_text("Đề nghị làm rõ nguồn vốn")

        # --- ink: draw, undo, draw again, save ---------------------------------------------------------
        page.get_by_role("button", name="Bút", exact=True).click()
        expect(page.get_by_role("button", name="Hoàn tác nét vẽ")).to_be_disabled()
        scroll_before = page.evaluate("() => document.querySelector('#viewer .pages').scrollTop")
        cdp = context.new_cdp_session(page)
        _stroke(cdp, [_page_point(page, 0.2 + i * 0.02, 0.3 + (i % 3) * 0.01) for i in range(15)])
        expect(page.locator(f"{PAGE1} .ink-stroke.pending")).to_have_count(1)
        page.get_by_role("button", name="Hoàn tác nét vẽ").click()
        expect(page.locator(f"{PAGE1} .ink-stroke.pending")).to_have_count(0)
        drawn = [_page_point(page, 0.15 + i * 0.03, 0.45 - i * 0.01) for i in range(20)]
        assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).classList.contains('ink-layer')", drawn[0])
        _stroke(cdp, drawn)
        expect(page.locator(f"{PAGE1} .ink-stroke.pending")).to_have_count(1)
        # A stroke is not a swipe: the pages did not scroll nor turn.
        assert page.evaluate("() => document.querySelector('#viewer .pages').scrollTop") == scroll_before
        with posted() as answer:
            page.get_by_role("button", name="Lưu nét vẽ").click()
        assert answer.value.status == 201, answer.value.text()
        ink = answer.value.json()["annotation"]
        assert ink["kind"] == "ink" and ink["color"] == "green" and len(ink["strokes"]) == 1
        points = ink["strokes"][0]["points"]
        assert 2 <= len(points) <= 20  # simplified: a straight line needs few points
        assert points[0] == pytest.approx([0.15, 0.45], abs=0.01)
        assert points[-1] == pytest.approx([0.72, 0.26], abs=0.01)
        expect(page.locator(f"{PAGE1} .ink-stroke:not(.pending)")).to_have_count(1)
        page.get_by_role("button", name="Bút", exact=True).click()  # out of pen mode
        page.screenshot(path=str(ARTIFACTS / "annotations-tablet-landscape.png"))

        # --- all of it comes back after a reload ---------------------------------------------------------
        page.reload()
        expect(page.locator("#viewer.ready")).to_be_visible(timeout=20_000)
        expect(page.locator(f"{PAGE1} .annotation-mark.mark-green").first).to_be_attached(timeout=10_000)
        expect(page.locator(f'{PAGE1} .annotation-pin[data-id="{pin["id"]}"]')).to_be_visible()
        stroke = page.locator(f"{PAGE1} .ink-stroke.ink-green")
        expect(stroke).to_have_count(1)
        _settled(page)
        box = stroke.bounding_box()
        (x0, y0), (x1, y1) = drawn[0], drawn[-1]
        assert abs(box["x"] - x0) < 8 and abs(box["x"] + box["width"] - x1) < 8, (box, drawn[0], drawn[-1])
        assert abs(box["y"] - y1) < 8 and abs(box["y"] + box["height"] - y0) < 8, (box, drawn[0], drawn[-1])
        expect(page.locator(".notes-list .note-ink")).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "annotations-tablet-landscape-reloaded.png"))
        assert not problems, problems
    finally:
        context.close()
