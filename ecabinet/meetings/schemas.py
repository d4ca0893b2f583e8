"""JSON bodies of the meetings domain (see ecabinet/core/schemas.py)."""

from __future__ import annotations

from ecabinet.core.schemas import Ids, Payload

MAX_ITEMS = 1_000


class ReorderAgenda(Payload):
    """The agenda's full new order: every item id once (the service checks that)."""

    order: Ids(MAX_ITEMS)
