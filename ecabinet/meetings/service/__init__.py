"""Meeting rules: lifecycle, agenda, publishing, participants, attendance and quorum, conflicts of
interest, positions and the consent block; one module per capability, every public name re-exported here.

Every function that changes something takes the acting ``Actor``, checks the rule, records the change
in the audit log and publishes it to the meeting room (``domain_events``), in the caller's unit of work:
it stages and flushes, and the boundary (view, socket handler, job, CLI) commits. A broken rule raises
``MeetingError`` (a ``DomainError``, which dooms the unit of work) before anything is changed.
``Actor.system()`` (CLI, demo, jobs) may do everything.

Who may see what is decided in ``policy.py``; the service re-checks the rules that guard a change
(role, invitation, lifecycle state), so that the live room and other callers cannot skip them.
"""

from __future__ import annotations

from ecabinet.meetings.queries import (
    agenda_for_page,
    get_item,
    get_meeting,
    get_participant,
    list_meetings_for,
    meeting_and_participant,
    participant_of,
    users_with_role,
    voting_members,
)
from ecabinet.meetings.service.agenda import (
    BulkChanges,
    ItemData,
    add_item,
    bulk_delete,
    bulk_edit,
    delete_item,
    move_item,
    reorder_items,
    update_item,
)
from ecabinet.meetings.service.attendance import (
    Quorum,
    check_in,
    check_in_many,
    check_out,
    item_quorum,
    quorum,
    recused_member_ids,
)
from ecabinet.meetings.service.calendar import (
    calendar_feed_of,
    feed_meetings,
    feed_owner,
    make_calendar_feed,
    revoke_calendar_feed,
)
from ecabinet.meetings.service.common import (
    ADOPTED_BY_CONSENT,
    COMMENT_MAX,
    DURATION_MAX,
    EDITABLE,
    ITEM_TITLE_MAX,
    REASON_MAX,
    SUMMARY_MAX,
    TEXT_MAX,
    TITLE_MAX,
    MeetingError,
    NotInvited,
    notify_participants,
)
from ecabinet.meetings.service.home import HomeMeeting, MemberHome, member_home
from ecabinet.meetings.service.importing import (
    ImportPreview,
    SpreadsheetError,
    decode_items,
    encode_items,
    import_items,
    read_spreadsheet,
)
from ecabinet.meetings.service.interests import declare_interest, interests_of
from ecabinet.meetings.service.lifecycle import (
    STEP_FUNCTIONS,
    TRANSITIONS,
    MeetingData,
    adjourn_meeting,
    available_steps,
    close_meeting,
    copy_meeting,
    create_meeting,
    may_take_step,
    resume_meeting,
    set_current_item,
    start_meeting,
    update_meeting,
)
from ecabinet.meetings.service.participants import (
    MinistryGroup,
    Told,
    add_ministry,
    add_participant,
    add_participants,
    awaiting_acknowledgement,
    guests_of,
    has_acknowledged,
    invitable_users,
    invite_guest,
    ministry_groups,
    ministry_of,
    notices_of,
    remove_participant,
    respond,
    send_invitations,
    send_reminders,
    set_substitute_may_vote,
    uninvite_guest,
)
from ecabinet.meetings.service.positions import (
    ItemPositions,
    adopt_consent_block,
    consent_block,
    decision_items,
    expected_responders,
    items_awaiting_position,
    mark_position,
    missing_positions,
    position_of,
    positions_overview,
    speaker_requests,
)
from ecabinet.meetings.service.publishing import AgendaDiff, diff_versions, get_version, mark_version_seen, publish
from ecabinet.meetings.service.templates import (
    TemplateItemData,
    create_template,
    delete_template,
    get_template,
    list_templates,
    meeting_from_template,
    template_from_meeting,
    update_template,
)

__all__ = [
    "calendar_feed_of", "feed_meetings", "feed_owner", "make_calendar_feed", "revoke_calendar_feed",
    "ADOPTED_BY_CONSENT", "COMMENT_MAX", "DURATION_MAX", "EDITABLE", "ITEM_TITLE_MAX", "REASON_MAX", "STEP_FUNCTIONS",
    "SUMMARY_MAX", "TEXT_MAX", "TITLE_MAX", "TRANSITIONS", "AgendaDiff", "BulkChanges", "HomeMeeting", "ItemData",
    "ItemPositions", "MeetingData", "MeetingError", "MemberHome", "NotInvited", "Quorum", "add_item",
    "add_participant", "adjourn_meeting", "adopt_consent_block", "agenda_for_page", "available_steps",
    "bulk_delete", "bulk_edit", "check_in", "check_out", "close_meeting", "consent_block", "copy_meeting",
    "create_meeting", "decision_items", "declare_interest", "delete_item", "diff_versions", "expected_responders",
    "get_item", "get_meeting", "get_participant", "get_version", "guests_of", "interests_of", "invite_guest",
    "item_quorum", "items_awaiting_position", "list_meetings_for", "mark_position", "mark_version_seen",
    "may_take_step", "meeting_and_participant", "member_home", "missing_positions", "move_item",
    "notify_participants", "participant_of", "position_of", "positions_overview", "publish", "quorum",
    "recused_member_ids", "remove_participant", "reorder_items", "respond", "resume_meeting", "set_current_item",
    "set_substitute_may_vote", "speaker_requests", "start_meeting", "uninvite_guest", "update_item",
    "update_meeting", "users_with_role", "voting_members",
    # the secretariat's bulk work: people, notices, templates, imports
    "ImportPreview", "MinistryGroup", "SpreadsheetError", "TemplateItemData", "Told", "add_ministry",
    "add_participants", "awaiting_acknowledgement", "check_in_many", "create_template", "decode_items",
    "delete_template", "encode_items", "get_template", "has_acknowledged", "import_items", "invitable_users",
    "list_templates", "meeting_from_template", "ministry_groups", "ministry_of", "notices_of", "read_spreadsheet",
    "send_invitations", "send_reminders", "template_from_meeting", "update_template",
]
