"""The app's look on every screen size a cabinet uses: phone, tablet in both orientations, desktop.

For a member (a minister) and the secretariat, on the home page, the meetings list, a meeting, a ballot
and the account page: nothing scrolls sideways, the main menu folds behind a button on the phone, every
button is at least 44 px high, axe-core finds no serious or critical violation, and every icon loads.
The large-text setting makes the root font bigger without any sideways scroll. Screenshots go to
tests/artifacts/design-<page>-<size>.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ecabinet.extensions import db
from tests.conftest import PASSWORD, ROOT
from tests.e2e.test_accessibility import _small_targets, _violations
from tests.meetings.conftest import actor, cabinet, draft, published  # noqa: F401 - fixtures reused here

ARTIFACTS = ROOT / "tests" / "artifacts"
SIZES = {"phone": (390, 844), "tablet-portrait": (1024, 1366), "tablet-landscape": (1366, 1024),
         "desktop": (1440, 900)}


@pytest.fixture
def open_ballot(published, cabinet):  # noqa: F811 - pytest fixtures, imported above
    """A meeting in session with a live ballot open on its first item."""
    from ecabinet.meetings import service
    from ecabinet.meetings.models import CheckInMode
    from ecabinet.voting import service as voting

    service.start_meeting(actor(cabinet["chair"]), published)
    for name in ("chair", "member", "member2", "member3"):
        service.check_in(actor(cabinet["secretary"]), published,
                         service.participant_of(published, cabinet[name]), CheckInMode.ROOM)
    ballot = voting.create_ballot(actor(cabinet["secretary"]), voting.BallotData(
        title="Thông qua Nghị quyết về phát triển kinh tế số", kind="live", meeting_id=published.id,
        item_id=published.items[0].id))
    voting.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    return ballot


def _pages(ballot) -> dict[str, str]:
    return {"home": "/", "meetings": "/meetings", "meeting": f"/meetings/{ballot.meeting_id}",
            "ballot": f"/ballots/{ballot.id}", "account": "/account",
            # A wide table with visually hidden headers: they once widened the page on a phone.
            "participants": f"/meetings/{ballot.meeting_id}/participants"}


def _sideways_scroll(page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scroll)."""
    return page.evaluate("() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
                         " - document.documentElement.clientWidth")


def _missing_icons(page) -> list[str]:
    """Every <use> of an icon must name a symbol that exists in the sprite the server sent."""
    return page.evaluate("""async () => {
        const refs = [...new Set([...document.querySelectorAll('svg.icon use')].map(u => u.getAttribute('href')))];
        const sprites = {};
        const missing = [];
        for (const ref of refs) {
            const [file, id] = ref.split('#');
            if (!(file in sprites)) {
                const r = await fetch(file);
                sprites[file] = r.ok ? new DOMParser().parseFromString(await r.text(), 'image/svg+xml') : null;
            }
            const doc = sprites[file];
            if (!doc || !doc.getElementById(id)) missing.push(ref);
        }
        return missing;
    }""")


def _root_font_px(page) -> float:
    return page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")


def _check_menu(page, size: str, suffix: str = "") -> None:
    toggle = page.locator("[data-nav-toggle]")
    nav = page.locator("nav.mainnav")
    if size != "phone":
        expect(toggle).to_be_hidden()
        expect(nav).to_be_visible()
        return
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Phiên họp", exact=True)).to_be_visible()
    assert _sideways_scroll(page) <= 0
    assert _small_targets(page) == []
    page.screenshot(path=str(ARTIFACTS / f"design-menu-{size}{suffix}.png"))
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()


def _sign_in(context, base: str, email: str):
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/")
    page.wait_for_load_state("networkidle")
    return page, failed


def _visit(page, failed: list[str], url: str, where: str) -> None:
    failed.clear()
    page.goto(url)
    page.wait_for_load_state("networkidle")
    assert failed == [], where


@pytest.mark.parametrize("size", list(SIZES))
def test_every_main_page_at_every_size(open_ballot, db_url, live_server, browser, size):
    if not db_url.startswith("sqlite"):
        pytest.skip("the look of the pages does not depend on the database (their flows are tested on both)")
    ARTIFACTS.mkdir(exist_ok=True)
    width, height = SIZES[size]
    pages = _pages(open_ballot)
    for role, email in (("member", "member@example.gov.vn"), ("secretariat", "secretary@example.gov.vn")):
        context = browser.new_context(viewport={"width": width, "height": height}, has_touch=size != "desktop")
        try:
            if role == "member":
                login = context.new_page()
                login.goto(live_server.url + "/login")
                assert _sideways_scroll(login) <= 0
                assert _violations(login) == []
                login.screenshot(path=str(ARTIFACTS / f"design-login-{size}.png"), full_page=True)
                login.close()
            page, failed = _sign_in(context, live_server.url, email)
            normal_font = _root_font_px(page)
            assert normal_font >= (17 if size == "phone" else 18), size
            for name, path in pages.items():
                where = f"{role} {path} at {size}"
                _visit(page, failed, live_server.url + path, where)
                assert _sideways_scroll(page) <= 0, where
                assert _small_targets(page) == [], where
                assert _violations(page) == [], where
                assert _missing_icons(page) == [], where
                suffix = "" if role == "member" else "-secretariat"
                page.screenshot(path=str(ARTIFACTS / f"design-{name}-{size}{suffix}.png"), full_page=True)
                if name == "home":
                    _check_menu(page, size, suffix)
            if role != "member":
                continue
            # Large text: chosen on the account page, then every page is bigger and still fits.
            _visit(page, failed, live_server.url + "/account", "account")
            page.get_by_label("Chữ lớn").check()
            page.get_by_role("button", name="Lưu cỡ chữ").click()
            expect(page.locator(".flash-info")).to_contain_text("Đã bật chữ lớn")
            expect(page.locator("html")).to_have_class("text-large")
            page.wait_for_load_state("networkidle")  # the stylesheets too, before measuring
            large_font = _root_font_px(page)
            assert large_font >= normal_font * 1.15, (normal_font, large_font)
            for name, path in pages.items():
                where = f"{role} {path} at {size}, large text"
                _visit(page, failed, live_server.url + path, where)
                assert _root_font_px(page) == large_font, where
                assert _sideways_scroll(page) <= 0, where
                assert _small_targets(page) == [], where
                page.screenshot(path=str(ARTIFACTS / f"design-{name}-{size}-large.png"), full_page=True)
                if name == "home":
                    _check_menu(page, size, "-large")
        finally:
            context.close()


@pytest.mark.parametrize("viewport", [(1024, 768), (1080, 810), (1194, 834)])
def test_a_members_menu_is_one_row_on_a_landscape_tablet(published, cabinet, db_url, live_server, browser,  # noqa: F811
                                                         viewport):
    """A landscape iPad shows a page below the menu, not a menu of three rows: the menu is one row, and
    the member's account is reached through their name beside it. A long name, the language and the
    sign-out stay on the brand's row (the language is its icon there, named for screen readers)."""
    if not db_url.startswith("sqlite"):
        pytest.skip("the look of the pages does not depend on the database (their flows are tested on both)")
    cabinet["member"].name = "Nguyễn Thị Thanh Huyền"
    db.session.commit()
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=True)
    try:
        page, _failed = _sign_in(context, live_server.url, "member@example.gov.vn")
        rows = page.evaluate("() => new Set([...document.querySelectorAll('nav.mainnav a')]"
                             ".map(a => Math.round(a.getBoundingClientRect().top))).size")
        assert rows == 1, f"{rows} rows of menu at {width}x{height}"
        header = page.evaluate("() => document.querySelector('header.topbar').getBoundingClientRect().height")
        assert header <= height * 0.2, header
        tops = page.evaluate("() => ['.brand', 'a.whoami', '.lang-switch', 'form[action$=\"/logout\"] button']"
                             ".map(s => document.querySelector(s).getBoundingClientRect().bottom)")
        brand_bottom = tops[0]
        assert all(abs(bottom - brand_bottom) < 8 for bottom in tops), f"not on the brand's row: {tops}"
        expect(page.get_by_role("button", name="English")).to_have_count(1)
        account = page.get_by_role("link", name="Tài khoản của tôi", exact=False)
        expect(account).to_have_count(1)
        account.click()
        page.wait_for_url(live_server.url + "/account")
        expect(page.locator("a.whoami")).to_have_attribute("aria-current", "page")
        page.screenshot(path=str(ARTIFACTS / f"design-menu-landscape-{width}x{height}.png"))
    finally:
        context.close()
