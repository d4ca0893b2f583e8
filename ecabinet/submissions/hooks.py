"""What the submissions domain offers the layers above it, without importing them.

- ``status_changed``: ``fn(submission, previous)`` inside the unit of work, after a submission's status
  changed (``previous`` is None for a new submission). The API fills it to send its webhooks, staged in
  the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecabinet.core.hooks import Hook

status_changed: Hook[Callable[[Any, str | None], None]] = Hook("submissions.status_changed")
