"""What a page may ask of Janus through the app's pass-through (``/janus``), and what Janus itself says a
page publishes.

The page's word is not taken for which of its streams is audio (the server mutes that one unless the
participant has the floor): when a page announces that it publishes (``POST …/published``), the app asks
Janus's admin API about the page's VideoRoom handle (``handle_info``) and records the streams Janus sees,
once it has checked that this handle publishes as the participant's own feed in their meeting's room. After
that, every offer the page sends through the pass-through may carry only the streams so recorded: a page
cannot add an unmuted microphone, or a camera the chair ended, by renegotiating. Before it announces, an
offer may carry at most one audio and one video stream (docs/media.md, "Which stream is audio").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.media.models import MediaParticipant
from ecabinet.media.service import MID_LENGTH, MediaError, participant_row, room_row
from ecabinet.meetings.models import Meeting


@dataclass(frozen=True)
class Place:
    """The room and feed a live token gives its holder, and the streams Janus saw it publish (once it
    announced them)."""

    meeting_id: int
    room: int
    feed_id: int
    display: str
    announced: bool = False
    audio_mid: str | None = None
    video_mid: str | None = None


# The VideoRoom requests a participant's page makes. Everything else (list, listparticipants, exists,
# create, edit, destroy, kick, moderate, allowed, rtp_forward, recording, …) is the app's alone.
PAGE_REQUESTS = frozenset({"join", "joinandconfigure", "configure", "publish", "unpublish", "start", "pause",
                           "subscribe", "unsubscribe", "update", "switch", "leave"})


def token_place(token: str, user_id: int) -> Place | None:
    """The place a live media token gives, if the app gave it to this user; None otherwise."""
    row = db.session.scalar(select(MediaParticipant).where(MediaParticipant.token == token,
                                                           MediaParticipant.user_id == user_id))
    if row is None or row.token_expires_at is None or row.token_expires_at < utcnow():
        return None
    room = room_row(row.meeting_id)
    if room is None:
        return None
    display = json.dumps({"user_id": row.user_id, "name": row.user.name}, ensure_ascii=False)
    return Place(row.meeting_id, room.janus_room, row.feed_id, display, row.connected, row.audio_mid,
                 row.video_mid)


def refused_request(body: Any, place: Place) -> str | None:
    """Why the page's VideoRoom request is refused, or None: only the requests a page makes, naming no
    other room than its token's, publishing only as the feed the app assigned, under the name the app
    knows (``body`` is corrected in place: the display name is the app's)."""
    if not isinstance(body, dict) or not isinstance(body.get("request"), str):
        return "Not a request of the meeting room."
    request = body["request"]
    if request not in PAGE_REQUESTS:
        return f"The request {request[:40]!r} is not allowed."
    room = body.get("room")
    if "room" in body and (not isinstance(room, int) or isinstance(room, bool) or room != place.room):
        return "Only your meeting's room."
    if request in ("join", "joinandconfigure") and ("room" not in body
                                                    or body.get("ptype") not in ("publisher", "subscriber")):
        return "Join your meeting's room as a publisher or a subscriber."
    publisher = request in ("join", "joinandconfigure") and body.get("ptype") == "publisher"
    if publisher and body.get("id") != place.feed_id:
        return "Publish as the feed the app gave you."
    if publisher or (request == "configure" and "display" in body):
        body["display"] = place.display
    return None


def offered_streams(sdp: str) -> list[tuple[str, str | None]]:
    """The media sections of an SDP offer: (kind, mid), in order (a section without a mid has None)."""
    sections: list[list[Any]] = []
    for line in sdp.splitlines():
        if line.startswith("m="):
            sections.append([line[2:].split(" ", 1)[0], None])
        elif line.startswith("a=mid:") and sections:
            sections[-1][1] = line[6:].strip()
    return [(kind, mid) for kind, mid in sections]


def refused_offer(jsep: Any, place: Place) -> str | None:
    """Why the page's SDP offer is refused, or None. An answer (a subscriber's) is not checked: Janus made
    the offer it answers."""
    if not isinstance(jsep, dict) or jsep.get("type") != "offer":
        return None
    if not isinstance(jsep.get("sdp"), str):
        return "An offer without its SDP."
    streams = offered_streams(jsep["sdp"])
    audio = [mid for kind, mid in streams if kind == "audio"]
    video = [mid for kind, mid in streams if kind == "video"]
    if len(audio) > 1 or len(video) > 1:
        return "Publish one microphone and at most one camera."
    if place.announced and (any(mid != place.audio_mid for mid in audio)
                            or any(mid != place.video_mid for mid in video)):
        return "Only the streams you announced: join again to publish others."
    return None


# --- what Janus says a page publishes ---------------------------------------------------------------

@dataclass(frozen=True)
class Publishing:
    """Where the participant may publish (their meeting's room, the feed the app gave them)."""

    room: int
    feed_id: int


def publishing(actor: Actor, meeting: Meeting) -> Publishing:
    row = participant_row(meeting.id, actor.user_id) if actor.user_id else None
    room = room_row(meeting.id)
    if row is None or row.token is None or room is None:
        raise MediaError("You are not in this meeting's audio and video.")
    return Publishing(room.janus_room, row.feed_id)


def _mid(stream: dict[str, Any]) -> str | None:
    mid = stream.get("mid")
    return mid if isinstance(mid, str) and 0 < len(mid) <= MID_LENGTH else None


def published_streams(info: Any, place: Publishing) -> tuple[str | None, str | None]:
    """The audio and video mids Janus sees on the page's handle (the admin API's ``handle_info``), after
    checking that the handle publishes as the participant's feed in their room. A MediaError otherwise."""
    plugin = info.get("plugin_specific") if isinstance(info, dict) else None
    if not isinstance(plugin, dict) or plugin.get("type") != "publisher" or plugin.get("room") != place.room \
            or plugin.get("id") != place.feed_id:
        raise MediaError("This connection does not publish as you in this meeting's room.")
    streams = [s for s in plugin.get("streams") or plugin.get("media") or [] if isinstance(s, dict)]
    live = [s for s in streams if not s.get("disabled")]
    audio = [_mid(s) for s in live if s.get("type") == "audio"]
    video = [_mid(s) for s in live if s.get("type") == "video"]
    if len(audio) > 1 or len(video) > 1 or None in audio + video:
        raise MediaError("Publish one microphone and at most one camera.")
    # Nothing published yet is no loophole: the page's later offers may carry only what is recorded here.
    return (audio[0] if audio else None), (video[0] if video else None)
