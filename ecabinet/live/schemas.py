"""Payload schemas of the meeting room's Socket.IO events (see ecabinet/core/schemas.py).

They check shapes and bounds only; the room's rules (a comment's length, a known attendance mode, a
well-formed client id) stay with the service, which refuses with a translated message.
"""

from __future__ import annotations

from ecabinet.core.schemas import Id, Ids, Payload, Text, WholeNumber

# Transport bounds, well above what the service accepts (its refusals say why in the reader's language).
MAX_BODY = 20_000
MAX_CLIENT_ID = 64
MAX_MODE = 32
MAX_QUEUE = 1_000


class MeetingAction(Payload):
    """Every room event names its meeting (chair.start, .pause, .resume, .adjourn, .adopt_consent,
    .end_floor, and leave)."""

    meeting_id: Id


class StartMeeting(MeetingAction):
    """chair.start: ``below_quorum`` says the chair was warned that the quorum is not reached."""

    below_quorum: bool = False


class Join(MeetingAction):
    last_seq: WholeNumber | None = None  # the last event number the tablet applied; null: from scratch


class SetItem(MeetingAction):
    item_id: Id | None = None  # null: no current item


class RequestOnFloor(MeetingAction):
    """chair.grant_floor and floor.withdraw."""

    request_id: Id


class ReorderQueue(MeetingAction):
    item_id: Id
    request_ids: Ids(MAX_QUEUE)


class HideComment(MeetingAction):
    comment_id: Id


class RequestFloor(MeetingAction):
    item_id: Id


class PostComment(MeetingAction):
    item_id: Id
    body: Text(MAX_BODY)
    client_id: Text(MAX_CLIENT_ID)  # the tablet's id for this comment, so that a retry is stored once


class CheckIn(MeetingAction):
    mode: Text(MAX_MODE)


class PageComments(MeetingAction):
    """comments.page: the item's comments older than ``before_id`` (the newest page when null)."""

    item_id: Id
    before_id: Id | None = None


class PresenterShare(MeetingAction):
    """presenter.share: a document of the meeting, at a page (the first when null)."""

    document_id: Id
    page: Id | None = None


class PresenterPage(MeetingAction):
    page: Id
