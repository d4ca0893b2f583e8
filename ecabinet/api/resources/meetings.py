"""Meetings and their agendas, as the client's organisation may see them (ecabinet/api/policy.py)."""

from __future__ import annotations

from ecabinet.api import policy, schemas
from ecabinet.api.blueprint import bp
from ecabinet.api.http import operation, responses, spec
from ecabinet.api.resources.common import client, context, meeting_or_404, page
from ecabinet.meetings.models import Meeting, MeetingItem


def summary(meeting: Meeting) -> schemas.MeetingSummary:
    return schemas.MeetingSummary(id=meeting.id, title=meeting.title, kind=meeting.kind.value,
                                  status=meeting.status.value, starts_at=meeting.starts_at,
                                  ends_at=meeting.ends_at, place=meeting.place, mode=meeting.mode.value)


def item(it: MeetingItem) -> schemas.Item:
    return schemas.Item(id=it.id, position=it.position, title=it.title, ministry=it.ministry,
                        organisation_id=it.organisation_id, kind=it.kind.value,
                        confidentiality=it.confidentiality.value, duration_minutes=it.duration_minutes,
                        outcome=it.outcome)


@bp.get("/meetings")
@operation("meetings:read")
@spec.validate(query=schemas.MeetingsQuery, resp=responses(HTTP_200=schemas.MeetingPage), tags=["meetings"],
               operation_id="listMeetings")
def list_meetings():
    """The meetings the client's organisation takes part in or presents an item to.

    Oldest first; `next_cursor` continues the same query."""
    query = context().query
    select_ = policy.visible_meetings(client())
    if query.status:
        select_ = select_.where(Meeting.status == query.status)
    rows, next_cursor = page(select_, Meeting.id, query.limit, query.cursor, status=query.status)
    return schemas.MeetingPage(data=[summary(m) for m in rows], next_cursor=next_cursor)


@bp.get("/meetings/<int:meeting_id>")
@operation("meetings:read")
@spec.validate(resp=responses(HTTP_200=schemas.Meeting), tags=["meetings"], operation_id="getMeeting")
def get_meeting(meeting_id: int):
    """A meeting and the items of its agenda the client may see."""
    meeting = meeting_or_404(meeting_id)
    return schemas.Meeting(**summary(meeting).model_dump(), agenda_version=meeting.agenda_version,
                           items=[item(it) for it in policy.visible_items(client(), meeting)])
