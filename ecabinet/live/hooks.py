"""What the live room takes from the domains above it, without importing them.

- ``event_payloads``: keyed by an event type prefix (``"ballot."``), ``fn(change, meeting) -> dict``
  builds the payload of a numbered meeting event of that type (``change`` is a
  :class:`~ecabinet.core.domain_events.MeetingChange`).
- ``catch_up_sections``: keyed by domain (``"voting"``), ``fn(user, meeting) -> {section name: object}``
  adds those sections (``"tallies"``, ``"ballots"``) to what a (re)joining tablet receives; a domain
  builds all of its sections from one read (each statement is a round trip on every join).
- ``room_documents`` (key ``"documents"``): ``fn(user, meeting) -> {item id (str): [{"document_id",
  "title", "pages", "url"}]}``, the documents on each item this reader may open, in order, for the
  room's embedded viewer.
- ``shared_documents`` (key ``"documents"``): ``fn(meeting, document_id) -> (item id, pages) | None``,
  a document of this meeting that may be presented, or None.
- ``console_sections``: keyed by section name (``"ballots"``), ``fn(user, meeting) -> object`` adds that
  section to what the chair's console asks before a step (``console.overview``): each domain decides, by
  its own policy, what this user may see of it.
- ``events_published``: ``fn(meeting_id, seq)`` after the numbered events of a commit were sent to the
  meeting's room; carries no content (the room display asks for what it may show).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecabinet.core.hooks import Hook

event_payloads: Hook[Callable[..., dict[str, Any]]] = Hook("live.event_payloads")
catch_up_sections: Hook[Callable[..., Any]] = Hook("live.catch_up_sections")
room_documents: Hook[Callable[..., dict[str, list[dict[str, Any]]]]] = Hook("live.room_documents")
console_sections: Hook[Callable[..., Any]] = Hook("live.console_sections")
shared_documents: Hook[Callable[..., tuple[int, int] | None]] = Hook("live.shared_documents")
events_published: Hook[Callable[[int, int], None]] = Hook("live.events_published")
