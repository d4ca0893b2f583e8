"""The minutes' attendance says how a member present remotely attended: by video or by audio only."""

from __future__ import annotations

from ecabinet.extensions import db
from tests.meetings.conftest import actor


def test_remote_attendance_mode_reaches_the_minutes(in_session, cabinet, app):
    from ecabinet.media import service
    from ecabinet.meetings import service as meetings
    from ecabinet.meetings.models import CheckInMode
    from ecabinet.meetings.queries import participant_of
    from ecabinet.minutes.record import build_record

    app.config["JANUS_URL"] = None  # the record alone: no Janus needed
    for key, mode in (("member", CheckInMode.REMOTE), ("member2", CheckInMode.REMOTE), ("member3", CheckInMode.ROOM)):
        member = cabinet[key]
        meetings.check_in(actor(member), in_session, participant_of(in_session, member), mode)
    service.issue_token(actor(cabinet["member"]), in_session, None, "audio")
    service.published(actor(cabinet["member"]), in_session, "0", None, "audio")
    service.issue_token(actor(cabinet["member3"]), in_session, None, "video")
    service.published(actor(cabinet["member3"]), in_session, "0", "1", "video")
    db.session.commit()

    record = build_record(in_session)
    # By audio only; checked in remotely without the media room (no mode); in the room (media not counted).
    assert record.remote_media == {cabinet["member"].name: "audio"}
    assert service.connected(in_session.id)[0]["mode"] == "audio"
