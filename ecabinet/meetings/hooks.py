"""What the meetings domain takes from the domains above it, without importing them.

- ``home_sections``: keyed by section name (``"unread_documents"``, ``"pending_ballots"``),
  ``fn(user, meetings) -> HomeSection`` adds to the member's home what that domain has for them: a count
  per upcoming meeting and, if it has any, entries listed on their own.
- ``consent_adopted``: keyed by domain, ``fn(actor, meeting, items)`` records what that domain keeps of an
  adopted consent block (the voting domain: one closed consent ballot per item), in the same unit of work
  as the adoption.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ecabinet.core.hooks import Hook


@dataclass
class HomeSection:
    per_meeting: dict[int, int] = field(default_factory=dict)  # meeting id -> count shown on its card
    entries: list[Any] = field(default_factory=list)           # listed in a section of their own


home_sections: Hook[Callable[..., HomeSection]] = Hook("meetings.home_sections")
consent_adopted: Hook[Callable[..., None]] = Hook("meetings.consent_adopted")
