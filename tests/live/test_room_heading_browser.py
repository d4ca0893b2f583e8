"""The room's heading on a landscape tablet and a desktop is one row: the title (cut short with an
ellipsis, whole for screen readers) beside the member's controls, every control a full touch target; on a
phone it wraps and the title is whole. The chair's console keeps its title and state on one line."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ecabinet.extensions import db
from tests.browser import sign_in

LONG_TITLE = ("Phiên họp Chính phủ thường kỳ tháng Mười Hai năm 2026 về tình hình kinh tế - xã hội "
              "và các dự án luật trình Quốc hội")
HEADING = """() => {
  const box = e => e.getBoundingClientRect();
  const head = document.querySelector('.room-head');
  const text = head.querySelector('.room-title-text');
  const shown = [...head.children].filter(e => e.offsetParent !== null);
  return {
    rows: shown.map(e => [box(e).top, box(e).bottom]),
    cut: text.scrollWidth > text.clientWidth, ellipsis: getComputedStyle(text).textOverflow,
    controls: [...head.querySelectorAll('button, a.btn')].filter(e => e.offsetParent !== null)
      .map(e => [e.textContent.trim(), box(e).width, box(e).height]),
  };
}"""


def _one_row(rows: list[list[float]]) -> bool:
    """Every part of the heading overlaps every other vertically: they sit side by side."""
    return all(a[0] < b[1] and b[0] < a[1] for a in rows for b in rows)


@pytest.fixture
def long_titled(in_session):
    in_session.title = LONG_TITLE
    db.session.commit()
    return in_session


@pytest.mark.parametrize("size", [(1180, 820), (1440, 900)], ids=["tablet-landscape", "desktop"])
def test_the_members_heading_is_one_row_with_full_size_controls(long_titled, live_server, browser, size):
    context, page = sign_in(browser, live_server.url, "member@example.gov.vn", f"/meetings/{long_titled.id}/room",
                            size)
    try:
        expect(page.get_by_test_id("meeting-status")).to_have_text("Đang họp")
        expect(page.get_by_role("heading", level=1)).to_have_text(LONG_TITLE)  # whole, for screen readers
        heading = page.evaluate(HEADING)
        assert len(heading["rows"]) == 2 and _one_row(heading["rows"]), heading
        assert heading["cut"] and heading["ellipsis"] == "ellipsis", heading
        names = [name for name, _w, _h in heading["controls"]]
        assert names == ["Đang theo chủ trì", "Điểm danh: tại phòng họp", "Điểm danh: họp trực tuyến"], names
        assert all(w >= 44 and h >= 44 for _name, w, h in heading["controls"]), heading["controls"]
    finally:
        context.close()


def test_on_a_phone_the_heading_wraps_and_the_title_is_whole(long_titled, live_server, browser):
    context, page = sign_in(browser, live_server.url, "member@example.gov.vn", f"/meetings/{long_titled.id}/room",
                            (390, 844))
    try:
        expect(page.get_by_test_id("meeting-status")).to_have_text("Đang họp")
        heading = page.evaluate(HEADING)
        assert not heading["cut"] and not _one_row(heading["rows"]), heading
        assert all(h >= 44 for _name, _w, h in heading["controls"]), heading["controls"]
    finally:
        context.close()


@pytest.mark.parametrize("size", [(1180, 820), (1440, 900)], ids=["tablet-landscape", "desktop"])
def test_the_chairs_title_and_state_share_one_line(in_session, live_server, browser, size):
    context, page = sign_in(browser, live_server.url, "chair@example.gov.vn", f"/meetings/{in_session.id}/console",
                            size)
    try:
        expect(page.get_by_test_id("meeting-status")).to_have_text("Đang họp")
        title, status = page.locator(".room-title").bounding_box(), page.locator(".room-status").bounding_box()
        assert status["y"] < title["y"] + title["height"] and title["y"] < status["y"] + status["height"]
        assert status["x"] >= title["x"] + title["width"]
        expect(page.locator(".room-title .badge")).to_be_visible()
    finally:
        context.close()
