"""The room display's rules: issuing and revoking display tokens, and what a room screen shows.

The screen shows only what everyone in the room may see. An item that is confidential or restricted,
or hidden from anyone checked in (a guest not invited to it, a member it is hidden from for an
interest), is withheld: shown by its title alone or not at all, as the display was issued. Of a
withheld item the screen shows neither its speakers nor its vote. The screen never receives anything
else: its socket carries only "something changed" with the event number; the state itself comes from
``room_state``, built here for the screen alone.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from ecabinet.audit import service as audit
from ecabinet.core.actor import Actor
from ecabinet.core.errors import DomainError
from ecabinet.core.types import utcnow
from ecabinet.display.models import RoomDisplay, WithheldItems
from ecabinet.display.queries import token_hash
from ecabinet.extensions import db
from ecabinet.live import service as live
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import Confidentiality, Meeting, MeetingItem, MeetingParticipant
from ecabinet.meetings.policy import users_kept_from_item
from ecabinet.voting import service as voting

LABEL_MAX = 120
# How long the screen's last visit is remembered before it is written again: a screen asks every
# few seconds during a vote, and a write per request would be a commit per request.
SEEN_EVERY_S = 60


class DisplayError(DomainError):
    """A request about room displays that breaks a rule."""


def issue_display(actor: Actor, meeting: Meeting, label: str, withheld: str) -> tuple[RoomDisplay, str]:
    """A new display token for ``meeting``; returns the row and the token, which is not kept."""
    label = " ".join((label or "").split())
    if not label:
        raise DisplayError("Name the screen, for example “Phòng họp số 1 – màn hình chính”.")
    if len(label) > LABEL_MAX:
        raise DisplayError("The screen's name is too long (at most 120 characters).")
    try:
        withheld_items = WithheldItems(withheld)
    except ValueError:
        raise DisplayError("Choose how the screen shows an item not everyone may see.") from None
    token = secrets.token_urlsafe(32)
    display = RoomDisplay(meeting_id=meeting.id, label=label, token_hash=token_hash(token),
                          withheld_items=withheld_items, created_by_id=actor.user.id if actor.user else None)
    db.session.add(display)
    db.session.flush()
    audit.record(actor, "display.issued", object_type="meeting", object_id=meeting.id,
                 details={"display": display.id, "label": label, "withheld": withheld_items.value},
                 meeting_id=meeting.id)
    return display, token


def revoke_display(actor: Actor, meeting: Meeting, display_id: int) -> RoomDisplay:
    display = db.session.get(RoomDisplay, display_id)
    if display is None or display.meeting_id != meeting.id:
        raise DisplayError("This screen does not exist.")
    if display.revoked_at is None:
        display.revoked_at = utcnow()
        audit.record(actor, "display.revoked", object_type="meeting", object_id=meeting.id,
                     details={"display": display.id, "label": display.label}, meeting_id=meeting.id)
    return display


def displays_of(meeting: Meeting) -> list[RoomDisplay]:
    return list(db.session.scalars(select(RoomDisplay).where(RoomDisplay.meeting_id == meeting.id)
                                   .order_by(RoomDisplay.revoked_at.is_not(None), RoomDisplay.id)))


def seen(display: RoomDisplay) -> None:
    now = utcnow()
    if display.last_seen_at is None or (now - display.last_seen_at).total_seconds() > SEEN_EVERY_S:
        display.last_seen_at = now


# --- what the screen shows ---------------------------------------------------------------------------

def _present_user_ids(meeting: Meeting) -> set[int]:
    return set(db.session.scalars(select(MeetingParticipant.user_id).where(
        MeetingParticipant.meeting_id == meeting.id, MeetingParticipant.checked_in_at.is_not(None))))


def withheld(meeting: Meeting, item: MeetingItem, present: set[int]) -> bool:
    """Not everyone in the room may see this item."""
    if item.confidentiality is not Confidentiality.NORMAL:
        return True
    return bool(users_kept_from_item(meeting, item.id) & present)


def _option_names(ballot: Any) -> dict[str, dict[str, str]]:
    return {str(q.id): {o["key"]: o.get("label") or o["key"] for o in q.option_list} for q in ballot.questions}


def _in_ballot_order(names: dict[str, str], counts: dict[str, int]) -> list[dict[str, Any]]:
    """The counts in the order the ballot offered its options (approve, reject, abstain)."""
    keys = [k for k in names if k in counts] + [k for k in counts if k not in names]
    return [{"key": k, "label": names.get(k, k), "count": counts[k]} for k in keys]


def _vote(meeting: Meeting, item: MeetingItem) -> dict[str, Any] | None:
    """The item's live vote: open (participation), counting, or closed (the result)."""
    ballots = [b for b in voting.ballots_for_meeting(meeting) if b.item_id == item.id and b.opened_at is not None]
    if not ballots:
        return None
    ballot = max(ballots, key=lambda b: b.opened_at)
    state = voting.ballot_state(ballot)
    names = _option_names(ballot)
    result = None
    if state["result"] is not None:
        result = {"outcome": state["result"]["outcome"], "questions": [
            {"counts": _in_ballot_order(names.get(str(q["question_id"]), {}), q["counts"]), "outcome": q["outcome"]}
            for q in state["result"]["questions"]]}
    return {"title": ballot.title, "status": state["status"], "voted": state["voted"],
            "eligible": state["eligible"], "secret": ballot.secret, "result": result}


def room_state(display: RoomDisplay) -> dict[str, Any]:
    """Everything the screen shows, as everyone in the room may see it."""
    meeting = display.meeting
    state = live.state_of(meeting.id)
    course = live.meeting_state(meeting, state)
    present = _present_user_ids(meeting)
    q = meetings.quorum(meeting)
    item = next((i for i in meeting.items if i.id == meeting.current_item_id), None)
    shown: dict[str, Any] | None = None
    if item is not None:
        number = meeting.items.index(item) + 1 if item in meeting.items else item.position
        if not withheld(meeting, item, present):
            floor = course.get("floor")
            queue = [r for r in live.queue_state(meeting.id, item.id) if r["status"] == "waiting"]
            shown = {"number": number, "title": item.title, "ministry": item.ministry, "presenter": item.presenter,
                     "withheld": False, "started_at": course.get("item_started_at"),
                     "stopped_at": course.get("item_stopped_at"),
                     "speaker": {"name": floor.get("name", ""), "started_at": floor.get("started_at")}
                     if floor and floor.get("item_id") == item.id else None,
                     "queue": [r["name"] for r in queue], "vote": _vote(meeting, item)}
        elif display.withheld_items is WithheldItems.TITLE:
            shown = {"number": number, "title": item.title, "withheld": True}
        else:
            shown = {"number": number, "title": None, "withheld": True}
    return {
        "seq": state.last_seq,
        "server_now": utcnow().isoformat(),
        "meeting": {"title": meeting.title, "status": course["status"], "paused": course["paused"],
                    "starts_at": meeting.starts_at.isoformat() if meeting.starts_at else None,
                    "timezone": meeting.timezone},
        "quorum": {"present": q.present, "eligible": q.eligible, "required": q.required, "reached": q.reached},
        "item": shown,
        "items_total": len(meeting.items),
    }
