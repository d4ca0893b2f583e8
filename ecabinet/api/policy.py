"""What an API client's organisation may see and do. The one place the API decides access.

**The visibility rule.** A client acts for one organisation. It sees a meeting once the meeting is
published (never a draft) when either a person of that organisation takes part in it as its chair, a
member or its secretary (guests do not count: a guest is invited to single items), or one of its agenda
items is presented by that organisation. Within such a meeting it sees:

- every item its organisation presents, whatever its confidentiality;
- the *normal* (not restricted, not confidential) items, but only when a person of its organisation
  takes part as above: an organisation that only presents an item learns nothing of the rest of the agenda.

Documents, outcomes (closed ballots and decided items) follow the item they belong to. Action items are
the organisation's own (the ministry they are assigned to). Everything else answers 404, as if absent.
"""

from __future__ import annotations

from sqlalchemy import exists, or_, select

from ecabinet.accounts.models import User
from ecabinet.api.models import ApiClient
from ecabinet.core.roles import Role
from ecabinet.meetings.models import (
    Confidentiality,
    Meeting,
    MeetingItem,
    MeetingParticipant,
    MeetingStatus,
    ParticipantRole,
)

TAKING_PART = (ParticipantRole.CHAIR, ParticipantRole.MEMBER, ParticipantRole.SECRETARY)


def can_manage_clients(user: User, **_: object) -> bool:
    """Registering clients, issuing and revoking their tokens: administrators only."""
    return bool(user.is_active) and user.role is Role.ADMIN


def has_scope(client: ApiClient, scope: str) -> bool:
    return client.active and scope in client.scope_set


def _takes_part(organisation_id: int):  # noqa: ANN202 - a SQL condition on Meeting
    return exists(select(MeetingParticipant.id).join(User, User.id == MeetingParticipant.user_id).where(
        MeetingParticipant.meeting_id == Meeting.id, MeetingParticipant.role.in_(TAKING_PART),
        User.organisation_id == organisation_id))


def _presents(organisation_id: int):  # noqa: ANN202 - a SQL condition on Meeting
    return exists(select(MeetingItem.id).where(MeetingItem.meeting_id == Meeting.id,
                                               MeetingItem.organisation_id == organisation_id))


def visible_meetings(client: ApiClient):  # noqa: ANN201 - a Select of Meeting
    """The meetings the client may see, as a query to filter and page further."""
    org = client.organisation_id
    return select(Meeting).where(Meeting.status != MeetingStatus.DRAFT,
                                 or_(_takes_part(org), _presents(org)))


def meeting_visible(client: ApiClient, meeting: Meeting | None) -> bool:
    if meeting is None or meeting.status is MeetingStatus.DRAFT:
        return False
    from ecabinet.extensions import db

    return db.session.scalar(visible_meetings(client).where(Meeting.id == meeting.id).with_only_columns(
        Meeting.id)) is not None


def takes_part(client: ApiClient, meeting: Meeting) -> bool:
    return any(p.role in TAKING_PART and p.user is not None and p.user.organisation_id == client.organisation_id
               for p in meeting.participants)


def visible_items(client: ApiClient, meeting: Meeting) -> list[MeetingItem]:
    """The items of a visible meeting the client may see, in agenda order."""
    if not meeting_visible(client, meeting):
        return []
    member = takes_part(client, meeting)
    return [item for item in meeting.items if item.organisation_id == client.organisation_id
            or (member and item.confidentiality is Confidentiality.NORMAL)]


def item_visible(client: ApiClient, item: MeetingItem | None) -> bool:
    return item is not None and item in visible_items(client, item.meeting)


def may_update_action(client: ApiClient, organisation_id: int | None) -> bool:
    """An action item's status is reported by the ministry it is assigned to."""
    return has_scope(client, "actions:write") and organisation_id == client.organisation_id
