"""Read helpers of the publication: the chair's view of a meeting and the public's view of everything.

Every public read goes through ``public_query`` (``policy.public_clause``), so no page, feed or OParl
answer can reach a withdrawn publication or one whose meeting or item is no longer publishable.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Select, func, select

from ecabinet.extensions import db
from ecabinet.publication import policy
from ecabinet.publication.models import Publication, PublicationKind


def public_query() -> Select[tuple[Publication]]:
    return select(Publication).where(policy.public_clause())


def public_publications(offset: int = 0, limit: int | None = None) -> list[Publication]:
    """Newest first."""
    query = public_query().order_by(Publication.published_at.desc(), Publication.id.desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def public_count() -> int:
    return db.session.scalar(select(func.count()).select_from(public_query().subquery())) or 0


def public_publication(number: int) -> Publication | None:
    return db.session.scalar(public_query().where(Publication.id == number))


def public_of_meeting(meeting_id: int) -> list[Publication]:
    return list(db.session.scalars(public_query().where(Publication.meeting_id == meeting_id)
                                   .order_by(Publication.kind, Publication.id)))


def public_meeting_ids() -> list[int]:
    """The meetings with at least one public publication, most recent meeting first."""
    from ecabinet.meetings.models import Meeting

    sub = public_query().with_only_columns(Publication.meeting_id).distinct().subquery()
    return list(db.session.scalars(select(Meeting.id).where(Meeting.id.in_(select(sub.c.meeting_id)))
                                   .order_by(Meeting.starts_at.desc(), Meeting.id.desc())))


def stamp() -> str:
    """Changes whenever a publication appears or leaves the public pages (the page's refresh compares it)."""
    ids = db.session.scalars(public_query().with_only_columns(Publication.id).order_by(Publication.id))
    return hashlib.sha256(",".join(str(i) for i in ids).encode()).hexdigest()[:16]


def active_of_meeting(meeting_id: int) -> list[Publication]:
    """The chair's view: the meeting's publications not withdrawn (whether or not still public)."""
    return list(db.session.scalars(select(Publication).where(
        Publication.meeting_id == meeting_id, Publication.withdrawn_at.is_(None)).order_by(Publication.id)))


def active_conclusion(meeting_id: int) -> Publication | None:
    return db.session.scalar(select(Publication).where(
        Publication.meeting_id == meeting_id, Publication.kind == PublicationKind.CONCLUSION,
        Publication.withdrawn_at.is_(None)))


def active_decision(item_id: int) -> Publication | None:
    return db.session.scalar(select(Publication).where(
        Publication.item_id == item_id, Publication.kind == PublicationKind.DECISION,
        Publication.withdrawn_at.is_(None)))


def get_publication(publication_id: int) -> Publication | None:
    return db.session.get(Publication, publication_id)
