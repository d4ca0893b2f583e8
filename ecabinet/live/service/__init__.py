"""The live meeting room: numbered events, snapshots, the chair's actions, the speaker queue, comments,
presence, and the sockets of sign-in sessions; one module per sub-capability, every public name
re-exported here.

Every change a domain publishes for a meeting (``ecabinet.core.domain_events``) becomes one numbered
``MeetingEvent`` inside the commit of its transaction, and is broadcast only after that transaction
commits (``numbering``, subscribed when this package is imported). The room does not listen to audit
records. A client that missed events asks for them by number; if it missed too many it gets a snapshot.

| module | what |
|---|---|
| connections | sockets of sign-in sessions, who is online, the sweep of dead sockets, a member's check-in |
| numbering | the domain-event subscriber: numbering, payloads, broadcasting, redaction |
| snapshots | the meeting's state as a reader may see it, catch-up after a reconnection |
| chair | start, pause, move to an item, adopt the consent block, adjourn; the console's course and overview |
| floor | the speaker queue and the floor |
| comments | posting and hiding comments |
| presenter | sharing a document with the room, and its page turns |
| shared | the error, the room's name, the live state, the event's shape |
"""

from __future__ import annotations

from ecabinet.live.service.chair import (
    COURSE,
    adjourn,
    adopt_consent_block,
    course,
    overview,
    set_item,
    set_paused,
    start,
    valid_steps,
)
from ecabinet.live.service.comments import (
    COMMENTS_PER_PAGE,
    MAX_COMMENT_LENGTH,
    MAX_COMMENTS_PER_ITEM,
    comment_dict,
    comments_before,
    hide_comment,
    post_comment,
)
from ecabinet.live.service.connections import (
    HEARTBEAT_SECONDS,
    INSTANCE_ID,
    _ended_instance,
    check_in,
    disconnect_sessions,
    enter_meeting,
    online_user_ids,
    register_connection,
    sids_for_sessions,
    sweep_connections,
    unregister_connection,
)
from ecabinet.live.service.floor import (
    end_floor,
    grant_floor,
    queue_state,
    reorder_queue,
    request_floor,
    speakers_in_order,
    withdraw_request,
)
from ecabinet.live.service.numbering import NOT_NUMBERED, Broadcast, blocked_sids
from ecabinet.live.service.presenter import presenter_state, share, stop, turn_page
from ecabinet.live.service.shared import LiveError, get_meeting_or_none, redact, room, state_of
from ecabinet.live.service.snapshots import MAX_REPLAY, attendance_state, catch_up, meeting_state, snapshot

__all__ = [
    "COMMENTS_PER_PAGE", "COURSE", "course", "overview", "valid_steps",
    "HEARTBEAT_SECONDS", "INSTANCE_ID", "MAX_COMMENTS_PER_ITEM", "MAX_COMMENT_LENGTH", "MAX_REPLAY", "NOT_NUMBERED",
    "Broadcast", "LiveError", "_ended_instance", "adjourn", "adopt_consent_block", "attendance_state",
    "blocked_sids", "catch_up", "check_in", "comment_dict", "comments_before", "disconnect_sessions", "end_floor",
    "enter_meeting", "get_meeting_or_none", "grant_floor", "hide_comment", "meeting_state", "online_user_ids",
    "post_comment", "presenter_state", "queue_state", "redact", "register_connection", "reorder_queue",
    "request_floor", "room", "set_item", "set_paused", "share", "sids_for_sessions", "snapshot",
    "speakers_in_order", "start", "state_of", "stop", "sweep_connections", "turn_page", "unregister_connection",
    "withdraw_request",
]
