"""What the server tells Janus when the floor moves and when the chair moderates (the plans, without Janus:
tests/media/test_floor_browser.py shows them carried out)."""

from __future__ import annotations

import pytest

from ecabinet.extensions import db
from tests.meetings.conftest import actor


def _publishing(meeting, user, audio="0", video="1"):
    from ecabinet.media import service

    service.issue_token(actor(user), meeting, None, "video")
    return service.published(actor(user), meeting, audio, video, "video")


def test_everyone_is_muted_but_the_one_who_has_the_floor_and_the_chair(in_session, cabinet, app):
    from ecabinet.live import service as live
    from ecabinet.media import service

    app.config["JANUS_URL"] = None
    first = in_session.items[0]
    live.set_item(actor(cabinet["chair"]), in_session, first.id)
    plan = _publishing(in_session, cabinet["member"])
    assert [(m.mid, m.mute) for m in plan] == [("0", True)]  # joins muted
    _publishing(in_session, cabinet["member2"])
    assert [m.mute for m in _publishing(in_session, cabinet["chair"])] == [False]  # the chair runs the meeting
    request = live.request_floor(actor(cabinet["member"]), in_session, first.id)
    live.grant_floor(actor(cabinet["chair"]), in_session, request.id)
    db.session.commit()

    feeds = {service.participant_row(in_session.id, cabinet[k].id).feed_id: k
             for k in ("member", "member2", "chair")}
    audio = {feeds[m.feed_id]: m.mute for m in service.floor_moderations(in_session.id) if m.mid == "0"}
    assert audio == {"member": False, "member2": True, "chair": False}

    live.end_floor(actor(cabinet["chair"]), in_session)
    db.session.commit()
    audio = {feeds[m.feed_id]: m.mute for m in service.floor_moderations(in_session.id) if m.mid == "0"}
    assert audio == {"member": True, "member2": True, "chair": False}


def test_the_chair_mutes_and_ends_video_and_only_the_chair(in_session, cabinet, app):
    from ecabinet.media import policy, service
    from ecabinet.media.service import MediaError

    app.config["JANUS_URL"] = None
    _publishing(in_session, cabinet["member"])
    member = cabinet["member"].id
    assert policy.can_moderate_media(cabinet["chair"], meeting_id=in_session.id)
    assert not policy.can_moderate_media(cabinet["member2"], meeting_id=in_session.id)

    assert [(m.mid, m.mute) for m in service.chair_moderate(actor(cabinet["chair"]), in_session, member, "mute")] \
        == [("0", True)]
    assert [(m.mid, m.mute) for m in service.chair_moderate(actor(cabinet["chair"]), in_session, member,
                                                            "stop_video")] == [("1", True)]
    assert service.participant_row(in_session.id, member).video_stopped
    with pytest.raises(MediaError):
        service.chair_moderate(actor(cabinet["chair"]), in_session, member, "eject")
    with pytest.raises(MediaError):
        service.chair_moderate(actor(cabinet["chair"]), in_session, cabinet["member3"].id, "mute")
    db.session.rollback()
    with pytest.raises(MediaError):
        service.published(actor(cabinet["member"]), in_session, "x" * 40, None)


def test_the_panel_on_the_room_page_tells_the_chair_and_shows_the_moderation(in_session, app):
    from tests.conftest import PASSWORD, IsolatedClient
    from tests.helpers import login

    app.config["JANUS_URL"] = "http://127.0.0.1:9/janus"  # the panel only: no Janus is asked

    def panel(email: str, path: str) -> str:
        app.test_client_class = IsolatedClient
        client = app.test_client()
        login(client, email, PASSWORD)
        page = client.get(f"/meetings/{in_session.id}/{path}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        return html[html.index('id="media-panel"'):html.index('id="media-i18n"')]

    for path in ("room", "console"):
        chair = panel("chair@example.gov.vn", path)
        assert 'data-chair="1"' in chair and 'data-moderate="1"' in chair, path
        assert 'data-testid="media-chair-note"' in chair and 'data-on="1"' in chair
    member = panel("member@example.gov.vn", "room")
    assert 'data-chair="0"' in member and 'data-moderate="0"' in member
    assert "media-chair-note" not in member and 'data-on="0"' in member
