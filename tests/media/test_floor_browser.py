"""Three Chromiums with fake microphones and cameras: the chair on the console, two remote members.

Everyone joins the meeting's media room muted. Before the floor is granted, no audio of a member reaches
the others (the inbound audio bytes from them stay at zero in ``RTCPeerConnection.getStats``); once the
chair grants them the floor the server unmutes them at Janus, the others receive their audio and show their
video large; when the floor ends they are muted again and their audio stops."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from ecabinet.extensions import db
from tests.browser import sign_in
from tests.conftest import CHROMIUM
from tests.meetings.conftest import actor

pytestmark = pytest.mark.timeout(180)

TABLET = (1024, 768)
# Every RTCPeerConnection the page makes, for getStats (the page's own code keeps them private).
KEEP_CONNECTIONS = """(() => {
  const Original = window.RTCPeerConnection;
  window.__connections = [];
  function Kept(...args) { const pc = new Original(...args); window.__connections.push(pc); return pc; }
  Kept.prototype = Original.prototype;
  Object.setPrototypeOf(Kept, Original);
  window.RTCPeerConnection = Kept;
})()"""
# Audio bytes received from one user's feed: the stats whose track is the one their tile plays.
AUDIO_BYTES_FROM = """async (userId) => {
  const audio = document.querySelector(`.media-tile[data-user-id="${userId}"] audio`);
  const track = audio && audio.srcObject ? audio.srcObject.getAudioTracks()[0] : null;
  if (!track) { return -1; }
  let bytes = 0;
  for (const pc of window.__connections) {
    if (pc.connectionState === "closed") { continue; }
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio" && s.trackIdentifier === track.id) {
        bytes += s.bytesReceived;
      }
    });
  }
  return bytes;
}"""


@pytest.fixture(scope="module")
def media_browser(browser):
    """Chromium with fake devices, allowed without a prompt, playing sound without a gesture."""
    fake = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
              "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              "--autoplay-policy=no-user-gesture-required"])
    yield fake
    fake.close()


def _wait_bytes(page, user_id: int, predicate, timeout: float = 15.0) -> int:
    deadline = time.monotonic() + timeout
    value = -1
    while time.monotonic() < deadline:
        value = page.evaluate(AUDIO_BYTES_FROM, user_id)
        if predicate(value):
            return value
        time.sleep(0.1)
    raise AssertionError(f"inbound audio bytes from user {user_id}: {value}")


def test_floor_decides_who_is_heard_and_shown_large(in_session, cabinet, media_server, media_browser):
    from ecabinet.live import service as live

    mid = in_session.id
    first = in_session.items[0]
    live.set_item(actor(cabinet["chair"]), in_session, first.id)
    live.request_floor(actor(cabinet["member"]), in_session, first.id)
    db.session.commit()
    speaker, listener = cabinet["member"].id, cabinet["member2"].id

    contexts = []
    try:
        chair_ctx, chair = sign_in(media_browser, media_server.url, "chair@example.gov.vn",
                                   f"/meetings/{mid}/console", (1440, 900))
        m1_ctx, m1 = sign_in(media_browser, media_server.url, "member@example.gov.vn", f"/meetings/{mid}/room",
                             TABLET)
        m2_ctx, m2 = sign_in(media_browser, media_server.url, "member2@example.gov.vn", f"/meetings/{mid}/room",
                             TABLET)
        contexts = [chair_ctx, m1_ctx, m2_ctx]
        for page in (chair, m1, m2):
            page.add_init_script(KEEP_CONNECTIONS)
            page.reload()
            expect(page.get_by_test_id("meeting-status")).to_have_text("Đang họp")
            page.get_by_test_id("media-join-video").click()
        for page in (chair, m1, m2):
            expect(page.get_by_test_id("media-leave")).to_be_visible(timeout=20000)

        # Muted by the server: the others receive the member's stream, but not one byte of audio.
        _wait_bytes(m2, speaker, lambda b: b >= 0)
        _wait_bytes(chair, speaker, lambda b: b >= 0)
        time.sleep(2)
        assert m2.evaluate(AUDIO_BYTES_FROM, speaker) == 0
        assert chair.evaluate(AUDIO_BYTES_FROM, speaker) == 0
        expect(m1.get_by_test_id("media-mic")).to_have_attribute("data-on", "0")

        # The chair gives the floor: the member is heard and shown large everywhere.
        granted_at = time.monotonic()
        chair.get_by_test_id("queue").get_by_role("button", name="Mời phát biểu").click()
        _wait_bytes(m2, speaker, lambda b: b > 0)
        heard_after = time.monotonic() - granted_at
        _wait_bytes(chair, speaker, lambda b: b > 0)
        for page in (chair, m2):
            expect(page.get_by_test_id("media-stage").locator(f'.media-tile[data-user-id="{speaker}"]')).to_be_visible()
        expect(m1.get_by_test_id("media-mic")).to_have_attribute("data-on", "1")
        assert m2.evaluate(AUDIO_BYTES_FROM, listener) == -1  # one's own feed is not received
        print(f"floor grant -> first audio bytes at another participant: {heard_after:.2f} s")

        # The floor ends: muted again, the audio stops.
        chair.locator('[data-action="chair.end_floor"]').click()
        expect(m2.get_by_test_id("floor")).to_have_text("Chưa có ai phát biểu.")
        time.sleep(1.0)  # packets already on their way
        before = m2.evaluate(AUDIO_BYTES_FROM, speaker)
        time.sleep(2.0)
        assert m2.evaluate(AUDIO_BYTES_FROM, speaker) == before
        expect(m2.get_by_test_id("media-stage").locator(f'.media-tile[data-user-id="{speaker}"]')).to_have_count(0)
    finally:
        for context in contexts:
            context.close()
