"""The meeting room page (tablets) and the chair's console. The pages are shells: live.js fills them
from the room's snapshot and events."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from ecabinet.core.policy import guard
from ecabinet.live import policy
from ecabinet.meetings import service as meetings

bp = Blueprint("live", __name__)


def _meeting(meeting_id: int):  # noqa: ANN202
    meeting = meetings.get_meeting(meeting_id)
    if meeting is None:
        abort(404)
    return meeting


@bp.route("/meetings/<int:meeting_id>/room")
@guard(policy.can_open_room)
def room(meeting_id: int):
    return render_template("live/room.html", meeting=_meeting(meeting_id), console=False)


@bp.route("/meetings/<int:meeting_id>/console")
@guard(policy.can_open_console)
def console(meeting_id: int):
    return render_template("live/room.html", meeting=_meeting(meeting_id), console=True)
