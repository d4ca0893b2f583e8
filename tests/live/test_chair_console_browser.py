"""The chair's console in a real browser, on a landscape tablet (1366x1024) and a desktop (1440x900): the
course of the meeting with only its valid steps enabled, the quorum with its rule before the start and
before a vote, the confirmations of starting below the quorum, closing a vote (who has not voted yet) and
adjourning (the items not discussed), a refusal beside its control and in the live region until it is
dismissed, the running counts, the close control apart from the chair's own vote, and no serious
accessibility violation. Screenshots: tests/artifacts/console-*.png."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from ecabinet.extensions import db
from tests.browser import sign_in as _sign_in
from tests.browser import violations as _violations
from tests.conftest import ROOT
from tests.meetings.conftest import actor

ARTIFACTS = ROOT / "tests" / "artifacts"
SIZES = [(1366, 1024), (1440, 900)]
IDS = ["tablet-landscape-1366x1024", "desktop-1440x900"]




def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"))


def _steps(page) -> dict[str, bool]:
    return {step: page.locator(f'[data-step="{step}"]').is_enabled()
            for step in ("start", "pause", "resume", "adjourn")}


def _current_state(page) -> str:
    return page.locator('#console-states li[aria-current="step"]').inner_text()


def _serious(page) -> list:
    return _violations(page)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_course_quorum_and_starting_below_it(published, cabinet, live_server, browser, room_client, size):
    from ecabinet.meetings import service
    from ecabinet.meetings.models import CheckInMode

    service.check_in(actor(cabinet["secretary"]), published, service.participant_of(published, cabinet["member"]),
                     CheckInMode.ROOM)
    db.session.commit()
    name = IDS[SIZES.index(size)]
    context, page = _sign_in(browser, live_server.url, "chair@example.gov.vn", f"/meetings/{published.id}/console",
                             size)
    try:
        expect(page.get_by_test_id("meeting-status")).to_have_text("Đã công bố")
        # Not started: the state is highlighted, only the start is possible, the quorum says its rule.
        expect(page.locator('#console-states li[aria-current="step"]')).to_have_text("Chưa bắt đầu")
        expect(page.locator('[data-step="start"]')).to_be_enabled()
        assert _steps(page) == {"start": True, "pause": False, "resume": False, "adjourn": False}
        expect(page.get_by_test_id("console-quorum")).to_have_text(
            "Chưa đủ số lượng — Có mặt 1/4 — cần 3 (quá nửa)")
        assert _serious(page) == []
        _shot(page, f"not-started-{name}")

        # Starting below the quorum asks first, with the warning; waiting changes nothing.
        page.locator('[data-step="start"]').click()
        dialog = page.locator("#console-confirm")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("heading")).to_have_text("Khai mạc khi chưa đủ số lượng?")
        expect(dialog).to_contain_text("Có mặt 1/4 — cần 3 (quá nửa)")
        assert _serious(page) == []
        _shot(page, f"start-below-quorum-{name}")
        dialog.get_by_role("button", name="Chờ thêm thành viên").click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_test_id("meeting-status")).to_have_text("Đã công bố")
        page.locator('[data-step="start"]').click()
        dialog.get_by_role("button", name="Vẫn khai mạc").click()
        expect(page.get_by_test_id("meeting-status")).to_have_text("Đang họp")

        # In session: start is gone, pause and adjourn are possible; paused: resume and adjourn.
        expect(page.locator('#console-states li[aria-current="step"]')).to_have_text("Đang họp")
        expect(page.locator('[data-step="start"]')).to_be_disabled()
        assert _steps(page) == {"start": False, "pause": True, "resume": False, "adjourn": True}
        page.locator('[data-step="pause"]').click()
        expect(page.locator('#console-states li[aria-current="step"]')).to_have_text("Tạm dừng")
        expect(page.locator('[data-step="resume"]')).to_be_enabled()
        assert _steps(page) == {"start": False, "pause": False, "resume": True, "adjourn": True}
        _shot(page, f"paused-{name}")
        page.locator('[data-step="resume"]').click()
        expect(page.locator('#console-states li[aria-current="step"]')).to_have_text("Đang họp")
        # Usable in portrait too: the controls wrap, nothing scrolls sideways.
        page.set_viewport_size({"width": 1024, "height": 1366})
        expect(page.locator('[data-step="adjourn"]')).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        _shot(page, "portrait-1024x1366")
    finally:
        context.close()


@pytest.fixture
def voting_room(in_session, cabinet):
    """The meeting in session on its first item; a live vote on it that shows its running counts, and the
    consent block's second item on which no member gave a position."""
    from ecabinet.live import service as live
    from ecabinet.voting import service as voting

    ballot = voting.create_ballot(actor(cabinet["secretary"]), voting.BallotData(
        title="Thông qua Nghị quyết A", kind="live", meeting_id=in_session.id, item_id=in_session.items[0].id,
        show_running=True))
    live.set_item(actor(cabinet["chair"]), in_session, in_session.items[0].id)
    db.session.commit()
    return in_session, ballot


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_refusal_vote_running_counts_close_and_adjourn(voting_room, cabinet, live_server, browser, room_client,
                                                       size):
    meeting, ballot = voting_room
    name = IDS[SIZES.index(size)]
    context, page = _sign_in(browser, live_server.url, "chair@example.gov.vn", f"/meetings/{meeting.id}/console",
                             size)
    try:
        expect(page.get_by_test_id("meeting-status")).to_have_text("Đang họp")
        expect(page.locator("#live")).to_have_attribute("data-overview", "ready")
        card = page.locator(f'.live-ballot[data-ballot-id="{ballot.id}"]')
        # Before opening: the quorum with its rule, beside the control.
        expect(card.get_by_test_id("ballot-quorum")).to_have_text("Chưa đủ số lượng — Có mặt 0/4 — cần 3 (quá nửa)")
        # Opening without the quorum is refused: beside the button and in the live region, and it stays.
        open_vote = card.get_by_role("button", name="Mở biểu quyết")
        open_vote.click()
        refusal = card.get_by_test_id("refusal")
        expect(refusal).to_have_text(re.compile("Chưa đủ số lượng"))
        expect(page.get_by_test_id("refusal-announcer")).to_have_text(re.compile("Chưa đủ số lượng"))
        expect(refusal).to_be_visible()
        refusal.scroll_into_view_if_needed()
        near, control = page.evaluate("""(id) => {
            const card = document.querySelector(`.live-ballot[data-ballot-id="${id}"]`);
            const box = (e) => { const r = e.getBoundingClientRect(); return {y: r.y, height: r.height}; };
            return [box(card.querySelector('[data-testid="refusal"]')), box(card.querySelector('.ballot-chair .btn'))];
        }""", ballot.id)
        assert 0 <= near["y"] - (control["y"] + control["height"]) < 80, (near, control)
        assert near["y"] + near["height"] <= size[1], "the refusal is on the screen"
        _shot(page, f"refusal-{name}")
        time.sleep(7)  # the old message hid itself after 6 s
        expect(refusal).to_be_visible()
        refusal.get_by_role("button", name="Đóng thông báo này").click()
        expect(card.get_by_test_id("refusal")).to_have_count(0)
        expect(page.get_by_test_id("refusal-announcer")).to_have_text("")

        # Members check in; the quorum is reached and the vote opens; running counts per option.
        clients = {who: room_client(f"{who}@example.gov.vn", meeting.id) for who in ("member", "member2", "member3")}
        for client in clients.values():
            assert client.call("attendance.check_in", mode="room")["ok"]
        expect(card.get_by_test_id("ballot-quorum")).to_have_text("Đủ số lượng — Có mặt 3/4 — cần 3 (quá nửa)")
        open_vote.click()
        expect(card.get_by_test_id("ballot-participation")).to_have_text("0 / 4 thành viên đã biểu quyết")
        for who, choice in (("member", "approve"), ("member2", "reject")):
            ack = clients[who].call("vote.cast", ballot_id=ballot.id, choice=choice, client_vote_id=uuid.uuid4().hex)
            assert ack["ok"], ack
        counts = card.get_by_test_id("running-counts")
        expect(counts.locator('tr[data-option="approve"] .ballot-running-count')).to_have_text("1")
        expect(counts.locator('tr[data-option="reject"] .ballot-running-count')).to_have_text("1")
        expect(counts.locator('tr[data-option="abstain"] .ballot-running-count')).to_have_text("0")

        # The close control is in the chair's own section, styled apart from the chair's vote buttons.
        close = card.locator(".ballot-chair").get_by_role("button", name="Kết thúc biểu quyết")
        own = card.locator(".ballot-own").get_by_role("button", name="Tán thành", exact=True)
        expect(close).to_have_class(re.compile(r"\bbtn-danger\b"))
        expect(own).to_be_visible()
        styles = page.evaluate("""([a, b]) => [a, b].map(e => getComputedStyle(e).backgroundColor)""",
                               [close.element_handle(), own.element_handle()])
        assert styles[0] != styles[1], styles
        assert _serious(page) == []
        _shot(page, f"running-counts-{name}")

        # Closing asks first and says who has not voted yet, of those present, and the quorum.
        close.click()
        dialog = page.locator("#console-confirm")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("heading", level=2)).to_have_text("Kết thúc biểu quyết “Thông qua Nghị quyết A”?")
        expect(dialog.get_by_test_id("close-participation")).to_contain_text("2/3 thành viên có mặt đã biểu quyết.")
        expect(dialog.get_by_test_id("not-voted-present").locator("li")).to_have_text(["Test member 3"])
        expect(dialog.get_by_test_id("not-voted-absent").locator("li")).to_have_text(["Test chair"])
        expect(dialog.get_by_test_id("close-quorum")).to_have_text("Đủ số lượng — Có mặt 3/4 — cần 3 (quá nửa)")
        assert _serious(page) == []
        _shot(page, f"close-vote-dialog-{name}")
        dialog.get_by_role("button", name="Tiếp tục để mở biểu quyết").click()
        expect(dialog).to_be_hidden()
        expect(card.get_by_test_id("ballot-participation")).to_have_text("2 / 4 thành viên đã biểu quyết")
        close.click()
        dialog.get_by_role("button", name="Xác nhận kết thúc ngay").click()
        expect(card.get_by_test_id("ballot-result")).to_have_text(
            "Kết quả: Không thông qua — Tán thành 1 · Không tán thành 1 · Không biểu quyết 0")

        # Adjourning asks first and lists the items not discussed; then the item's time stops.
        page.locator('[data-step="adjourn"]').click()
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("heading", level=2)).to_have_text("Bế mạc phiên họp?")
        expect(dialog.get_by_test_id("adjourn-not-discussed").locator("li")).to_have_text(
            [f"2. {meeting.items[1].title}", f"3. {meeting.items[2].title}"])
        assert _serious(page) == []
        _shot(page, f"adjourn-dialog-{name}")
        dialog.get_by_role("button", name="Xác nhận bế mạc phiên họp").click()
        expect(page.get_by_test_id("meeting-status")).to_have_text("Đã bế mạc")
        expect(page.locator('#console-states li[aria-current="step"]')).to_have_text("Đã bế mạc")
        assert _steps(page) == {"start": False, "pause": False, "resume": False, "adjourn": False}
        timer = page.locator("#live-item-timer")
        time.sleep(1.2)  # a tick of the clock after the adjournment
        stopped = timer.inner_text()
        time.sleep(2.2)
        assert timer.inner_text() == stopped and stopped != "–"
        _shot(page, f"adjourned-{name}")
    finally:
        context.close()


def test_consent_block_marks_items_without_member_positions(published, cabinet, live_server, browser):
    from ecabinet.meetings import service
    from ecabinet.meetings.models import Position

    first, second = published.items[0], published.items[1]
    service.mark_position(actor(cabinet["member"]), first, Position.AGREE)
    db.session.commit()
    context, page = _sign_in(browser, live_server.url, "chair@example.gov.vn", f"/meetings/{published.id}/console",
                             (1366, 1024))
    try:
        items = page.locator("#live-consent-items li")
        expect(items).to_have_count(2)
        expect(items.nth(0)).to_have_text(f"1. {first.title}")
        expect(items.nth(1)).to_have_text(f"2. {second.title} chưa có ý kiến thành viên")
        expect(page.get_by_test_id("no-position")).to_have_count(1)
    finally:
        context.close()
