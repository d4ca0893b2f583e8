"""In Chromium, at landscape tablet (1366x1024) and phone (390x844) sizes: the list of organisations and
the agenda item form's pickers, with axe-core (no serious or critical violations), and the search box
that picker.js adds narrowing the list as one types."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ecabinet.extensions import db
from ecabinet.meetings.models import MeetingItem
from ecabinet.organisations.demo import load_organisations
from tests.conftest import PASSWORD, ROOT
from tests.e2e.test_accessibility import _violations

ARTIFACTS = ROOT / "tests" / "artifacts"
SIZES = {"landscape": (1366, 1024), "phone": (390, 844)}


@pytest.fixture
def government(app):
    load_organisations()
    db.session.commit()


@pytest.mark.parametrize("size", list(SIZES))
def test_organisations_page_and_item_picker(browser, live_server, government, cabinet, draft, size):
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=size == "phone")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + "/login?next=/admin/organisations")
    page.get_by_label("Email").fill("secretary@example.gov.vn")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live_server.url + "/admin/organisations")

    rows = page.get_by_test_id("organisation-row")
    expect(rows).to_have_count(17)
    expect(rows.first).to_contain_text("Bộ Quốc phòng")
    expect(rows.last).to_contain_text("Văn phòng Chính phủ")
    assert _violations(page) == []
    page.screenshot(path=str(ARTIFACTS / f"organisations-list-{width}x{height}.png"), full_page=True)

    # Move the Government Office up one place with the keyboard-reachable button.
    page.get_by_role("button", name="Chuyển Văn phòng Chính phủ lên").click()
    expect(page.get_by_test_id("organisation-row").nth(15)).to_contain_text("Văn phòng Chính phủ")

    item = draft.items[1]
    page.goto(f"{live_server.url}/meetings/{draft.id}/items/{item.id}/edit")
    search = page.get_by_role("searchbox", name="Tìm trong danh sách: Bộ trình")
    expect(search).to_be_visible()
    select = page.get_by_label("Bộ trình", exact=True)
    search.fill("y te")
    expect(select.locator("option")).to_have_count(2)  # "(không có)" and Bộ Y tế
    search.press("Enter")
    expect(select).to_be_focused()
    assert select.locator("option:checked").inner_text() == "Bộ Y tế (BYT)"
    people = page.get_by_role("searchbox", name="Tìm trong danh sách: Người trình bày")
    people.fill("member 2")
    people.press("Enter")
    assert _violations(page) == []
    page.screenshot(path=str(ARTIFACTS / f"organisations-item-picker-{width}x{height}.png"), full_page=True)

    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url(f"{live_server.url}/meetings/{draft.id}#agenda")
    db.session.expire_all()
    saved = db.session.get(MeetingItem, item.id)
    assert (saved.ministry, saved.presenter) == ("Bộ Y tế", "Test member 2")
    assert errors == []
    context.close()
