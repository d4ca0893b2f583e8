"""Three Chromiums with fake microphones and cameras: the chair on the console, two remote members.

Everyone joins the meeting's media room muted. Before the floor is granted, no audio of a member reaches
the others (the inbound audio bytes from them stay at zero in ``RTCPeerConnection.getStats``); once the
chair grants them the floor the server unmutes them at Janus, the others receive their audio and show their
video large; when the floor ends they are muted again and their audio stops. A speaker whose page announces
late is not heard before the server has muted them, and a listener whose first subscription Janus refuses
(a feed gone) still receives everyone."""

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


# Video bytes received from one user's feed: the stats whose track is the one their tile shows.
VIDEO_BYTES_FROM = AUDIO_BYTES_FROM.replace('audio`', 'video`').replace("getAudioTracks", "getVideoTracks") \
    .replace('s.kind === "audio"', 's.kind === "video"')


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

# The speaker's page announces its streams three seconds late: the others subscribe to its feed before the
# server has muted it at Janus, and still receive no audio (the page sends none until it is muted).
SLOW_ANNOUNCEMENT = """(() => {
  const original = window.fetch;
  window.fetch = (url, ...rest) => String(url).endsWith("/published")
    ? new Promise((done) => setTimeout(done, 3000)).then(() => original(url, ...rest))
    : original(url, ...rest);
})();"""

# The listener's first subscription names a feed that is gone as well (a member who left as they joined):
# Janus refuses the whole batch, and the page must try the others again rather than never hear them.
GONE_FEED = """(() => {
  const original = window.fetch;
  let done = false;
  window.fetch = (url, options, ...rest) => {
    if (!done && options && typeof options.body === "string" && options.body.includes('"ptype":"subscriber"')) {
      done = true;
      const message = JSON.parse(options.body);
      message.body.streams.push({ feed: 4242 });
      options = { ...options, body: JSON.stringify(message) };
    }
    return original(url, options, ...rest);
  };
})();"""


def _wait_value(page, script: str, user_id: int, predicate, timeout: float = 15.0) -> int:
    deadline = time.monotonic() + timeout
    value = -1
    while time.monotonic() < deadline:
        value = page.evaluate(script, user_id)
        if predicate(value):
            return value
        time.sleep(0.1)
    raise AssertionError(f"inbound bytes from user {user_id}: {value}")


def _wait_bytes(page, user_id: int, predicate, timeout: float = 15.0) -> int:
    return _wait_value(page, AUDIO_BYTES_FROM, user_id, predicate, timeout)


def stops_growing(page, script: str, arg, within: float = 12.0) -> None:  # noqa: ANN001
    """Within a few seconds the count stops: the same over a second and a half (packets on their way
    arrive first)."""
    deadline = time.monotonic() + within
    before = page.evaluate(script, arg)
    while time.monotonic() < deadline:
        time.sleep(1.5)
        after = page.evaluate(script, arg)
        if after == before:
            return
        before = after
    raise AssertionError(f"{script[:40]}… for {arg}: still growing ({after})")


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
            if page is m1:
                page.add_init_script(SLOW_ANNOUNCEMENT)
            if page is m2:
                page.add_init_script(GONE_FEED)
            page.reload()
            expect(page.get_by_test_id("meeting-status")).to_have_text("Đang họp")
            page.get_by_test_id("media-join-video").click()
        for page in (chair, m1, m2):
            expect(page.get_by_test_id("media-leave")).to_be_visible(timeout=20000)

        # Muted by the server, and silent before it was: the others receive the member's stream, but not one
        # byte of audio.
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

        # Given the floor again, then muted by the chair from the member's tile: the others stop hearing them.
        m1.locator("#live-request-floor").click()
        chair.get_by_test_id("queue").get_by_role("button", name="Mời phát biểu").click()
        _wait_bytes(m2, speaker, lambda b: b > before)
        tile = chair.get_by_test_id("media-stage").locator(f'.media-tile[data-user-id="{speaker}"]')
        tile.locator('[data-action="mute"]').click()
        stops_growing(m2, AUDIO_BYTES_FROM, speaker)
        stops_growing(chair, AUDIO_BYTES_FROM, speaker)

        # The member switches to audio only: the others stop receiving their video, and the room's
        # attendance shows them connected by audio.
        video = _wait_value(m2, VIDEO_BYTES_FROM, speaker, lambda b: b > 0)
        _wait_value(m2, VIDEO_BYTES_FROM, speaker, lambda b: b > video)  # flowing until now
        m1.get_by_test_id("media-audio-only").click()
        expect(m1.get_by_test_id("media-status")).to_have_text("Đã kết nối chỉ bằng âm thanh.", timeout=20000)
        stops_growing(m2, VIDEO_BYTES_FROM, speaker)
        expect(m2.locator(f'.media-tile[data-user-id="{speaker}"]')).to_have_attribute("data-video", "0")
        for page in (chair, m2):
            expect(page.get_by_test_id("present").locator(f'li[data-user-id="{speaker}"] .media-badge')) \
                .to_have_attribute("data-media", "audio")
            # The server kicked the member's old feed: Janus told everyone, and only that member's place ended.
            expect(page.get_by_test_id("media-status")).to_have_text("Đã kết nối có hình.")
            expect(page.get_by_test_id("media-leave")).to_be_visible()
            expect(page.get_by_test_id("present").locator(f'li[data-user-id="{listener}"] .media-badge')) \
                .to_have_text("có hình")
    finally:
        for context in contexts:
            context.close()
