"""A member takes the demo meeting offline in Chromium, reads every document of the pack with the network
off (in the usual viewer), writes a note on each and draws ink on one, and the server holds each exactly
once when the network returns; a position set offline on an agenda item is shown as pending and is held
by the server once after reconnecting. A deletion made offline that lost to a later edit elsewhere is shown, not
dropped. The stored documents are encrypted (no PDF in IndexedDB), and once the pack has expired
it is gone at the next launch while still offline: nothing of it stays in IndexedDB or Cache Storage."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.documents.models import Annotation
from ecabinet.extensions import db
from ecabinet.meetings.models import ItemKind, ItemPosition, Meeting, MeetingStatus, Position
from ecabinet.offline.models import OfflineChange
from tests.documents.test_annotations_browser import _stroke
from tests.documents.test_viewer_browser import ARTIFACTS

MEMBER = "bt.taichinh@ecabinet.gov.vn"
PASSWORD = "demo-password-2026"
TABLET = {"width": 1024, "height": 1366}
SIZES = [(390, 844), (1024, 1366), (1366, 1024), (1440, 900)]

IDB = """async () => {
  const db = await new Promise((ok, fail) => {
    const r = indexedDB.open('ecabinet-offline'); r.onsuccess = () => ok(r.result); r.onerror = fail; });
  const out = {};
  for (const name of db.objectStoreNames) {
    out[name] = await new Promise((ok) => {
      const q = db.transaction(name).objectStore(name).getAll(); q.onsuccess = () => ok(q.result); });
  }
  db.close();
  const docs = (out.docs || []).map((d) => ({ id: d.id, head: Array.from(new Uint8Array(d.data.slice(0, 5))) }));
  const counts = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.length]));
  const caches_ = {};
  for (const name of await caches.keys()) {
    caches_[name] = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
  }
  return { docs, counts, caches: caches_ };
}"""


@pytest.fixture
def demo(app, live_server, tmp_path):
    from ecabinet.demo import load_demo

    app.config["STORAGE_DIR"] = str(tmp_path / "instance" / "storage")  # the live server's storage
    load_demo(PASSWORD)
    db.session.commit()
    from ecabinet.meetings.models import Meeting, MeetingStatus

    return db.session.scalars(select(Meeting).where(Meeting.status == MeetingStatus.PUBLISHED)).first()


def _queue_empty(page, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(IDB)["counts"].get("queue") == 0:
            return
        page.wait_for_timeout(200)
    raise AssertionError("the changes made offline were not sent")


def test_a_meeting_read_and_annotated_offline_then_synced_once_then_expired(demo, live_server, browser):
    context = browser.new_context(viewport=TABLET, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(live_server.url + "/login")
        page.get_by_label("Email").fill(MEMBER)
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(live_server.url + "/")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        meeting_url = f"{live_server.url}/meetings/{demo.id}"
        page.goto(meeting_url)

        # --- take offline ----------------------------------------------------------------------------
        panel = page.locator("[data-offline-panel]")
        started = time.monotonic()
        panel.get_by_role("button", name="Mang theo khi ngoại tuyến").click()
        expect(panel).to_have_attribute("data-held", "true", timeout=60_000)
        seconds = time.monotonic() - started
        expect(panel.locator('[data-role="status"]')).to_contain_text("Trên máy này: 3 tài liệu")
        size = int(panel.get_attribute("data-size"))
        (ARTIFACTS / "offline-pack.txt").write_text(f"demo meeting pack: {size} bytes, {seconds:.1f} s\n")
        stored = page.evaluate(IDB)
        assert len(stored["docs"]) == 3
        for doc in stored["docs"]:  # encrypted: not a PDF
            assert bytes(doc["head"][:4]) != b"%PDF"
        document_ids = sorted(d["id"] for d in stored["docs"])

        # --- offline: the agenda and each document open, a note on each -------------------------------
        context.set_offline(True)
        page.reload()
        expect(page.locator("[data-offline-banner]")).to_contain_text("Ngoại tuyến từ")
        expect(page.get_by_role("heading", level=1)).to_have_text(demo.title)
        for number, document_id in enumerate(document_ids, 1):
            page.goto(f"{live_server.url}/documents/{document_id}")
            expect(page.locator("#viewer.ready")).to_be_attached(timeout=20_000)
            expect(page.locator('.page[data-page-number="1"] .textLayer')).to_be_attached()
            page.locator("#note-body").fill(f"Ghi chú ngoại tuyến {number}")
            page.get_by_role("button", name="Thêm ghi chú").click()
            expect(page.locator(".notes-list")).to_contain_text(f"Ghi chú ngoại tuyến {number}")
            if number == 1:  # ink, drawn with the finger, offline
                page.get_by_role("button", name="Bút", exact=True).click()
                box = page.locator('.page[data-page-number="1"]').bounding_box()
                cdp = context.new_cdp_session(page)
                _stroke(cdp, [(box["x"] + box["width"] * (0.2 + i * 0.03), box["y"] + box["height"] * 0.4)
                              for i in range(12)])
                cdp.detach()  # a debugging session left open makes the next pages bypass the service worker
                page.get_by_role("button", name="Lưu nét vẽ").click()
                expect(page.locator('.page[data-page-number="1"] .ink-stroke:not(.pending)')).to_have_count(1)
                page.get_by_role("button", name="Bút", exact=True).click()
        page.screenshot(path=str(ARTIFACTS / "offline-viewer.png"))
        # A note made offline is there after a reload, still offline.
        page.reload()
        expect(page.locator(".notes-list")).to_contain_text(f"Ghi chú ngoại tuyến {len(document_ids)}")
        assert page.evaluate(IDB)["counts"]["queue"] == len(document_ids) + 1  # the notes and the ink
        # Launched from the home screen with no network: the offline page lists the meeting kept here.
        page.goto(live_server.url + "/")
        expect(page.get_by_role("heading", name="Không có kết nối mạng")).to_be_visible()
        page.get_by_role("link", name=demo.title).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(demo.title)

        # The agenda's position forms work offline too; the other forms wait for the network.
        expect(page.locator("form.position-form").first.get_by_role("button")).to_be_enabled()
        expect(page.locator("form.position-form .position-offline-hint").first).to_be_visible()

        # --- a position on an item, set offline: kept as pending, sent once back online ----------------
        item = next(i for i in demo.items if i.kind is ItemKind.DECISION)
        page.goto(f"{live_server.url}/meetings/{demo.id}/items/{item.id}")
        form = page.locator("form.position-form")
        expect(form.locator(".position-offline-hint")).to_be_visible()
        form.get_by_label("Phản đối").check()
        form.get_by_label("Ghi chú (không bắt buộc)").fill("Đề nghị bổ sung đánh giá tác động")
        form.get_by_role("button", name="Lưu ý kiến").click()
        expect(form.locator(".position-pending")).to_contain_text("Chưa gửi: Phản đối — Đề nghị bổ sung")
        page.reload()  # still offline: the page kept in the pack, with the pending position on top
        expect(form.locator(".position-pending")).to_contain_text("Chưa gửi: Phản đối")
        expect(form.get_by_label("Phản đối")).to_be_checked()
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            form.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"offline-position-{width}x{height}.png"))
        page.set_viewport_size(TABLET)
        assert page.evaluate(IDB)["counts"]["queue"] == len(document_ids) + 2  # the notes, the ink, the position

        # --- back online: each note reaches the server once ------------------------------------------
        context.set_offline(False)
        _queue_empty(page)
        page.reload()  # a launch online: sends nothing more
        expect(page.locator("html[data-offline-synced]")).to_be_attached()
        expect(form.get_by_label("Phản đối")).to_be_checked()  # the server's page now
        expect(form.locator(".position-pending")).to_be_hidden()
        db.session.rollback()
        bodies = db.session.scalars(select(Annotation.body).where(Annotation.body.like("Ghi chú ngoại tuyến%"))).all()
        assert sorted(bodies) == [f"Ghi chú ngoại tuyến {n}" for n in range(1, len(document_ids) + 1)]
        inks = db.session.scalars(select(Annotation).where(Annotation.kind == "ink")).all()
        assert len(inks) == 1 and inks[0].document_id == document_ids[0]
        mine = db.session.scalars(select(ItemPosition).join(User, ItemPosition.member_id == User.id)
                                  .where(ItemPosition.item_id == item.id, User.email == MEMBER)).all()
        assert [(p.position, p.comment) for p in mine] == [(Position.OBJECT, "Đề nghị bổ sung đánh giá tác động")]
        assert len(db.session.scalars(select(OfflineChange).where(OfflineChange.op == "position")).all()) == 1

        # --- a deletion made offline loses to a later edit elsewhere: kept and shown, not dropped -------
        first = db.session.scalars(select(Annotation).where(Annotation.body == "Ghi chú ngoại tuyến 1")).one()
        page.goto(f"{live_server.url}/documents/{first.document_id}")
        expect(page.locator("#viewer.ready")).to_be_attached(timeout=20_000)
        context.set_offline(True)
        page.reload()
        expect(page.locator(".notes-list")).to_contain_text("Ghi chú ngoại tuyến 1")
        page.locator(".notes-list li", has_text="Ghi chú ngoại tuyến 1").get_by_role("button", name="Xóa").click()
        expect(page.locator(".notes-list")).not_to_contain_text("Ghi chú ngoại tuyến 1")
        # ... and a position set offline is refused, the meeting having started meanwhile: shown with the reason.
        page.goto(f"{live_server.url}/meetings/{demo.id}/items/{item.id}")
        form.get_by_label("Xin phát biểu").check()
        form.get_by_label("Ghi chú (không bắt buộc)").fill("")
        form.get_by_role("button", name="Lưu ý kiến").click()
        expect(form.locator(".position-pending")).to_contain_text("Chưa gửi: Xin phát biểu")
        first.body, first.updated_at = "Sửa ở nơi khác", datetime.now(UTC) + timedelta(minutes=1)
        db.session.get(Meeting, demo.id).status = MeetingStatus.IN_SESSION
        db.session.commit()
        context.set_offline(False)
        conflicts = page.locator("[data-offline-conflicts]")
        expect(conflicts).to_contain_text("Ghi chú ngoại tuyến 1", timeout=20_000)
        expect(conflicts).to_contain_text("Xin phát biểu (Không thể thay đổi ý kiến")
        expect(form.locator(".position-pending")).to_be_hidden()
        page.screenshot(path=str(ARTIFACTS / "offline-position-refused.png"))
        db.session.rollback()
        assert db.session.get(Annotation, first.id).body == "Sửa ở nơi khác"  # the later change won
        page.locator("[data-offline-conflicts]").get_by_role("button", name="Tôi đã xem").click()
        expect(page.locator("[data-offline-conflicts]")).to_have_count(0)

        # --- expired: gone at launch, offline ---------------------------------------------------------
        context.set_offline(True)
        page.clock.set_fixed_time(datetime.now(UTC) + timedelta(hours=80))
        page.goto(meeting_url)
        expect(page.locator("html[data-offline-ready=true]")).to_be_attached()
        after = page.evaluate(IDB)
        assert after["docs"] == [] and all(n == 0 for n in after["counts"].values()), after["counts"]
        assert not [name for name in after["caches"] if name.startswith("ecabinet-pack-")]
        for paths in after["caches"].values():
            assert not [p for p in paths if p.startswith(("/documents/", "/meetings/"))]
        assert errors == []
    finally:
        context.close()
