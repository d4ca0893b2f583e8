"""axe-core (from npm) on the main screens, in Debian's Chromium on a tablet viewport: no serious or
critical violations, and touch targets of at least 44 px."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def _violations(page) -> list[dict]:
    # evaluate() runs through the browser's debugging channel, so the page's strict CSP does not block it.
    page.evaluate(AXE.read_text())
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def _small_targets(page) -> list[str]:
    return page.evaluate("""() => Array.from(document.querySelectorAll('main .btn, main button, .topbar .btn'))
        .filter(e => e.offsetParent !== null)
        .map(e => [e, e.getBoundingClientRect()])
        .filter(([e, r]) => r.height < 44 || r.width < 44)
        .map(([e, r]) => (e.textContent || e.outerHTML).trim().slice(0, 40) + ' ' + Math.round(r.width) + 'x'
                         + Math.round(r.height))""")


def _sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base + "/")


@pytest.fixture
def tablet(browser):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    yield context.new_page()
    context.close()


def test_login_screen(live_server, tablet):
    tablet.goto(live_server.url + "/login")
    assert _violations(tablet) == []
    assert _small_targets(tablet) == []


def test_member_screens(in_session_meeting, live_server, tablet):
    _sign_in(tablet, live_server.url, "member@example.gov.vn")
    mid = in_session_meeting.id
    for path in ("/", f"/meetings/{mid}", f"/meetings/{mid}/room", f"/meetings/{mid}/minutes"):
        tablet.goto(live_server.url + path)
        tablet.wait_for_load_state("networkidle")
        assert _violations(tablet) == [], path
        assert _small_targets(tablet) == [], path


@pytest.fixture
def in_session_meeting(cabinet_meeting):
    return cabinet_meeting
