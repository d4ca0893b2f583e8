"""The room screen in Chromium, as a projector shows it: opened by its link with no account, it follows
the chair live (the room's socket says something changed), shows a withheld item by its title alone,
vote participation and the result, and goes dark when its link is revoked."""

from __future__ import annotations

from playwright.sync_api import expect

from ecabinet.display import service
from ecabinet.extensions import db
from tests.browser import violations as _violations
from tests.conftest import PASSWORD, ROOT
from tests.helpers import csrf_from, http_login
from tests.live.conftest import RoomClient
from tests.meetings.conftest import actor

ARTIFACTS = ROOT / "tests" / "artifacts"
SIZES = {"projector-1920x1080": {"width": 1920, "height": 1080}, "screen-1366x768": {"width": 1366, "height": 768},
         "portrait-1080x1920": {"width": 1080, "height": 1920}}


def test_the_room_screen_follows_the_meeting_and_goes_dark_when_revoked(in_session, cabinet, live_server, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    meeting = in_session
    display, token = service.issue_display(actor(cabinet["secretary"]), meeting, "Phòng họp 1", "title")
    db.session.commit()
    chair = RoomClient(live_server.url, "chair@example.gov.vn", meeting.id).connect()
    chair.join()
    context = browser.new_context(viewport=SIZES["projector-1920x1080"])
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(f"{live_server.url}/display/open/{token}")
        expect(page).to_have_url(f"{live_server.url}/display")
        expect(page.locator('[data-role="status"]')).to_have_text("Đang họp")
        expect(page.locator('[data-role="item-title"]')).to_have_text("Chưa thảo luận nội dung nào")
        # The token is not in the address bar or the page.
        assert token not in page.url and token not in page.content()

        # The chair moves to item 1: the screen follows (a ping, then the state), without reloading.
        first, second = meeting.items[0], meeting.items[1]
        assert chair.call("chair.set_item", item_id=first.id)["ok"]
        expect(page.locator('[data-role="item-title"]')).to_have_text(first.title, timeout=5000)
        expect(page.locator('[data-role="item-number"]')).to_have_text("Nội dung 1/3")
        expect(page.locator('[data-role="item-presenter"]')).to_contain_text("Bộ Tài chính")
        expect(page.locator('[data-role="quorum"]')).to_contain_text("Có mặt")
        assert _violations(page) == []
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            page.wait_for_timeout(200)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), size
            page.screenshot(path=str(ARTIFACTS / f"display-{size}.png"))
        page.set_viewport_size(SIZES["projector-1920x1080"])

        # A live vote on item 1: participation as ballots come in, then the result at close.
        from ecabinet.meetings import service as meetings
        from ecabinet.meetings.models import CheckInMode
        from tests.voting.conftest import VOTERS, cvid, make_live

        for role in VOTERS:
            meetings.check_in(actor(cabinet["secretary"]), meeting, meetings.participant_of(meeting, cabinet[role]),
                              CheckInMode.ROOM)
        db.session.commit()
        ballot = make_live(meeting, cabinet)
        assert chair.call("chair.open_vote", ballot_id=ballot.id)["ok"]
        vote = page.locator('[data-role="vote"]')
        expect(vote).to_be_visible(timeout=5000)
        expect(page.locator('[data-role="vote-heading"]')).to_have_text("Đang biểu quyết")
        expect(page.locator('[data-role="vote-participation"]')).to_contain_text("0 / 4")
        member = RoomClient(live_server.url, "member@example.gov.vn", meeting.id).connect()
        try:
            member.join()
            cast = member.call("vote.cast", ballot_id=ballot.id, choice="approve", client_vote_id=cvid())
            assert cast["ok"], cast
        finally:
            member.close()
        expect(page.locator('[data-role="vote-participation"]')).to_contain_text("1 / 4", timeout=6000)
        page.screenshot(path=str(ARTIFACTS / "display-vote-open-1920x1080.png"))
        assert chair.call("chair.close_vote", ballot_id=ballot.id)["ok"]
        expect(page.locator('[data-role="vote-heading"]')).to_have_text("Kết quả", timeout=5000)
        expect(page.locator('[data-role="vote-result"] li[data-option="approve"] strong')).to_have_text("1")
        expect(page.locator('[data-role="vote-outcome"]')).not_to_be_empty()
        assert _violations(page) == []
        page.screenshot(path=str(ARTIFACTS / "display-vote-result-1920x1080.png"))

        # A guest invited to item 1 only is in the room: item 2 appears by its title alone.

        guest = meetings.participant_of(meeting, cabinet["guest"])
        meetings.check_in(actor(cabinet["secretary"]), meeting, guest, CheckInMode.ROOM)
        db.session.commit()
        assert chair.call("chair.set_item", item_id=second.id)["ok"]
        expect(page.locator('[data-role="item-title"]')).to_have_text(second.title, timeout=5000)
        expect(page.locator('[data-role="item-presenter"]')).to_have_text("")
        expect(page.locator('[data-role="speaker"]')).to_have_text("Chưa có ai phát biểu")

        # Revoked by the secretariat: the screen is told, asks again, is refused, and shows nothing more.
        secretary = http_login(live_server.url, "secretary@example.gov.vn", PASSWORD)
        manage = f"{live_server.url}/meetings/{meeting.id}/displays"
        revoked = secretary.post(f"{manage}/{display.id}/revoke", allow_redirects=False, timeout=10,
                                 data={"csrf_token": csrf_from(secretary.get(manage, timeout=10).text)})
        assert revoked.status_code == 302, revoked.text[:500]
        expect(page.get_by_test_id("display-revoked")).to_be_visible(timeout=5000)
        expect(page).to_have_url(f"{live_server.url}/display/after")
        assert meeting.title not in page.content()
        assert not problems, problems
    finally:
        chair.close()
        context.close()
