"""The installable app shell: a manifest with icons, a service worker that shows an offline page when a
page cannot load, and that page itself, which holds nothing personal."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import sign_in
from tests.conftest import PASSWORD
from tests.helpers import login

TABLET = (1024, 768)


def test_the_manifest_makes_the_app_installable(client):
    r = client.get("/manifest.webmanifest")
    assert r.status_code == 200 and r.mimetype == "application/manifest+json"
    manifest = r.get_json()
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    assert manifest["name"] == "Chính phủ điện tử (e-Cabinet)"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes and any(i.get("purpose") == "maskable" for i in manifest["icons"])
    for icon in manifest["icons"]:
        answer = client.get(icon["src"])
        assert answer.status_code == 200 and answer.mimetype == "image/png"
    page = client.get("/login").get_data(as_text=True)
    assert 'rel="manifest" href="/manifest.webmanifest"' in page and 'rel="apple-touch-icon"' in page


def test_the_service_worker_is_served_from_the_root_and_never_cached(client):
    r = client.get("/sw.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.headers["Cache-Control"] == "no-cache"
    assert "/offline" in r.get_data(as_text=True)


def test_the_offline_page_holds_nothing_personal(client, users):
    login(client, users["member"].email, PASSWORD)
    page = client.get("/offline").get_data(as_text=True)
    assert "Không có kết nối" in page
    assert users["member"].name not in page and users["member"].email not in page and "csrf" not in page


def test_a_tablet_that_loses_the_network_sees_the_offline_page_then_the_app_again(users, live_server, browser):
    context, page = sign_in(browser, live_server.url, users["member"].email, "/", TABLET)
    try:
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()  # now under the worker's control
        expect(page.get_by_role("heading", level=1)).to_contain_text("Xin chào")
        context.set_offline(True)
        page.goto(live_server.url + "/meetings")
        expect(page.get_by_role("heading", name="Không có kết nối mạng")).to_be_visible()
        context.set_offline(False)
        page.get_by_role("link", name="Thử lại").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Xin chào")
    finally:
        context.close()
