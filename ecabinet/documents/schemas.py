"""JSON bodies of the document viewer's annotations (see ecabinet/core/schemas.py).

Shapes and bounds only: a kind the service knows, a page the document has and a note that is not empty
are the service's rules, refused with a translated message.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ecabinet.core.schemas import Id, Payload, Text

MAX_BODY = 20_000  # transport bounds: the service keeps 5,000 characters of a note and 2,000 of a quote
MAX_QUOTE = 100_000  # a selection may run over several pages of text
MAX_CONTEXT = 1_000  # the text just before and after the quote (the viewer sends 60 characters)
MAX_RECTS = 200  # the viewer sends at most 50; the service keeps 50

# A highlighted line: left, top, width, height, as fractions of the page.
Rect = Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=4, max_length=4)]


class NewAnnotation(Payload):
    kind: Text(16) | None = None  # "note" (the default) or "highlight"
    page: Id
    body: Text(MAX_BODY) | None = None
    quote: Text(MAX_QUOTE) | None = None
    prefix: Text(MAX_CONTEXT) | None = None
    suffix: Text(MAX_CONTEXT) | None = None
    rects: Annotated[list[Rect], Field(max_length=MAX_RECTS)] | None = None
    shared: bool | None = None


class AnnotationChange(Payload):
    """Only the fields given are changed; ``page`` places a note that lost its page in a new version."""

    body: Text(MAX_BODY) | None = None
    shared: bool | None = None
    page: Id | None = None
