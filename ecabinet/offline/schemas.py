"""JSON bodies of the offline packs' routes (see ecabinet/core/schemas.py): shapes and bounds only."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ecabinet.core.schemas import Id, Payload, Text
from ecabinet.documents.schemas import NewAnnotation
from ecabinet.meetings.service import COMMENT_MAX

MAX_CHANGES = 500  # a batch; the tablet sends the rest in the next one


class NewDevice(Payload):
    label: Text(200) | None = None


class PackHeld(Payload):
    documents: Annotated[list[Id], Field(max_length=2_000)]
    size: Annotated[int, Field(ge=0, le=2**50)]


class HeldVersion(Payload):
    document: Id
    version: Id


class Holding(Payload):
    meeting: Id
    documents: Annotated[list[Id], Field(max_length=2_000)]
    versions: Annotated[list[HeldVersion], Field(max_length=2_000)] = []


class CheckInBody(Payload):
    device: Id
    holdings: Annotated[list[Holding], Field(max_length=200)] = []


ClientId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
ChangedAt = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class AnnotationChange(Payload):
    client_id: ClientId
    op: Literal["create", "update", "delete"]
    document_id: Id
    annotation_id: Id | None = None
    changed_at: ChangedAt
    data: NewAnnotation | None = None


class PositionData(Payload):
    position: Literal["agree", "object", "speak"]
    comment: Text(COMMENT_MAX) = ""


class PositionChange(Payload):
    """A member's position on an agenda item, set offline: the whole position, not a difference."""

    client_id: ClientId
    op: Literal["position"]
    item_id: Id
    changed_at: ChangedAt
    data: PositionData


Change = Annotated[AnnotationChange | PositionChange, Field(discriminator="op")]


class Changes(Payload):
    changes: Annotated[list[Change], Field(max_length=MAX_CHANGES)]
