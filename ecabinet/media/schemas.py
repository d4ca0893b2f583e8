"""JSON bodies of the media routes (see ecabinet/core/schemas.py): shapes and bounds only; whether the
participant may do it is the policy's and the service's."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ecabinet.core.schemas import Id, Payload, one_message

# Janus's session and handle ids are random numbers below 2^53 (a browser's largest exact integer).
MAX_JANUS_ID = 2**53
JanusId = Annotated[int, Field(strict=True, ge=1, le=MAX_JANUS_ID),
                    one_message("janus_id", lambda _: f"must be a whole number between 1 and {MAX_JANUS_ID}")]
Mode = Literal["audio", "video"]


class JoinBody(Payload):
    """Join by audio only or with the camera."""

    mode: Mode = "video"


class PublishedBody(Payload):
    """The page publishes: its Janus session and VideoRoom handle, where the app reads which streams it
    publishes (the page's own word on its streams is not read); how it attends now."""

    session_id: JanusId
    handle_id: JanusId
    mode: Mode | None = None


class ModerateBody(Payload):
    """The chair mutes a participant or ends their video."""

    user_id: Id
    action: Literal["mute", "stop_video"]
