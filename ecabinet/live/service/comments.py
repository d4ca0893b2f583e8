"""Comments on agenda items: members post while the meeting is published or in session; the chair
hides (the comment is kept, the hiding audited)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ecabinet.audit import service as audit
from ecabinet.core import domain_events
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.live.models import Comment
from ecabinet.live.service.shared import LiveError, iso
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import Meeting, MeetingStatus

MAX_COMMENT_LENGTH = 2000
# Comments one member may post on one agenda item. A discussion of an item is a handful of remarks per
# member; the limit keeps one member from filling the item (and every tablet's view of it).
MAX_COMMENTS_PER_ITEM = 50
# Comments per item in a snapshot, and per page of older ones: the latest are what the room reads.
COMMENTS_PER_PAGE = 50


def comment_dict(comment: Comment, for_chair: bool = False) -> dict[str, Any]:
    """A comment as a reader sees it: a hidden comment's body only for the chair and the secretariat."""
    hidden = comment.hidden_at is not None
    return {"comment_id": comment.id, "item_id": comment.item_id, "author": comment.author.name,
            "author_id": comment.author_id, "at": iso(comment.created_at), "hidden": hidden,
            "body": comment.body if (not hidden or for_chair) else None}


def post_comment(actor: Actor, meeting: Meeting, item_id: int, body: Any, client_id: Any) -> Comment:
    if meeting.status not in (MeetingStatus.PUBLISHED, MeetingStatus.IN_SESSION):
        raise LiveError("Comments are open while the meeting is published or in session.")
    item = meetings.get_item(meeting, item_id)
    if item is None:
        raise LiveError("Unknown agenda item.")
    if not isinstance(body, str) or not body.strip():
        raise LiveError("The comment is empty.")
    if len(body) > MAX_COMMENT_LENGTH:
        raise LiveError("The comment is longer than %(n)s characters.", n=MAX_COMMENT_LENGTH)
    if not isinstance(client_id, str) or not 8 <= len(client_id) <= 64:
        raise LiveError("The comment has no valid client id.")
    existing = db.session.scalar(select(Comment).where(Comment.author_id == actor.user_id,
                                                       Comment.client_id == client_id))
    if existing is not None:
        return existing  # a retry after a dropped connection: already stored
    posted = db.session.scalar(select(func.count(Comment.id)).where(Comment.item_id == item.id,
                                                                    Comment.author_id == actor.user_id))
    if posted >= MAX_COMMENTS_PER_ITEM:
        raise LiveError("You have already posted %(n)s comments on this item.", n=MAX_COMMENTS_PER_ITEM)
    comment = Comment(meeting_id=meeting.id, item_id=item.id, author_id=actor.user_id, client_id=client_id,
                      body=body.strip())
    db.session.add(comment)
    db.session.flush()
    audit.record(actor, "comment.post", object_type="live_comment", object_id=comment.id, meeting_id=meeting.id,
                 details={"item": item.id})
    domain_events.publish(meeting.id, "comment.post", item_id=item.id, item=item.id, comment_id=comment.id)
    return comment


def hide_comment(actor: Actor, meeting: Meeting, comment_id: Any) -> None:
    comment = db.session.get(Comment, comment_id) if isinstance(comment_id, int) else None
    if comment is None or comment.meeting_id != meeting.id:
        raise LiveError("Unknown comment.")
    if comment.hidden_at is not None:
        raise LiveError("The comment is already hidden.")
    comment.hidden_at = utcnow()
    comment.hidden_by_id = actor.user_id
    audit.record(actor, "comment.hide", object_type="live_comment", object_id=comment.id, meeting_id=meeting.id,
                 details={"item": comment.item_id})
    domain_events.publish(meeting.id, "comment.hide", item_id=comment.item_id, item=comment.item_id,
                          comment_id=comment.id)


def latest_comments(item_ids: set[int], per_item: int = COMMENTS_PER_PAGE) -> list[Comment]:
    """The latest ``per_item`` comments of each item, oldest first: one query, whatever the items hold."""
    if not item_ids:
        return []
    ranked = (select(Comment.id, func.row_number().over(partition_by=Comment.item_id,
                                                         order_by=Comment.id.desc()).label("rank"))
              .where(Comment.item_id.in_(item_ids)).subquery())
    return list(db.session.scalars(select(Comment).join(ranked, ranked.c.id == Comment.id)
                                   .where(ranked.c.rank <= per_item).order_by(Comment.id)
                                   .options(selectinload(Comment.author))))


def comment_counts(item_ids: set[int]) -> dict[int, int]:
    """How many comments each item holds (hidden ones included: they are listed, without their body)."""
    if not item_ids:
        return {}
    return dict(db.session.execute(select(Comment.item_id, func.count(Comment.id))
                                   .where(Comment.item_id.in_(item_ids)).group_by(Comment.item_id)).all())


def comments_before(meeting: Meeting, item_id: int, before_id: int | None,
                    limit: int = COMMENTS_PER_PAGE) -> tuple[list[Comment], bool]:
    """A page of an item's comments older than ``before_id`` (the newest when None), oldest first, and
    whether there are older ones still."""
    query = select(Comment).where(Comment.meeting_id == meeting.id, Comment.item_id == item_id)
    if before_id is not None:
        query = query.where(Comment.id < before_id)
    rows = list(db.session.scalars(query.order_by(Comment.id.desc()).limit(limit + 1)
                                   .options(selectinload(Comment.author))))
    return rows[:limit][::-1], len(rows) > limit
