"""The media rooms' rules: tokens by the meeting's rules, the floor deciding who is heard.

Operations here only read and flush. What they decide for Janus comes back as a plan (a :class:`Ticket`,
a list of :class:`Revocation` or :class:`Moderation`) that the boundary carries out after its commit,
holding no database connection while Janus answers (``reactions.apply_*``).

- A participant asks to join: the app creates the meeting's room on Janus if needed, adds a fresh token
  (Janus stored tokens, through the admin API) and allows it in the room. The token lives
  ``MEDIA_TOKEN_SECONDS`` unless the page renews it, and only while the rules still let them in.
- They join muted: the server mutes their audio at Janus (VideoRoom ``moderate``) as soon as they
  publish, and only the one who has the floor is unmuted.
- Removing, deactivating or signing out a participant, a guest's item ending, the meeting ending: their
  token is removed and they are kicked from the room.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.core import uow
from ecabinet.core.actor import Actor
from ecabinet.core.errors import DomainError
from ecabinet.core.types import utcnow
from ecabinet.extensions import db, socketio
from ecabinet.live import hooks as live_hooks
from ecabinet.live.service import room as live_room
from ecabinet.live.service import state_of
from ecabinet.live.service.floor import floor_state
from ecabinet.media import policy
from ecabinet.media.janus import Janus, JanusError
from ecabinet.media.models import MediaMode, MediaParticipant, MediaRoom
from ecabinet.meetings.models import Meeting

log = logging.getLogger(__name__)

MAX_PUBLISHERS = 100
# A page that has a token says what it publishes within this many seconds, or the sweep removes its feed.
ANNOUNCE_SECONDS = 15
MID_LENGTH = 16


class MediaError(DomainError):
    pass


class MediaUnavailable(DomainError):
    status = 503
    dooms = False


# --- Janus ---------------------------------------------------------------------------------------

def room_admin_key(admin_secret: str) -> str:
    """The VideoRoom's key for creating rooms, derived from the admin secret (one secret to keep)."""
    return hmac.new(admin_secret.encode(), b"videoroom-admin-key", hashlib.sha256).hexdigest()[:40]


def janus(app: Flask | None = None) -> Janus | None:
    """The configured Janus, or None when media is off (no ``JANUS_URL``)."""
    app = app or current_app._get_current_object()
    url = app.config.get("JANUS_URL")
    if not url:
        return None
    client = app.extensions.get("media_janus")
    if client is None:
        secret = app.config.get("JANUS_ADMIN_SECRET") or ""
        client = app.extensions["media_janus"] = Janus(url.rstrip("/"), app.config["JANUS_ADMIN_URL"].rstrip("/"),
                                                       secret, room_admin_key(secret))
    return client


def enabled() -> bool:
    return bool(current_app.config.get("JANUS_URL"))


def token_seconds() -> int:
    return int(current_app.config.get("MEDIA_TOKEN_SECONDS", 120))


# --- plans ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ticket:
    """What a participant needs to join, and what Janus must learn first."""

    meeting_id: int
    room: int
    secret: str
    description: str
    token: str
    old_token: str | None
    feed_id: int
    mode: str
    expires_in: int

    def public(self) -> dict[str, Any]:
        return {"room": self.room, "token": self.token, "feed_id": self.feed_id, "mode": self.mode,
                "expires_in": self.expires_in, "muted": True}


@dataclass(frozen=True)
class Revocation:
    room: int
    secret: str
    token: str | None
    feed_id: int


@dataclass(frozen=True)
class Moderation:
    room: int
    secret: str
    feed_id: int
    mid: str
    mute: bool


# --- reads ---------------------------------------------------------------------------------------

def room_row(meeting_id: int) -> MediaRoom | None:
    return db.session.get(MediaRoom, meeting_id)


def participant_row(meeting_id: int, user_id: int) -> MediaParticipant | None:
    return db.session.scalar(select(MediaParticipant).where(MediaParticipant.meeting_id == meeting_id,
                                                            MediaParticipant.user_id == user_id))


def speaker_id(meeting_id: int) -> int | None:
    """Who has the floor (the live room's state), or None."""
    floor = floor_state(state_of(meeting_id))
    return floor["user_id"] if floor else None


def connected(meeting_id: int) -> list[dict[str, Any]]:
    """Who is in the media room now, by audio or video (for presence)."""
    rows = db.session.scalars(select(MediaParticipant).where(MediaParticipant.meeting_id == meeting_id,
                                                             MediaParticipant.connected.is_(True))
                              .order_by(MediaParticipant.id))
    return [{"user_id": r.user_id, "name": r.user.name, "feed_id": r.feed_id,
             "mode": MediaMode.AUDIO.value if r.mode is MediaMode.AUDIO or r.video_stopped else r.mode.value}
            for r in rows]


def presence_section(_user: User, meeting: Meeting) -> dict[str, list[dict[str, Any]]]:
    """Who is connected by audio or video, for a tablet (re)joining the live room (its attendance)."""
    return {"media": _presence(meeting.id) if enabled() else []}


def _presence(meeting_id: int) -> list[dict[str, Any]]:
    return [{"user_id": p["user_id"], "name": p["name"], "mode": p["mode"]} for p in connected(meeting_id)]


live_hooks.catch_up_sections.register("media")(presence_section)


def _announce(meeting_id: int) -> None:
    """After the commit: tell the meeting's live room who is connected by audio or video now (not a
    numbered event: like presence, only the latest list matters, and a rejoining tablet reads it from its
    catch-up)."""
    try:
        people = _presence(meeting_id)
    finally:
        db.session.remove()
    socketio.emit("media.presence", {"meeting_id": meeting_id, "connected": people}, to=live_room(meeting_id))


def connections_changed(meeting_id: int) -> None:
    """Who is connected, or how, changed in this unit of work: the room learns it after the commit."""
    uow.after_commit(_announce, meeting_id)


def remote_modes(meeting_id: int) -> dict[int, str]:
    """User id -> how they attended by media ("audio" or "video"), for the minutes' attendance."""
    rows = db.session.execute(select(MediaParticipant.user_id, MediaParticipant.mode)
                              .where(MediaParticipant.meeting_id == meeting_id,
                                     MediaParticipant.first_joined_at.is_not(None))).all()
    return {user_id: mode.value for user_id, mode in rows}


# --- joining ---------------------------------------------------------------------------------------

def _room_for(meeting: Meeting) -> MediaRoom:
    room = room_row(meeting.id)
    if room is None:
        room = MediaRoom(meeting_id=meeting.id, janus_room=secrets.randbelow(2**52) + 1,
                         secret=secrets.token_hex(16))
        db.session.add(room)
        db.session.flush()
    return room


def _mode(value: Any) -> MediaMode:
    try:
        return MediaMode(value)
    except ValueError as exc:
        raise MediaError("Choose audio only or audio and video.") from exc


def issue_token(actor: Actor, meeting: Meeting, session_id: int | None, mode: Any = "video") -> Ticket:
    """A fresh short-lived token for this participant's place in the meeting's room (the old one goes)."""
    user = actor.user
    if user is None or not policy.may_use_media(user, meeting):
        raise MediaError("You may not join this meeting's audio and video now.")
    mode = _mode(mode)
    room = _room_for(meeting)
    row = participant_row(meeting.id, user.id)
    if row is None:
        row = MediaParticipant(meeting_id=meeting.id, user_id=user.id, feed_id=secrets.randbelow(2**52) + 1,
                               video_stopped=False, connected=False)
        db.session.add(row)
    old = row.token
    row.token = "m-" + secrets.token_urlsafe(30)
    row.token_expires_at = utcnow() + timedelta(seconds=token_seconds())
    row.session_id = session_id
    row.mode = mode
    if row.connected:  # a new page: what the previous one published is not what this one will
        connections_changed(meeting.id)
    _disconnect_streams(row)
    db.session.flush()
    return Ticket(meeting.id, room.janus_room, room.secret, meeting.title, row.token, old, row.feed_id, mode.value,
                  token_seconds())


def renew_token(actor: Actor, meeting: Meeting) -> Ticket:
    """Keep the token alive while the page is open and the rules still let them in."""
    user = actor.user
    row = participant_row(meeting.id, user.id) if user is not None else None
    if row is None or row.token is None:
        raise MediaError("You are not in this meeting's audio and video.")
    if not policy.may_use_media(user, meeting):
        raise MediaError("You may not join this meeting's audio and video now.")
    row.token_expires_at = utcnow() + timedelta(seconds=token_seconds())
    room = _room_for(meeting)
    return Ticket(meeting.id, room.janus_room, room.secret, meeting.title, row.token, None, row.feed_id,
                  row.mode.value, token_seconds())


def _clean_mid(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str | int) or len(str(value)) > MID_LENGTH:
        raise MediaError("Unknown media stream.")
    return str(value)


def published(actor: Actor, meeting: Meeting, audio_mid: Any, video_mid: Any, mode: Any = None) -> list[Moderation]:
    """The participant's client publishes (``audio_mid``/``video_mid`` name its streams): record that they
    are connected, and return how Janus must moderate them (muted unless they have the floor)."""
    row = participant_row(meeting.id, actor.user_id) if actor.user_id else None
    if row is None or row.token is None:
        raise MediaError("You are not in this meeting's audio and video.")
    row.audio_mid = _clean_mid(audio_mid)
    row.video_mid = _clean_mid(video_mid)
    if mode is not None:
        row.mode = _mode(mode)
    now = utcnow()
    row.connected = True
    row.first_joined_at = row.first_joined_at or now
    row.last_joined_at = now
    row.left_at = None
    room = _room_for(meeting)
    connections_changed(meeting.id)
    return _moderations(room, [row], speaker_id(meeting.id), meeting.chair_id)


def left(actor: Actor, meeting: Meeting) -> list[Revocation]:
    row = participant_row(meeting.id, actor.user_id) if actor.user_id else None
    room = room_row(meeting.id)
    if row is None or room is None:
        return []
    revocation = Revocation(room.janus_room, room.secret, row.token, row.feed_id)
    if row.connected:
        connections_changed(meeting.id)
    _disconnect(row)
    return [revocation]


def _disconnect_streams(row: MediaParticipant) -> None:
    row.audio_mid = row.video_mid = None
    if row.connected:
        row.connected = False
        row.left_at = utcnow()


def _disconnect(row: MediaParticipant) -> None:
    row.token = None
    row.token_expires_at = None
    if row.connected:
        row.connected = False
        row.left_at = utcnow()


# --- the floor and the chair -------------------------------------------------------------------------

def _moderations(room: MediaRoom, rows: list[MediaParticipant], speaker: int | None,
                 chair_id: int | None) -> list[Moderation]:
    """Muted unless they have the floor; the meeting's chair, who runs it, is always heard."""
    plan = []
    for row in rows:
        is_speaker = row.user_id == speaker or (chair_id is not None and row.user_id == chair_id)
        if row.audio_mid is not None:
            plan.append(Moderation(room.janus_room, room.secret, row.feed_id, row.audio_mid, not is_speaker))
        if row.video_mid is not None and row.video_stopped:
            plan.append(Moderation(room.janus_room, room.secret, row.feed_id, row.video_mid, True))
    return plan


def floor_moderations(meeting_id: int) -> list[Moderation]:
    """Everyone muted at Janus but the one who has the floor (whose video, if the chair ended it, returns)."""
    room = room_row(meeting_id)
    if room is None:
        return []
    speaker = speaker_id(meeting_id)
    rows = list(db.session.scalars(select(MediaParticipant).where(MediaParticipant.meeting_id == meeting_id,
                                                                  MediaParticipant.token.is_not(None))))
    plan = []
    for row in rows:
        if row.user_id == speaker and row.video_stopped:
            row.video_stopped = False
            connections_changed(meeting_id)
            if row.video_mid is not None:
                plan.append(Moderation(room.janus_room, room.secret, row.feed_id, row.video_mid, False))
    meeting = db.session.get(Meeting, meeting_id)
    return plan + _moderations(room, rows, speaker, meeting.chair_id if meeting is not None else None)


def chair_moderate(actor: Actor, meeting: Meeting, user_id: Any, action: Any) -> list[Moderation]:
    """The chair mutes someone (until the floor is theirs again) or ends their video."""
    if action not in ("mute", "stop_video"):
        raise MediaError("Unknown moderation.")
    row = participant_row(meeting.id, user_id) if isinstance(user_id, int) else None
    room = room_row(meeting.id)
    if row is None or room is None or row.token is None:
        raise MediaError("This participant is not in the meeting's audio and video.")
    if action == "mute":
        return [] if row.audio_mid is None else [Moderation(room.janus_room, room.secret, row.feed_id,
                                                            row.audio_mid, True)]
    if not row.video_stopped and row.connected:
        connections_changed(meeting.id)
    row.video_stopped = True
    return [] if row.video_mid is None else [Moderation(room.janus_room, room.secret, row.feed_id,
                                                        row.video_mid, True)]


# --- taking tokens back ----------------------------------------------------------------------------

def revoke_unentitled(meeting_id: int) -> list[Revocation]:
    """Everyone holding a token this meeting's rules no longer allow (removed, deactivated, a guest whose
    item is over, the meeting ended), and every token past its time."""
    meeting = db.session.get(Meeting, meeting_id)
    room = room_row(meeting_id)
    if room is None:
        return []
    now = utcnow()
    rows = db.session.scalars(select(MediaParticipant).where(MediaParticipant.meeting_id == meeting_id,
                                                             MediaParticipant.token.is_not(None)))
    plan = []
    was_connected = False
    for row in rows:
        user = db.session.get(User, row.user_id)
        expired = row.token_expires_at is not None and row.token_expires_at < now
        if meeting is None or user is None or expired or not policy.may_use_media(user, meeting):
            plan.append(Revocation(room.janus_room, room.secret, row.token, row.feed_id))
            was_connected |= row.connected
            _disconnect(row)
    if was_connected:
        connections_changed(meeting_id)
    return plan


def revoke_sessions(session_ids: list[int]) -> list[Revocation]:
    rows = db.session.scalars(select(MediaParticipant).where(MediaParticipant.session_id.in_(session_ids),
                                                             MediaParticipant.token.is_not(None)))
    plan = []
    meetings: set[int] = set()
    for row in rows:
        room = room_row(row.meeting_id)
        if room is not None:
            plan.append(Revocation(room.janus_room, room.secret, row.token, row.feed_id))
        if row.connected:
            meetings.add(row.meeting_id)
        _disconnect(row)
    for meeting_id in sorted(meetings):
        connections_changed(meeting_id)
    return plan


@dataclass(frozen=True)
class RoomCheck:
    """What the app expects in a room: feeds that may be there, and those that must have said what they
    publish by now."""

    room: int
    secret: str
    allowed: frozenset[int]
    announced: frozenset[int]


def room_checks() -> list[RoomCheck]:
    """The rooms with participants holding tokens, for comparing with what Janus says is in them."""
    rows = db.session.scalars(select(MediaParticipant).where(MediaParticipant.token.is_not(None)))
    grace = timedelta(seconds=token_seconds()) - timedelta(seconds=ANNOUNCE_SECONDS)
    by_meeting: dict[int, list[MediaParticipant]] = {}
    for row in rows:
        by_meeting.setdefault(row.meeting_id, []).append(row)
    now = utcnow()
    checks = []
    for meeting_id, members in by_meeting.items():
        room = room_row(meeting_id)
        if room is None:
            continue
        # A token issued more than ANNOUNCE_SECONDS ago whose page never said what it publishes.
        announced = frozenset(r.feed_id for r in members if r.connected or r.token_expires_at is None
                              or r.token_expires_at - now > grace)
        checks.append(RoomCheck(room.janus_room, room.secret, frozenset(r.feed_id for r in members), announced))
    return checks


def apply_room_check(client: Janus, check: RoomCheck) -> list[int]:
    """Kick from the room every publisher the app did not place there (another feed id than the one it
    gave), and every one that publishes without having said which stream is its audio (which could then
    not be muted). Returns the kicked feeds."""
    kicked = []
    try:
        participants = client.participants(check.room)
    except JanusError:
        return kicked
    for p in participants:
        feed = p.get("id")
        if feed not in check.allowed or (p.get("publisher") and feed not in check.announced):
            client.kick(check.room, check.secret, feed)
            kicked.append(feed)
    return kicked


def expired_meetings() -> list[int]:
    return list(db.session.scalars(select(MediaParticipant.meeting_id).where(
        MediaParticipant.token.is_not(None), MediaParticipant.token_expires_at < utcnow()).distinct()))
