"""What the voting domain offers the layers above it, without importing them.

- ``ballot_decided``: keyed by domain, ``fn(ballot)`` inside the unit of work, once a ballot's result is
  counted: its ``outcome`` is set and, for a ballot on an agenda item, the item's. A written-opinion ballot
  between meetings publishes no meeting event, so this is how a domain above hears of its decision (the
  submissions domain: the ministry whose submission the ballot or the item was).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecabinet.core.hooks import Hook

ballot_decided: Hook[Callable[[Any], None]] = Hook("voting.ballot_decided")
