"""The public page in Chromium, signed out, at a phone's and a desktop's width: it fits, axe-core finds
nothing serious, and a new publication is offered without a reload (the page's poll)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ecabinet.extensions import db
from ecabinet.publication import service
from tests.browser import violations
from tests.conftest import ROOT
from tests.meetings.conftest import actor
from tests.publication.conftest import NAMED_ITEM, PUBLIC_CONCLUSION, SECRET_ITEM

ARTIFACTS = ROOT / "tests" / "artifacts"
SIZES = {"phone-375x740": {"width": 375, "height": 740}, "desktop-1280x800": {"width": 1280, "height": 800}}


@pytest.fixture
def sqlite_only(db_url):
    """Asked first, so that nothing else is set up on PostgreSQL."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the look of the page does not depend on the database (its rules are tested on both)")


def test_the_public_page_fits_a_phone_and_a_desktop_and_offers_what_is_new(sqlite_only, world, cabinet, live_server,
                                                                             browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    chair = actor(cabinet["chair"])
    conclusion = service.publish_conclusion(chair, world.meeting)
    service.publish_decision(chair, world.meeting, world.item(NAMED_ITEM))
    db.session.commit()
    for size, viewport in SIZES.items():
        context = browser.new_context(viewport=viewport, has_touch=viewport["width"] < 1000)
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))  # noqa: B023 - read before the next round
        try:
            page.goto(f"{live_server.url}/open/")
            expect(page.get_by_role("heading", level=1)).to_have_text("Kết luận và quyết định đã công bố")
            expect(page.locator(".publication-entry")).to_have_count(2)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), size
            assert violations(page) == [], size
            page.screenshot(path=str(ARTIFACTS / f"open-{size}.png"), full_page=True)
            page.get_by_role("link", name=world.meeting.title).first.click()
            expect(page.locator(".minutes-text")).to_contain_text(PUBLIC_CONCLUSION)
            assert page.url.endswith(f"/open/{conclusion.id}")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), size
            assert violations(page) == [], size
            assert problems == [], problems
        finally:
            context.close()

    # A reader on the list when the chair publishes: the page offers the new list.
    context = browser.new_context(viewport=SIZES["phone-375x740"], has_touch=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/open/")
        notice = page.locator("[data-open-fresh]")
        expect(notice).to_be_hidden()
        service.publish_decision(chair, world.meeting, world.item(SECRET_ITEM))
        db.session.commit()
        # The poll runs every 15 seconds and when the page comes back into view: ask now.
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        expect(notice).to_be_visible(timeout=5000)
        notice.get_by_role("link").click()
        expect(page.locator(".publication-entry")).to_have_count(3)
    finally:
        context.close()
