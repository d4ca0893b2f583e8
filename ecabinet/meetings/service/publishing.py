"""Publishing the agenda and its versions.

The first publication takes a draft to "published"; later edits mark the meeting "changed since
version N", and the secretariat publishes version N+1 explicitly, which notifies every participant
once for a batch of edits instead of once per click. Each version keeps a snapshot of the agenda, so a
participant sees what changed since the version they last looked at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select

from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings.models import AgendaVersion, Meeting, MeetingStatus
from ecabinet.meetings.queries import participant_of
from ecabinet.meetings.service.common import (
    MeetingError,
    NotInvited,
    notify_participants,
    record_change,
    require_secretary,
)
from ecabinet.meetings.service.lifecycle import transition

# Notification texts: English msgids, translated when shown.
N_PUBLISHED = "The agenda of “%(title)s” has been published (version %(version)s)."
N_NEW_VERSION = "The agenda of “%(title)s” has changed: version %(version)s."


def _snapshot(meeting: Meeting) -> str:
    return json.dumps([item.snapshot() for item in meeting.items], ensure_ascii=False, sort_keys=True)


def publish(actor: Actor, meeting: Meeting) -> AgendaVersion:
    """First publication (draft → published) or a new version of a published agenda that changed."""
    if not meeting.items:
        raise MeetingError("An empty agenda cannot be published: add at least one item.")
    first = meeting.status is MeetingStatus.DRAFT
    if first:
        transition(actor, meeting, "publish")
        meeting.published_at = utcnow()
    else:
        require_secretary(actor)
        if meeting.status is not MeetingStatus.PUBLISHED:
            raise MeetingError("The agenda can no longer be changed: the meeting has started.")
        if not meeting.agenda_changed:
            raise MeetingError("Nothing has changed since version %(version)s.", version=meeting.agenda_version)
    meeting.agenda_version += 1
    meeting.agenda_changed = False
    version = AgendaVersion(meeting_id=meeting.id, number=meeting.agenda_version, published_at=utcnow(),
                            published_by_id=actor.user_id, snapshot=_snapshot(meeting))
    db.session.add(version)
    notify_participants(meeting, N_PUBLISHED if first else N_NEW_VERSION, title=meeting.title,
                        version=version.number)
    record_change(actor, "meeting.publish", meeting, object_type="meeting", object_id=meeting.id,
                  details={"version": version.number, "items": len(meeting.items)})
    return version


def get_version(meeting: Meeting, number: int) -> AgendaVersion | None:
    return db.session.scalar(select(AgendaVersion).where(AgendaVersion.meeting_id == meeting.id,
                                                         AgendaVersion.number == number))


@dataclass
class AgendaDiff:
    since: int
    to: int
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)   # {"title":…, "fields": [...]}

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_versions(meeting: Meeting, since: int, to: int | None = None,
                  visible_ids: set[int] | None = None) -> AgendaDiff | None:
    """What changed between two published versions; restricted to the items the viewer may see."""
    to = meeting.agenda_version if to is None else to
    if since < 1 or since >= to:
        return None
    old_v, new_v = get_version(meeting, since), get_version(meeting, to)
    if old_v is None or new_v is None:
        return None
    old = {i["id"]: i for i in json.loads(old_v.snapshot)}
    new = {i["id"]: i for i in json.loads(new_v.snapshot)}
    if visible_ids is not None:
        old = {k: v for k, v in old.items() if k in visible_ids}
        new = {k: v for k, v in new.items() if k in visible_ids}
    diff = AgendaDiff(since=since, to=to)
    diff.added = [new[i] for i in new if i not in old]
    diff.removed = [old[i] for i in old if i not in new]
    for i in new:
        if i in old:
            fields = [k for k in new[i] if k != "id" and new[i][k] != old[i].get(k)]
            if fields:
                diff.changed.append({"title": new[i]["title"], "position": new[i]["position"], "fields": fields})
    return diff


def mark_version_seen(actor: Actor, meeting: Meeting) -> None:
    participant = participant_of(meeting, actor.user)
    if participant is None:
        raise NotInvited("You are not invited to this meeting.")
    if participant.last_seen_version != meeting.agenda_version:
        participant.last_seen_version = meeting.agenda_version
