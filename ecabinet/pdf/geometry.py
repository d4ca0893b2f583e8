"""A page's visible area, the map from upright visible coordinates to its user space, and page boxes repaired
so that readers (and the copies made for them) can use them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

# (rotation, x0, y0, x1, y1): /Rotate normalised to 0/90/180/270 and the crop box, corners sorted.
Geometry = tuple[int, float, float, float, float]


def normalise_geometry(rotate: Any, box: Sequence[Any]) -> Geometry:
    """(rotation, x0, y0, x1, y1) of the visible area from a page's /Rotate and crop box (or media box)."""
    try:
        rotation = int(rotate or 0)
    except (TypeError, ValueError):
        rotation = 0
    rotation = (round(rotation / 90) * 90) % 360
    x0, x1 = sorted((float(box[0]), float(box[2])))
    y0, y1 = sorted((float(box[1]), float(box[3])))
    return rotation, x0, y0, x1, y1


def visible_to_user(rotation: int, x0: float, y0: float, x1: float, y1: float) -> tuple[float, ...]:
    """Matrix from upright visible coordinates (origin bottom-left of what the viewer shows) to user space.

    /Rotate turns the page clockwise for display; these are the inverse maps for 0/90/180/270.
    """
    if rotation == 90:
        return (0, 1, -1, 0, x1, y0)
    if rotation == 180:
        return (-1, 0, 0, -1, x1, y1)
    if rotation == 270:
        return (0, -1, 1, 0, x0, y1)
    return (1, 0, 0, 1, x0, y0)


# --- page boxes that readers can use ----------------------------------------------------------------

# (x0, y0, x1, y1), corners sorted.
Box = tuple[float, float, float, float]
# ISO 32000-1 annex C: a page is at least 3 and at most 14,400 units (200 inches) on each side.
MIN_PAGE_SIDE = 3.0
MAX_PAGE_SIDE = 14_400.0
# What readers assume for a page without a usable /MediaBox (US Letter, as pdf.js, pypdf and poppler do).
DEFAULT_MEDIA_BOX: Box = (0.0, 0.0, 612.0, 792.0)
# Boxes that default to the crop box (the crop box to the media box) when absent: an unusable one is dropped.
INNER_BOXES = ("/CropBox", "/BleedBox", "/TrimBox", "/ArtBox")


def box_values(raw: Any) -> Box | None:
    """The corners of a box array, sorted; None if it is not four finite numbers (null, too short, names...)."""
    try:
        if raw is None or isinstance(raw, str | bytes) or len(raw) != 4:
            return None
        x0, y0, x1, y1 = (float(v) for v in raw)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        return None
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    return x0, y0, x1, y1


def repair_media_box(raw: Any) -> Box:
    """The media box a reader can show: sorted corners, each side clamped to the PDF limits from the lower-left
    corner (an absurd 10^12-unit page becomes 14,400 units); a missing, malformed or empty one becomes US Letter."""
    box = box_values(raw)
    if box is None:
        return DEFAULT_MEDIA_BOX
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:  # no area at all ([0 0 0 0]): as absent
        return DEFAULT_MEDIA_BOX
    width = min(max(x1 - x0, MIN_PAGE_SIDE), MAX_PAGE_SIDE)
    height = min(max(y1 - y0, MIN_PAGE_SIDE), MAX_PAGE_SIDE)
    return x0, y0, x0 + width, y0 + height


def repair_inner_box(raw: Any, media: Box) -> Box | None:
    """A crop, bleed, trim or art box cut to the media box (readers show no more); None (drop it, so that it
    defaults to the media box) if it is malformed or leaves less than a minimal page of the media box."""
    box = box_values(raw)
    if box is None:
        return None
    x0, y0 = max(box[0], media[0]), max(box[1], media[1])
    x1, y1 = min(box[2], media[2]), min(box[3], media[3])
    if x1 - x0 < MIN_PAGE_SIDE or y1 - y0 < MIN_PAGE_SIDE:
        return None
    return x0, y0, x1, y1
