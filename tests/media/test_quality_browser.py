"""On a poor connection the page keeps the audio: two Chromiums with fake devices (the chair on the console,
a member on the room page), a real Janus and the app under gunicorn.

The member's panel shows the connection's quality from its real WebRTC statistics. Forced into "bad"
(``data-quality-force`` on the panel, the hook static/js/media-quality.js exposes for this: the statistics
themselves are not touched), it stops sending its camera and receiving the chair's video, while its
microphone's packets keep leaving and the chair's audio keeps arriving (``getStats`` on the page's own peer
connections), and says so. When the connection is good again it offers video back, and video returns only
on the member's tap. The streams the app recorded for the member are the ones Janus reports."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ecabinet.extensions import db
from tests.browser import sign_in
from tests.media.test_floor_browser import (  # noqa: F401 - media_browser: a fixture
    AUDIO_BYTES_FROM,
    KEEP_CONNECTIONS,
    VIDEO_BYTES_FROM,
    media_browser,
    stops_growing,
)

pytestmark = pytest.mark.timeout(240)

TABLET = (1024, 768)
# Bytes this page has sent, of one kind, over all its connections.
SENT = """async (kind) => {
  let bytes = 0;
  for (const pc of window.__connections) {
    if (pc.connectionState === "closed") { continue; }
    (await pc.getStats()).forEach((s) => {
      if (s.type === "outbound-rtp" && s.kind === kind) { bytes += s.bytesSent; }
    });
  }
  return bytes;
}"""


def _grows(page, script: str, arg, seconds: float = 3.0) -> bool:  # noqa: ANN001
    before = page.evaluate(script, arg)
    time.sleep(seconds)
    return page.evaluate(script, arg) > before


def test_a_bad_connection_drops_video_and_keeps_audio(in_session, cabinet, media_server, media_browser):  # noqa: F811
    from ecabinet.media.models import MediaParticipant

    mid = in_session.id
    chair_id, member_id = cabinet["chair"].id, cabinet["member"].id
    contexts = []
    try:
        chair_ctx, chair = sign_in(media_browser, media_server.url, "chair@example.gov.vn",
                                   f"/meetings/{mid}/console", (1440, 900))
        m_ctx, member = sign_in(media_browser, media_server.url, "member@example.gov.vn", f"/meetings/{mid}/room",
                                TABLET)
        contexts = [chair_ctx, m_ctx]
        for page in (chair, member):
            page.add_init_script(KEEP_CONNECTIONS)
            page.reload()
            page.get_by_test_id("media-join-video").click()
        for page in (chair, member):
            expect(page.get_by_test_id("media-leave")).to_be_visible(timeout=20000)

        # The indicator, from the page's real statistics: bars and a word.
        quality = member.get_by_test_id("media-quality")
        expect(quality).to_be_visible(timeout=15000)
        expect(quality).to_have_attribute("data-quality", "good", timeout=15000)
        expect(quality).to_have_text("Kết nối: tốt")
        expect(member.get_by_test_id("media-fallback")).to_be_hidden()

        # The streams the app recorded are Janus's own view of the member's handle.
        db.session.expire_all()
        row = db.session.scalar(select(MediaParticipant).where(MediaParticipant.meeting_id == mid,
                                                               MediaParticipant.user_id == member_id))
        assert (row.audio_mid, row.video_mid) == ("0", "1"), (row.audio_mid, row.video_mid)

        # Before: the member sends both, and receives the chair's audio (always heard) and video.
        assert member.evaluate(VIDEO_BYTES_FROM, chair_id) > 0 or _grows(member, VIDEO_BYTES_FROM, chair_id)
        assert _grows(member, SENT, "video") and _grows(member, SENT, "audio")

        # Forced bad: after a few samples the page drops video and says so.
        member.evaluate("document.getElementById('media-panel').dataset.qualityForce = 'bad'")
        expect(quality).to_have_attribute("data-quality", "bad", timeout=15000)
        fallback = member.get_by_test_id("media-fallback")
        expect(fallback).to_be_visible()
        expect(fallback).to_contain_text("Kết nối của bạn rất yếu")
        expect(member.get_by_test_id("media-video-back")).to_be_hidden()
        expect(member.get_by_test_id("media-panel")).to_have_attribute("data-video-held", "1")

        stops_growing(member, SENT, "video")                      # the camera stops leaving
        assert _grows(member, SENT, "audio")                  # the microphone's packets still do
        stops_growing(member, VIDEO_BYTES_FROM, chair_id)          # Janus stops sending the chair's video
        assert _grows(member, AUDIO_BYTES_FROM, chair_id)     # the chair is still heard
        # The others see the member as connected by audio.
        expect(chair.get_by_test_id("present").locator(f'li[data-user-id="{member_id}"] .media-badge')) \
            .to_have_attribute("data-media", "audio", timeout=15000)

        # Good again: video is offered back after a long good period, and not turned on by itself.
        member.evaluate("document.getElementById('media-panel').dataset.qualityForce = 'good'")
        back = member.get_by_test_id("media-video-back")
        expect(back).to_be_visible(timeout=40000)
        expect(fallback).to_contain_text("Kết nối của bạn đã tốt hơn")
        expect(quality).to_have_attribute("data-quality", "good")
        stops_growing(member, SENT, "video")
        back.click()
        expect(fallback).to_be_hidden()
        member.evaluate("delete document.getElementById('media-panel').dataset.qualityForce")
        deadline = time.monotonic() + 15
        while not _grows(member, SENT, "video", 1.5):
            assert time.monotonic() < deadline, "the camera did not return"
        deadline = time.monotonic() + 15
        while not _grows(member, VIDEO_BYTES_FROM, chair_id, 1.5):
            assert time.monotonic() < deadline, "the chair's video did not return"
    finally:
        for context in contexts:
            context.close()
