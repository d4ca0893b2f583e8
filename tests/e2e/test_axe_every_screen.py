"""axe-core on every screen of the app, in Chromium, for the people who use the console, the secretariat's
desk and the administration: every GET page of the URL map (filled from the access matrix's world: a
meeting in session with a ballot, a document, draft minutes, an action item, a template, an organisation
and a room screen), at a landscape tablet's size and at a desktop's. No serious or critical violation.

Accessibility does not depend on the database: this runs on SQLite only."""

from __future__ import annotations

import pytest

from tests.browser import violations as _violations
from tests.conftest import PASSWORD
from tests.documents.app_fixtures import briefing  # noqa: F401 - fixtures reused here
from tests.meetings.conftest import cabinet, draft, published  # noqa: F401
from tests.security.test_access_matrix import _url, world  # noqa: F401

SIZES = {"tablet-landscape": {"width": 1366, "height": 1024}, "desktop": {"width": 1440, "height": 900}}
# Pages that are not screens of their own: files, feeds, JSON, redirects; and the screen a room display
# opens with its own token (tests/display checks it).
SKIPPED = ("static", "home.service_worker", "home.manifest")


@pytest.mark.parametrize("role", ["secretary", "chair", "admin"])
def test_every_screen_has_no_serious_violation(db_url, app, world, live_server, browser, role):  # noqa: F811
    if not db_url.startswith("sqlite"):
        pytest.skip("accessibility does not depend on the database")
    from ecabinet.extensions import db

    db.session.commit()  # the world is made in this process's transaction: the server must see it
    context = browser.new_context(viewport=SIZES["tablet-landscape"], has_touch=True)
    page = context.new_page()
    problems: list[str] = []
    try:
        page.goto(live_server.url + "/login")
        page.get_by_label("Email").fill(f"{role}@example.gov.vn")
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(live_server.url + "/")
        checked = 0
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in SKIPPED or rule.endpoint.startswith("display.screen"):
                continue
            url = live_server.url + _url(rule, world)
            # Files, feeds and JSON are not screens: asked first with the page's cookies, not opened.
            probe = page.request.get(url, max_redirects=0)
            if probe.status != 200 or "text/html" not in probe.headers.get("content-type", ""):
                continue
            page.goto(url)
            page.wait_for_load_state("load")
            page.wait_for_timeout(150)
            # Both sizes for the secretariat's desk; the console and the administration at the tablet's.
            for size, viewport in (SIZES.items() if role == "secretary" else list(SIZES.items())[:1]):
                page.set_viewport_size(viewport)
                for v in _violations(page):
                    problems.append(f"{role} {size} {rule.rule}: {v['id']} ({v['impact']}) {v['nodes']}")
            page.set_viewport_size(SIZES["tablet-landscape"])
            checked += 1
        assert checked >= 15, checked
    finally:
        context.close()
    assert problems == [], "\n".join(problems[:40])
