"""The meeting room page (tablets) and the chair's console. The pages are shells: live.js fills them
from the room's snapshot and events."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ecabinet.core.policy import guard
from ecabinet.live import hooks, policy
from ecabinet.meetings.queries import meeting_or_404

bp = Blueprint("live", __name__)


def _documents(meeting) -> dict[str, list[dict]]:  # noqa: ANN001
    """Item id -> the documents on it this reader may open, in order: the room shows the shown item's
    first one at once, in the embedded viewer. The documents domain answers (live sits below it)."""
    fill = hooks.room_documents.get("documents")
    return fill(current_user, meeting) if fill is not None else {}


def _page(meeting_id: int, console: bool) -> str:
    meeting = meeting_or_404(meeting_id)
    return render_template("live/room.html", meeting=meeting, console=console, documents=_documents(meeting))


@bp.route("/meetings/<int:meeting_id>/room")
@guard(policy.can_open_room)
def room(meeting_id: int):
    return _page(meeting_id, console=False)


@bp.route("/meetings/<int:meeting_id>/console")
@guard(policy.can_open_console)
def console(meeting_id: int):
    return _page(meeting_id, console=True)
