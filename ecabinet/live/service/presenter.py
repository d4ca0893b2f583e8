"""Presenter mode: the chair or the item's presenter shares a document, and the tablets that follow open
it at the presenter's page. Sharing and each page turn are numbered room events (``presenter.share``,
``presenter.page``, ``presenter.stop``), so a tablet that rejoins finds the shared document and page in
its snapshot, read back from the latest of these events; moving to another item ends the sharing.

Page turns are coalesced by the presenter's tablet (static/js/live-presenter.js), and a turn to the page
already shown is not an event at all, so a presenter leafing through a document costs the room a few
events a second at most.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from ecabinet.audit import service as audit
from ecabinet.core import domain_events
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from ecabinet.live import hooks
from ecabinet.live.models import MeetingEvent
from ecabinet.live.service.shared import LiveError, require_in_session
from ecabinet.meetings.models import Meeting

PRESENTER_EVENTS = ("presenter.share", "presenter.page", "presenter.stop")
# Moving to another item ends the sharing: the current item's event is read back with them.
_ENDS_SHARING = ("agenda.current_item",)


def _document(meeting: Meeting, document_id: int) -> tuple[int, int]:
    """(item id, pages) of a document of this meeting, from the documents domain (live sits below it)."""
    find = hooks.shared_documents.get("documents")
    found = find(meeting, document_id) if find is not None else None
    if found is None:
        raise LiveError("Unknown document.")
    return found


def presenter_state(meeting_id: int) -> dict[str, Any] | None:
    """What is being presented now (``document_id``, ``item_id``, ``page``, ``by``), or None: the payload of
    the latest presenter event, unless the meeting moved to another item since."""
    row = db.session.scalars(select(MeetingEvent).where(
        MeetingEvent.meeting_id == meeting_id, MeetingEvent.type.in_(PRESENTER_EVENTS + _ENDS_SHARING))
        .order_by(MeetingEvent.seq.desc()).limit(1)).first()
    if row is None or row.type not in ("presenter.share", "presenter.page"):
        return None
    return json.loads(row.payload).get("presenter")


def share(actor: Actor, meeting: Meeting, document_id: int, page: int | None) -> None:
    """Share a document of this meeting, at ``page`` (the first when None)."""
    require_in_session(meeting)
    item_id, pages = _document(meeting, document_id)
    # The tablets follow the presenter on the item under discussion only.
    if item_id != meeting.current_item_id:
        raise LiveError("Only a document of the item under discussion can be presented.")
    page = min(max(page or 1, 1), pages)
    audit.record(actor, "presenter.share", object_type="document", object_id=document_id, meeting_id=meeting.id,
                 details={"page": page})
    domain_events.publish(meeting.id, "presenter.share", item_id=item_id, document_id=document_id,
                          page=page, by=actor.user.name if actor.user else "")


def turn_page(actor: Actor, meeting: Meeting, page: int) -> None:
    """Show another page of the shared document; the page already shown is not an event."""
    require_in_session(meeting)
    current = presenter_state(meeting.id)
    if current is None:
        raise LiveError("No document is being presented.")
    _item_id, pages = _document(meeting, current["document_id"])
    page = min(max(page, 1), pages)
    if page == current.get("page"):
        return
    # Not audited one by one: the sharing is, and every turn is a numbered event of the room.
    domain_events.publish(meeting.id, "presenter.page", item_id=current.get("item_id"),
                          document_id=current["document_id"], page=page, by=current.get("by", ""))


def stop(actor: Actor, meeting: Meeting) -> None:
    require_in_session(meeting)
    current = presenter_state(meeting.id)
    if current is None:
        return
    audit.record(actor, "presenter.stop", object_type="document", object_id=current["document_id"],
                 meeting_id=meeting.id)
    domain_events.publish(meeting.id, "presenter.stop", item_id=current.get("item_id"))


def presenter_payload(change: Any) -> dict[str, Any]:
    """The ``presenter`` section of a presenter event (None: nothing is presented)."""
    if change.type == "presenter.stop":
        return {"presenter": None}
    d = change.details
    return {"presenter": {"document_id": d["document_id"], "item_id": change.item_id, "page": d["page"],
                          "by": d.get("by", "")}}
