"""One cabinet meeting from the agenda to signed minutes, as its people live it.

The secretary, the chair and one member use Debian's Chromium; two more members are real Socket.IO
clients. The app runs under gunicorn's gevent worker with a development signing pair made by
``make-signing-cert``. Assertions are on what people see (texts on screen, acknowledgements), not on
event numbers, so that the way the room broadcasts may change underneath.
"""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.conftest import ROOT, LiveServer
from tests.helpers import csrf_from
from tests.live.conftest import RoomClient
from tests.meetings.test_browser_agenda import _add_item, _sign_in

TITLE = "Phiên họp Chính phủ thường kỳ tháng 12"
CONSENT, DEBATED, REPORT = "Nghị định về phí trước bạ", "Nghị quyết về đầu tư công", "Báo cáo kinh tế - xã hội"
RESOLUTION = "Thông qua Nghị quyết về đầu tư công"


@pytest.fixture
def signing_server(cabinet, db_url, tmp_path):
    """The app with the development signing pair that ``make-signing-cert`` writes into its instance folder."""
    server = LiveServer(db_url, tmp_path)
    made = subprocess.run([sys.executable, "-m", "ecabinet", "ecabinet", "make-signing-cert"], cwd=ROOT,
                          env=server.env, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    server.cert = Path(server.env["ECABINET_INSTANCE_DIR"]) / "signing" / "cert.pem"
    yield server.start()
    server.stop()


def _prepare_agenda(sec, base: str) -> str:
    """The secretary creates the meeting, builds the agenda, publishes it and prepares the vote."""
    sec.get_by_role("link", name="Phiên họp", exact=True).click()
    sec.get_by_role("link", name="Phiên họp mới").click()
    sec.get_by_label("Tên phiên họp").fill(TITLE)
    day = (datetime.now() + timedelta(days=7)).strftime("%Y-%m-%d")
    sec.get_by_label("Bắt đầu").fill(f"{day}T08:00")
    sec.get_by_label("Dự kiến kết thúc").fill(f"{day}T11:00")
    sec.get_by_label("Địa điểm").fill("Phòng họp Chính phủ")
    sec.get_by_role("button", name="Lưu").click()
    expect(sec.locator("h1")).to_have_text(TITLE)
    for title, kind, minutes in ((CONSENT, "decision", "10"), (DEBATED, "decision", "40"),
                                 (REPORT, "information", "20")):
        _add_item(sec, title, kind, minutes)
    sec.get_by_role("button", name="Công bố chương trình").click()
    expect(sec.locator(".flash-info")).to_contain_text("Đã công bố chương trình")
    meeting_url = sec.url.split("#")[0]

    sec.goto(meeting_url + "/ballots/new")
    sec.get_by_label("Nội dung biểu quyết").fill(RESOLUTION)
    sec.get_by_label("Mục chương trình").select_option(label=f"2. {DEBATED}")
    sec.get_by_role("button", name="Lưu bản nháp").click()
    expect(sec.locator("h1")).to_contain_text(RESOLUTION)
    return meeting_url


def _mark_position(http, meeting_url: str, item_id: int, position: str) -> None:
    token = csrf_from(http.get(meeting_url, timeout=10).text)
    r = http.post(f"{meeting_url}/items/{item_id}/position", data={"csrf_token": token, "position": position},
                  timeout=10, allow_redirects=False)
    assert r.status_code == 302, r.text[:300]


def _ballot(client: RoomClient) -> dict:
    ack = client.call("vote.list")
    assert ack["ok"], ack
    (ballot,) = [b for b in ack["ballots"] if b["title"] == RESOLUTION]
    return ballot


def test_a_whole_meeting_from_agenda_to_signed_minutes(signing_server, cabinet, browser):
    from ecabinet.minutes.signing import validate_pdf

    base = signing_server.url
    contexts, sockets = [], []
    try:
        sec_ctx, sec = _sign_in(browser, base, "secretary@example.gov.vn")
        contexts.append(sec_ctx)
        meeting_url = _prepare_agenda(sec, base)
        meeting_id = int(meeting_url.rstrip("/").rsplit("/", 1)[1])

        # Positions before the meeting: the first item draws no objection, the second one objections.
        mem_ctx, mem = _sign_in(browser, base, "member@example.gov.vn")
        contexts.append(mem_ctx)
        mem.goto(meeting_url)
        for title, choice in ((CONSENT, "Đồng ý"), (DEBATED, "Phản đối")):
            item = mem.locator(".agenda-item", has_text=title)
            item.get_by_label(choice).check()
            item.get_by_role("button", name="Lưu ý kiến").click()
            expect(mem.locator(".flash-info")).to_contain_text("Đã lưu ý kiến")
        item_ids = [int(i) for i in mem.locator(".agenda-item").evaluate_all(
            "items => items.map(i => i.dataset.itemId)")]
        m2 = RoomClient(base, "member2@example.gov.vn", meeting_id)
        m3 = RoomClient(base, "member3@example.gov.vn", meeting_id)
        sockets += [m2, m3]
        _mark_position(m2.http, meeting_url, item_ids[0], "agree")
        _mark_position(m3.http, meeting_url, item_ids[1], "object")

        # The meeting starts: the chair from the console, the member on the tablet, two more on sockets.
        chair_ctx, chair = _sign_in(browser, base, "chair@example.gov.vn")
        contexts.append(chair_ctx)
        chair.goto(f"{meeting_url}/console")
        mem.goto(f"{meeting_url}/room")
        for client in (m2, m3):
            client.connect().join()
        expect(chair.get_by_test_id("meeting-status")).to_have_text("Đã công bố")
        chair.get_by_role("button", name="Khai mạc phiên họp").click()
        chair.get_by_role("button", name="Vẫn khai mạc").click()  # nobody has checked in yet: the chair confirms
        for page in (chair, mem):
            expect(page.get_by_test_id("meeting-status")).to_have_text("Đang họp")
        for client in (m2, m3):
            client.wait_for(lambda ev: (ev["payload"].get("meeting") or {}).get("status") == "in_session")

        # Everyone checks in: the chair on the meeting page, the member by tapping, the others by events.
        chair.goto(meeting_url)
        chair.locator(".check-in-form").get_by_role("button", name="Điểm danh").click()
        expect(chair.locator(".check-in")).to_contain_text("Đã điểm danh")
        chair.goto(f"{meeting_url}/console")
        mem.get_by_role("button", name="Điểm danh: tại phòng họp").click()
        for client in (m2, m3):
            assert client.call("attendance.check_in", mode="room")["ok"]
        expect(chair.get_by_test_id("quorum")).to_contain_text("Đủ số lượng")

        # The consent block holds the item nobody objected to; the chair adopts it.
        expect(chair.locator("#live-consent-items li")).to_have_text([f"1. {CONSENT}"])
        chair.get_by_role("button", name="Thông qua nhóm đồng thuận").click()
        expect(mem.locator("#live-items")).to_contain_text("đã thông qua không thảo luận")
        m2.wait_for(lambda ev: str(item_ids[0]) in (ev["payload"].get("outcomes") or {}))

        # The second item is debated: the member asks for the floor, the chair gives it.
        chair.locator("#live-items").get_by_role("button", name=f"2. {DEBATED}").click()
        expect(mem.get_by_test_id("shown-item")).to_have_text(DEBATED)
        mem.get_by_role("button", name="Đăng ký phát biểu").click()
        expect(chair.get_by_test_id("queue")).to_contain_text("Test member")
        chair.get_by_test_id("queue").get_by_role("button", name="Mời phát biểu").click()
        for page in (chair, mem):
            expect(page.get_by_test_id("floor")).to_contain_text("Đang phát biểu: Test member")
        m3.wait_for(lambda ev: ((ev["payload"].get("meeting") or {}).get("floor") or {}).get("name") == "Test member")
        chair.get_by_role("button", name="Kết thúc lượt phát biểu").click()

        # The live vote: the chair opens it, the member taps, the others vote by events, the chair closes it.
        chair.get_by_role("button", name="Mở biểu quyết").click()
        for page in (chair, mem):
            expect(page.get_by_test_id("ballot-participation")).to_have_text("0 / 4 thành viên đã biểu quyết")
        mem.get_by_role("button", name="Tán thành", exact=True).click()
        expect(mem.get_by_test_id("vote-receipt")).to_be_visible()
        ballot_id = _ballot(m2)["ballot_id"]
        for client, choice in ((m2, "approve"), (m3, "reject")):
            ack = client.call("vote.cast", ballot_id=ballot_id, choice=choice, client_vote_id=uuid.uuid4().hex)
            assert ack["ok"] and ack["receipt"], ack
        expect(chair.get_by_test_id("ballot-participation")).to_have_text("3 / 4 thành viên đã biểu quyết")
        expect(mem.get_by_test_id("ballot-participation")).to_have_text("3 / 4 thành viên đã biểu quyết")
        chair.get_by_role("button", name="Kết thúc biểu quyết").click()
        chair.get_by_role("button", name="Xác nhận kết thúc ngay").click()
        result = "Kết quả: Thông qua — Tán thành 2 · Không tán thành 1 · Không biểu quyết 0"
        for page in (chair, mem):
            expect(page.get_by_test_id("ballot-result")).to_have_text(result)
        for client in (m2, m3):
            seen = _ballot(client)
            assert seen["status"] == "closed" and seen["result"]["outcome"] == "adopted", seen

        # The chair adjourns; everyone sees it; then closes the meeting from its page.
        chair.get_by_role("button", name="Bế mạc").click()
        chair.get_by_role("button", name="Xác nhận bế mạc phiên họp").click()
        for page in (chair, mem):
            expect(page.get_by_test_id("meeting-status")).to_have_text("Đã bế mạc")
        m2.wait_for(lambda ev: (ev["payload"].get("meeting") or {}).get("status") == "adjourned")
        chair.goto(meeting_url)
        chair.get_by_role("button", name="Kết thúc phiên họp").click()
        expect(chair.locator(".flash-info")).to_be_visible()

        # The minutes: drafted from the record, circulated, approved and signed by the chair.
        sec.goto(meeting_url + "/minutes")
        sec.get_by_role("button", name="Lập dự thảo biên bản từ hồ sơ phiên họp").click()
        editor = sec.locator("#minutes-editor")
        expect(editor).to_contain_text(RESOLUTION)
        expect(editor).to_contain_text(CONSENT)
        editor.click()
        sec.keyboard.press("Control+End")
        sec.keyboard.type(" Chủ tọa kết luận: thông qua Nghị quyết.")
        sec.get_by_role("button", name="Lưu thành bản sửa đổi mới").click()
        expect(sec.get_by_test_id("minutes-text")).to_contain_text("Chủ tọa kết luận: thông qua Nghị quyết.")
        deadline = (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT17:00")
        sec.get_by_label("Hạn góp ý của thành viên").fill(deadline)
        sec.get_by_role("button", name="Gửi lấy ý kiến thành viên").click()
        expect(sec.get_by_test_id("minutes-status")).to_have_text("Đang lấy ý kiến")

        chair.goto(sec.url)
        chair.get_by_role("button", name="Phê duyệt và ký").click()
        expect(chair.get_by_test_id("minutes-status")).to_have_text("Bản chính thức")
        expect(chair.get_by_test_id("signature")).to_contain_text("Đã ký và nguyên vẹn")
        with chair.expect_download() as info:
            chair.get_by_test_id("download-pdf").click()
        signed = Path(info.value.path()).read_bytes()
    finally:
        for client in sockets:
            client.close()
        for context in contexts:
            context.close()

    report = validate_pdf(signed, str(signing_server.cert))
    assert report.ok and report.trusted, report.summary
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(signed)).pages)
    for words in ("Chủ tọa kết luận: thông qua Nghị quyết.", RESOLUTION, CONSENT):
        assert words in text
