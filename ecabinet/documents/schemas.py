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
# Ink: the viewer simplifies each stroke (Ramer-Douglas-Peucker) and splits one longer than this. A page
# of handwriting is a few dozen strokes of a few dozen points; these bounds keep one row under ~1 MB.
MAX_STROKE_POINTS = 2_000
MAX_STROKES = 200
MAX_STROKE_WIDTH = 0.05  # of the page's width: a felt marker on a tablet is about 0.01

Number = Annotated[float, Field(allow_inf_nan=False)]
# A highlighted line: left, top, width, height, as fractions of the page.
Rect = Annotated[list[Number], Field(min_length=4, max_length=4)]
# A point of the page: x, y as fractions from the top left (and, for ink, the pen's pressure 0..1).
Point = Annotated[list[Number], Field(min_length=2, max_length=2)]
InkPoint = Annotated[list[Number], Field(min_length=2, max_length=3)]


class Stroke(Payload):
    points: Annotated[list[InkPoint], Field(min_length=1, max_length=MAX_STROKE_POINTS)]
    width: Annotated[float, Field(allow_inf_nan=False, gt=0, le=MAX_STROKE_WIDTH)] | None = None


class NewAnnotation(Payload):
    kind: Text(16) | None = None  # "note" (the default), "highlight", "pin" or "ink"
    color: Text(16) | None = None  # one of service.COLORS; yellow by default
    page: Id
    body: Text(MAX_BODY) | None = None
    quote: Text(MAX_QUOTE) | None = None
    prefix: Text(MAX_CONTEXT) | None = None
    suffix: Text(MAX_CONTEXT) | None = None
    rects: Annotated[list[Rect], Field(max_length=MAX_RECTS)] | None = None
    point: Point | None = None  # a pin's position
    strokes: Annotated[list[Stroke], Field(min_length=1, max_length=MAX_STROKES)] | None = None  # ink
    shared: bool | None = None


class AnnotationChange(Payload):
    """Only the fields given are changed; ``page`` places a note that lost its page in a new version."""

    body: Text(MAX_BODY) | None = None
    shared: bool | None = None
    page: Id | None = None
    color: Text(16) | None = None
