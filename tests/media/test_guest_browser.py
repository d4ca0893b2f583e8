"""A guest hears the meeting only while the item they are invited to is current: two Chromiums with fake
devices, the chair on the console and a guest invited to the first item, against the real Janus."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ecabinet.extensions import db
from tests.browser import sign_in
from tests.media.test_floor_browser import (  # noqa: F401 - media_browser: a fixture
    AUDIO_BYTES_FROM,
    KEEP_CONNECTIONS,
    TABLET,
    media_browser,
    stops_growing,
)
from tests.meetings.conftest import actor

pytestmark = pytest.mark.timeout(180)


def test_a_guest_hears_the_meeting_only_while_their_item_is_current(in_session, cabinet, media_server,
                                                                    media_browser):  # noqa: F811
    from ecabinet.live import service as live

    mid, chair_id = in_session.id, cabinet["chair"].id
    first, second = in_session.items[0], in_session.items[1]  # the guest is invited to the first only
    live.set_item(actor(cabinet["chair"]), in_session, first.id)
    db.session.commit()

    contexts = []
    try:
        chair_ctx, chair = sign_in(media_browser, media_server.url, "chair@example.gov.vn",
                                   f"/meetings/{mid}/console", (1440, 900))
        guest_ctx, guest = sign_in(media_browser, media_server.url, "guest@example.gov.vn",
                                   f"/meetings/{mid}/room", TABLET)
        contexts = [chair_ctx, guest_ctx]
        for page in (chair, guest):
            page.add_init_script(KEEP_CONNECTIONS)
            page.reload()
            expect(page.get_by_test_id("meeting-status")).to_have_text("Đang họp")
            page.get_by_test_id("media-join-audio").click()
            expect(page.get_by_test_id("media-leave")).to_be_visible(timeout=20000)

        # Their item is current: the chair is heard.
        guest.wait_for_function(f"async () => (await ({AUDIO_BYTES_FROM})({chair_id})) > 0", timeout=20000)

        # The chair moves on: the guest is taken out of the media room and hears nothing more.
        chair.locator(".live-agenda-item", has_text=second.title).click()
        expect(guest.get_by_test_id("media-leave")).to_be_hidden(timeout=20000)
        stops_growing(guest, AUDIO_BYTES_FROM, chair_id)
        expect(guest.get_by_test_id("media-join-audio")).to_be_visible()
        status = guest.evaluate("() => fetch(location.pathname.replace('/room', '').replace('/meetings/', "
                                "'/media/meetings/') + '/join', {method: 'POST', headers: {'Content-Type': "
                                "'application/json', 'X-CSRFToken': document.querySelector('meta[name=csrf-token]')"
                                ".content}, body: '{\"mode\": \"audio\"}'}).then((r) => r.status)")
        assert status in (403, 409), status  # no token while another item is current
    finally:
        for context in contexts:
            context.close()
