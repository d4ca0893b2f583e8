"""The meeting screen: the current item's document opens in the room without a tap at every screen size,
tablets that follow the chair move with it and with the presenter's pages, a tablet browsing freely is told
where the chair went and comes back with one tap. Screenshots go to tests/artifacts/ (not kept in git)."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect

from ecabinet.extensions import db
from tests.browser import sign_in, violations
from tests.conftest import ROOT
from tests.meetings.conftest import actor

ARTIFACTS = ROOT / "tests" / "artifacts"
LANDSCAPE = (1366, 1024)  # a tablet in landscape
SIZES = {"tablet-portrait-768x1024": (768, 1024), "tablet-portrait-1024x1366": (1024, 1366),
         "tablet-landscape-1366x1024": (1366, 1024), "desktop-1440x900": (1440, 900), "phone-390x844": (390, 844)}
PAGES = ["## Trang một", "Nội dung trang một.", "## Trang hai", "## Trang ba", "## Trang bốn", "## Trang năm"]


def _pdf(tmp_path, title: str) -> bytes:
    from ecabinet.documents.demo_pdf import make_demo_pdf

    path = tmp_path / f"{abs(hash(title))}.pdf"
    make_demo_pdf(title, PAGES, path, one_page_per_paragraph=True)
    return path.read_bytes()


@pytest.fixture
def screen(in_session, cabinet, app, tmp_path):
    """The meeting in session on its first item; two documents on item 1 and one on item 2."""
    from ecabinet.documents import service as documents
    from ecabinet.live import service as live

    app.config["STORAGE_DIR"] = str(tmp_path / "instance" / "storage")  # the live server's storage
    sec = actor(cabinet["secretary"])
    first, second = in_session.items[0], in_session.items[1]
    docs = {
        "brief": documents.upload(sec, first, io.BytesIO(_pdf(tmp_path, "Tờ trình")), "to-trinh.pdf",
                                  title="Tờ trình của Bộ"),
        "annex": documents.upload(sec, first, io.BytesIO(_pdf(tmp_path, "Phụ lục")), "phu-luc.pdf",
                                  title="Phụ lục"),
        "second": documents.upload(sec, second, io.BytesIO(_pdf(tmp_path, "Báo cáo")), "bao-cao.pdf",
                                   title="Báo cáo thẩm định"),
    }
    live.set_item(actor(cabinet["chair"]), in_session, first.id)
    db.session.commit()
    return in_session, {k: d.id for k, d in docs.items()}


def _document_shown(page, document_id: int) -> None:
    frame = page.locator("#room-doc-frame")
    expect(frame).to_have_attribute("src", f"/documents/{document_id}")
    expect(frame).to_have_class("room-doc-frame is-ready", timeout=20_000)
    expect(page.frame_locator("#room-doc-frame").locator("#viewer.ready")).to_be_attached(timeout=20_000)
    expect(page.frame_locator("#room-doc-frame").locator(".pdfViewer .page canvas").first).to_be_visible(timeout=20_000)


def _frame_page(page):
    return page.frame_locator("#room-doc-frame").locator('.viewer-tools [data-role="page"]')


def _no_sideways_scroll(page) -> None:
    widths = page.evaluate("""() => {
        const frame = document.getElementById('room-doc-frame').contentDocument.documentElement;
        return [document.documentElement.scrollWidth, document.documentElement.clientWidth,
                frame.scrollWidth, frame.clientWidth];
    }""")
    assert widths[0] <= widths[1], widths
    wide = page.evaluate("""() => {
        const doc = document.getElementById('room-doc-frame').contentDocument;
        const w = doc.documentElement.clientWidth;
        return Array.from(doc.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > w + 1)
            .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
    }""")
    assert widths[2] <= widths[3], (widths, wide)


def test_room_shows_the_first_document_at_every_size(screen, live_server, browser):
    meeting, docs = screen
    ARTIFACTS.mkdir(exist_ok=True)
    context, page = sign_in(browser, live_server.url, "member@example.gov.vn", f"/meetings/{meeting.id}/room",
                            LANDSCAPE)
    try:
        for name, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            page.reload()
            expect(page.get_by_test_id("shown-item")).to_have_text(meeting.items[0].title)
            _document_shown(page, docs["brief"])
            expect(page.get_by_role("button", name="Tờ trình của Bộ")).to_have_attribute("aria-pressed", "true")
            expect(page.get_by_role("button", name="Đăng ký phát biểu")).to_be_enabled()
            _no_sideways_scroll(page)
            box = page.locator("#room-doc-frame").bounding_box()
            assert box["height"] >= 360 and box["x"] + box["width"] <= width, (name, box)
            if width > height:  # landscape: the panel is beside the document, the document in the main area
                panel = page.locator(".room-panel").bounding_box()
                assert panel["x"] >= box["x"] + box["width"] - 1 and box["width"] > panel["width"], (name, box, panel)
                assert box["y"] + box["height"] <= height + 1, (name, box)
            else:  # portrait and phone: the document on top, the panel below
                panel = page.locator(".room-panel").bounding_box()
                assert panel["y"] >= box["y"] + box["height"] - 1, (name, box, panel)
            page.screenshot(path=str(ARTIFACTS / f"room-{name}.png"))
    finally:
        context.close()


def test_following_tablet_moves_with_the_chair_and_opens_the_document(screen, cabinet, live_server, browser,
                                                                      room_client):
    meeting, docs = screen
    context, page = sign_in(browser, live_server.url, "member@example.gov.vn", f"/meetings/{meeting.id}/room",
                            LANDSCAPE)
    try:
        _document_shown(page, docs["brief"])
        chair = room_client("chair@example.gov.vn", meeting.id)
        assert chair.call("chair.set_item", item_id=meeting.items[1].id)["ok"]
        expect(page.get_by_test_id("shown-item")).to_have_text(meeting.items[1].title)
        _document_shown(page, docs["second"])
        expect(page.locator("#live-moved")).to_be_hidden()
    finally:
        context.close()


def test_browsing_tablet_sees_where_the_chair_went_and_returns_with_one_tap(screen, live_server, browser,
                                                                            room_client):
    meeting, docs = screen
    first, second, third = meeting.items[0], meeting.items[1], meeting.items[2]
    context, page = sign_in(browser, live_server.url, "member@example.gov.vn", f"/meetings/{meeting.id}/room",
                            LANDSCAPE)
    try:
        _document_shown(page, docs["brief"])
        page.locator("#live-items").get_by_role("button", name=f"2. {second.title}").click()
        expect(page.get_by_test_id("shown-item")).to_have_text(second.title)
        _document_shown(page, docs["second"])
        chair = room_client("chair@example.gov.vn", meeting.id)
        assert chair.call("chair.set_item", item_id=third.id)["ok"]
        expect(page.get_by_test_id("chair-moved")).to_have_text(f"Chủ tọa đã chuyển sang vấn đề {third.position}")
        expect(page.get_by_test_id("shown-item")).to_have_text(second.title)  # still where the reader was
        expect(page.locator("#room-doc-frame")).to_have_attribute("src", f"/documents/{docs['second']}")
        page.get_by_role("button", name="Trở về vấn đề đang thảo luận").click()
        expect(page.get_by_test_id("shown-item")).to_have_text(third.title)
        expect(page.locator("#live-moved")).to_be_hidden()
        expect(page.locator("#room-no-doc")).to_have_text("Vấn đề này không có tài liệu.")
        # The room stayed live while browsing: back on item 1 with the chair, its first document again.
        assert chair.call("chair.set_item", item_id=first.id)["ok"]
        _document_shown(page, docs["brief"])
    finally:
        context.close()


def test_following_tablets_open_the_presented_document_and_follow_its_pages(screen, live_server, browser):
    meeting, docs = screen
    mid = meeting.id
    contexts = []
    try:
        chair_ctx, chair = sign_in(browser, live_server.url, "chair@example.gov.vn", f"/meetings/{mid}/console",
                                   (1440, 900))
        m_ctx, member = sign_in(browser, live_server.url, "member@example.gov.vn", f"/meetings/{mid}/room", LANDSCAPE)
        contexts = [chair_ctx, m_ctx]
        _document_shown(member, docs["brief"])
        # The chair presents the annex (the second document of the item): the member's tablet opens it.
        chair.get_by_role("button", name="Phụ lục").click()
        _document_shown(chair, docs["annex"])
        chair.get_by_role("button", name="Trình chiếu cho phòng họp").click()
        expect(member.get_by_test_id("presenting")).to_be_visible()
        _document_shown(member, docs["annex"])
        expect(_frame_page(member)).to_have_text("1")
        # Page turns in the chair's viewer: the member's viewer follows to the latest page.
        turn = chair.frame_locator("#room-doc-frame").get_by_role("button", name="Trang sau")
        for _ in range(3):
            turn.click()
        expect(_frame_page(chair)).to_have_text("4")
        expect(_frame_page(member)).to_have_text("4", timeout=10_000)
        # A tablet that joins now opens the presented document at the presenter's page (from its snapshot).
        m2_ctx, late = sign_in(browser, live_server.url, "member2@example.gov.vn", f"/meetings/{mid}/room", LANDSCAPE)
        contexts.append(m2_ctx)
        _document_shown(late, docs["annex"])
        expect(_frame_page(late)).to_have_text("4", timeout=10_000)
        # Stopping: the tablets keep the document, no longer led.
        chair.get_by_role("button", name="Dừng trình chiếu").click()
        expect(member.get_by_test_id("presenting")).to_be_hidden()
        expect(member.locator("#room-doc-frame")).to_have_attribute("src", f"/documents/{docs['annex']}")
    finally:
        for context in contexts:
            context.close()


def test_only_the_chair_or_the_items_presenter_may_present(screen, cabinet, room_client):
    meeting, docs = screen
    member = room_client("member@example.gov.vn", meeting.id)
    assert member.call("presenter.share", document_id=docs["brief"])["error"] == "forbidden"
    assert member.call("presenter.page", page=2)["error"] == "forbidden"
    # The agenda names the member as the item's presenter: now they may.
    meeting.items[0].presenter = cabinet["member"].name
    db.session.commit()
    ack = member.call("presenter.share", document_id=docs["brief"], page=2)
    assert ack["ok"], ack
    shared = member.wait_for(lambda e: e["type"] == "presenter.share")
    assert shared["payload"]["presenter"]["page"] == 2 and shared["seq"] == ack["seq"]
    assert member.call("presenter.page", page=3)["ok"]
    turned = member.wait_for(lambda e: e["type"] == "presenter.page")
    assert turned["seq"] == shared["seq"] + 1 and turned["payload"]["presenter"]["page"] == 3
    seq = turned["seq"]
    assert member.call("presenter.page", page=3)["seq"] == seq  # the page already shown: no event
    assert member.call("presenter.page", page=999)["ok"]  # past the end: the last page
    assert member.wait_for(lambda e: e["type"] == "presenter.page")["payload"]["presenter"]["page"] == len(PAGES)
    # A rejoining tablet finds the document and page in its snapshot; moving on ends the presenting.
    snapshot = member.join()["snapshot"]
    assert snapshot["presenter"] == {"document_id": docs["brief"], "item_id": meeting.items[0].id,
                                     "page": len(PAGES), "by": cabinet["member"].name}
    chair = room_client("chair@example.gov.vn", meeting.id)
    assert chair.call("chair.set_item", item_id=meeting.items[1].id)["ok"]
    assert member.join()["snapshot"]["presenter"] is None
    refused = chair.call("presenter.share", document_id=docs["brief"])  # item 1: no longer under discussion
    assert refused["error"] == "refused"
    assert refused["message"] == "Chỉ có thể trình chiếu tài liệu của vấn đề đang thảo luận."
    # Presenter of item 1, not of the item now under discussion.
    assert member.call("presenter.share", document_id=docs["second"])["error"] == "forbidden"


@pytest.mark.parametrize("size", [(1366, 1024), (390, 844)], ids=["landscape", "phone"])
def test_meeting_screen_accessibility(screen, live_server, browser, size):
    meeting, docs = screen
    context, page = sign_in(browser, live_server.url, "member@example.gov.vn", f"/meetings/{meeting.id}/room",
                            size)
    try:
        _document_shown(page, docs["brief"])
        expect(page.get_by_test_id("meeting-status")).to_have_text("Đang họp")
        assert violations(page) == []
    finally:
        context.close()
