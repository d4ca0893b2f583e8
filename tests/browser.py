"""What browser tests share: signing a page in through the login form, and axe-core's serious findings."""

from __future__ import annotations

from tests.conftest import PASSWORD, ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    # evaluate() runs through the browser's debugging channel, so the page's strict CSP does not block it.
    page.evaluate(AXE.read_text())
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def sign_in(browser, base_url: str, email: str, path: str, size: tuple[int, int]):
    """A new browser context of this size (touch below desktop widths), signed in as ``email``, on ``path``."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=size[0] < 1400)
    page = context.new_page()
    page.goto(base_url + "/login?next=" + path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(base_url + path)
    return context, page
