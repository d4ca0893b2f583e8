"""A page's visible area and the map from upright visible coordinates to its user space."""

from __future__ import annotations

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
