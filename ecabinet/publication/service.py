"""Publishing and withdrawing: the chair makes a meeting's issued conclusions, or its decision on one item,
public; or withdraws it. What is published is frozen in the publication's row (models.py); every change
is audited, in the transaction of the change."""

from __future__ import annotations

import json

from ecabinet.audit import service as audit
from ecabinet.core.actor import Actor
from ecabinet.core.errors import DomainError
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting, MeetingItem
from ecabinet.minutes import service as minutes
from ecabinet.publication import policy, queries
from ecabinet.publication.models import Publication, PublicationKind

NOT_CHAIR = "Only the chair of the meeting may publish or withdraw its conclusions and decisions."


class PublicationError(DomainError):
    """A publication request that breaks a rule."""


def _require_chair(actor: Actor, meeting: Meeting) -> None:
    if not policy.may_publish(actor.user, meeting):
        raise PublicationError(NOT_CHAIR)


def publish_conclusion(actor: Actor, meeting: Meeting) -> Publication:
    _require_chair(actor, meeting)
    conclusion = minutes.conclusion_of(meeting)
    refusal = policy.conclusion_refusal(meeting, conclusion)
    if refusal:
        raise PublicationError(refusal)
    if queries.active_conclusion(meeting.id) is not None:
        raise PublicationError("These conclusions are already published.")
    publication = Publication(meeting_id=meeting.id, kind=PublicationKind.CONCLUSION, conclusion_id=conclusion.id,
                              title=meeting.title, body=minutes.sanitise(conclusion.body), result="{}",
                              published_at=utcnow(), published_by_id=actor.user_id)
    db.session.add(publication)
    db.session.flush()
    audit.record(actor, "publication.publish", object_type="publication", object_id=publication.id,
                 meeting_id=meeting.id, details={"kind": publication.kind.value, "conclusion": conclusion.id})
    return publication


def publish_decision(actor: Actor, meeting: Meeting, item: MeetingItem) -> Publication:
    _require_chair(actor, meeting)
    refusal = policy.item_refusal(meeting, item)
    if refusal:
        raise PublicationError(refusal)
    if queries.active_decision(item.id) is not None:
        raise PublicationError("The decision on this item is already published.")
    ballots = [b for b in (policy.public_ballot(ballot) for ballot in policy.closed_ballots(meeting, item)) if b]
    outcome = item.outcome or (ballots[-1]["outcome"] if ballots else None)
    result = {"outcome": outcome, "item_number": item.position, "ministry": item.ministry, "ballots": ballots}
    publication = Publication(meeting_id=meeting.id, kind=PublicationKind.DECISION, item_id=item.id,
                              organisation_id=item.organisation_id, title=item.title, body="",
                              result=json.dumps(result, ensure_ascii=False), published_at=utcnow(),
                              published_by_id=actor.user_id)
    db.session.add(publication)
    db.session.flush()
    audit.record(actor, "publication.publish", object_type="publication", object_id=publication.id,
                 meeting_id=meeting.id, details={"kind": publication.kind.value, "item": item.id,
                                                 "title": item.title})
    return publication


def withdraw(actor: Actor, meeting: Meeting, publication: Publication) -> Publication:
    _require_chair(actor, meeting)
    if publication.meeting_id != meeting.id:
        raise PublicationError("This publication does not belong to this meeting.")
    if publication.withdrawn_at is not None:
        raise PublicationError("This publication has already been withdrawn.")
    publication.withdrawn_at = utcnow()
    publication.withdrawn_by_id = actor.user_id
    audit.record(actor, "publication.withdraw", object_type="publication", object_id=publication.id,
                 meeting_id=meeting.id, details={"kind": publication.kind.value})
    return publication
