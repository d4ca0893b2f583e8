"""A reader's annotated copy: their highlights, notes and ink written into their watermarked copy as
standard PDF annotations (ISO 32000 12.5.6), so any reader program shows and lists them.

Positions arrive as the viewer keeps them: fractions of the page as displayed (its crop box, turned by
/Rotate), from the top left. Each annotation carries its own appearance stream, so that it looks the same
in every program and when printed, and not only in those that draw a default one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The viewer's colours (static/css/viewer.css), as PDF RGB: fill for highlights, edge for ink and notes.
FILLS = {"yellow": (1.0, 0.84, 0.0), "green": (0.24, 0.82, 0.35), "blue": (0.31, 0.63, 1.0),
         "pink": (1.0, 0.43, 0.75)}
EDGES = {"yellow": (0.54, 0.38, 0.0), "green": (0.11, 0.42, 0.2), "blue": (0.1, 0.37, 0.71),
         "pink": (0.69, 0.1, 0.36)}
HIGHLIGHT_OPACITY = 0.4
NOTE_ICON = 20.0  # points: the side of a pinned note's icon


@dataclass(frozen=True)
class PageFrame:
    """Where the displayed page lies in PDF user space: the crop box and the page's turn."""

    x0: float
    y0: float
    x1: float
    y1: float
    rotate: int

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def shown_width(self) -> float:
        """The displayed page's width in points (a quarter turn swaps the sides)."""
        return self.height if self.rotate in (90, 270) else self.width

    def point(self, fx: float, fy: float) -> tuple[float, float]:
        """A point given as fractions of the displayed page from its top left, in user space."""
        fx, fy = min(max(fx, 0.0), 1.0), min(max(fy, 0.0), 1.0)
        if self.rotate == 90:
            return self.x0 + fy * self.width, self.y0 + fx * self.height
        if self.rotate == 180:
            return self.x1 - fx * self.width, self.y0 + fy * self.height
        if self.rotate == 270:
            return self.x1 - fy * self.width, self.y1 - fx * self.height
        return self.x0 + fx * self.width, self.y1 - fy * self.height

    def quad(self, rect: list[float]) -> list[tuple[float, float]]:
        """A displayed rectangle [x, y, w, h] as QuadPoints' corners: upper left, upper right, lower left,
        lower right, as the text reads on the displayed page."""
        x, y, w, h = rect
        return [self.point(x, y), self.point(x + w, y), self.point(x, y + h), self.point(x + w, y + h)]


def _frame(page: Any) -> PageFrame:
    box = page.obj.get("/CropBox") or page.mediabox
    x0, y0, x1, y1 = (float(v) for v in box)
    rotate = int(page.obj.get("/Rotate", 0))
    return PageFrame(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), rotate % 360)


def _bbox(points: list[tuple[float, float]], pad: float = 0.0) -> list[float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return [min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad]


def _num(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".") or "0"


def _rgb(color: tuple[float, float, float]) -> str:
    return " ".join(_num(c) for c in color)


def _appearance(pdf: Any, bbox: list[float], content: str, *, opacity: float | None = None) -> Any:
    import pikepdf

    resources = pikepdf.Dictionary()
    if opacity is not None:
        resources.ExtGState = pikepdf.Dictionary(
            GS0=pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=opacity, CA=opacity,
                                   BM=pikepdf.Name.Multiply))
        content = "/GS0 gs\n" + content
    stream = pikepdf.Stream(pdf, content.encode("ascii"))
    stream.Type = pikepdf.Name.XObject
    stream.Subtype = pikepdf.Name.Form
    stream.BBox = pikepdf.Array(bbox)
    stream.Resources = resources
    return stream


def _text(value: str) -> Any:
    import pikepdf

    return pikepdf.String(value)


def _common(pdf: Any, subtype: str, rect: list[float], color: tuple[float, float, float], author: str,
            body: str, appearance: Any) -> Any:
    import pikepdf

    annotation = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name(subtype), Rect=pikepdf.Array(rect),
        C=pikepdf.Array(list(color)), T=_text(author), F=4,  # Print: the marks are part of the reader's copy
        AP=pikepdf.Dictionary(N=appearance))
    if body:
        annotation.Contents = _text(body)
    return pdf.make_indirect(annotation)


def _highlight(pdf: Any, frame: PageFrame, mark: dict[str, Any], author: str) -> Any | None:
    import pikepdf

    quads = [frame.quad(r) for r in mark.get("rects") or [] if len(r) == 4 and r[2] > 0 and r[3] > 0]
    if not quads:
        return None
    corners = [p for q in quads for p in q]
    bbox = _bbox(corners)
    fill = FILLS.get(mark.get("color") or "yellow", FILLS["yellow"])
    paths = "".join(f"{_num(q[0][0])} {_num(q[0][1])} m {_num(q[1][0])} {_num(q[1][1])} l "
                    f"{_num(q[3][0])} {_num(q[3][1])} l {_num(q[2][0])} {_num(q[2][1])} l h\n" for q in quads)
    appearance = _appearance(pdf, bbox, f"{_rgb(fill)} rg\n{paths}f\n", opacity=HIGHLIGHT_OPACITY)
    annotation = _common(pdf, "/Highlight", bbox, fill, author, mark.get("body") or "", appearance)
    annotation.QuadPoints = pikepdf.Array([v for q in quads for p in q for v in p])
    annotation.CA = HIGHLIGHT_OPACITY
    if mark.get("quote"):
        annotation.Subj = _text(mark["quote"][:200])
    return annotation


def _note_icon(pdf: Any, x: float, y: float, color: tuple[float, float, float], author: str, body: str) -> Any:
    """A sticky note (/Text) with its top left at (x, y): a folded paper in the note's colour."""
    import pikepdf

    s = NOTE_ICON
    rect = [x, y - s, x + s, y]
    fold = s * 0.3
    content = (f"{_rgb(color)} rg 0.2 0.2 0.2 RG 0.8 w\n"
               f"{_num(x + 1)} {_num(y - s + 1)} m {_num(x + s - 1)} {_num(y - s + 1)} l "
               f"{_num(x + s - 1)} {_num(y - 1 - fold)} l {_num(x + s - 1 - fold)} {_num(y - 1)} l "
               f"{_num(x + 1)} {_num(y - 1)} l h B\n"
               f"{_num(x + 4)} {_num(y - s * 0.4)} m {_num(x + s - 5)} {_num(y - s * 0.4)} l "
               f"{_num(x + 4)} {_num(y - s * 0.6)} m {_num(x + s - 5)} {_num(y - s * 0.6)} l "
               f"{_num(x + 4)} {_num(y - s * 0.8)} m {_num(x + s - 8)} {_num(y - s * 0.8)} l S\n")
    annotation = _common(pdf, "/Text", rect, color, author, body, _appearance(pdf, rect, content))
    annotation.Name = pikepdf.Name.Comment
    annotation.Open = False
    return annotation


def _pin(pdf: Any, frame: PageFrame, mark: dict[str, Any], author: str) -> Any | None:
    point = mark.get("point")
    if not (isinstance(point, list) and len(point) == 2):
        return None
    x, y = frame.point(float(point[0]), float(point[1]))
    fill = FILLS.get(mark.get("color") or "yellow", FILLS["yellow"])
    # Kept inside the crop box, as the viewer shows it.
    x = min(max(x, frame.x0), frame.x1 - NOTE_ICON)
    y = min(max(y, frame.y0 + NOTE_ICON), frame.y1)
    return _note_icon(pdf, x, y, fill, author, mark.get("body") or "")


def _ink(pdf: Any, frame: PageFrame, mark: dict[str, Any], author: str) -> Any | None:
    import pikepdf

    strokes = []
    for stroke in mark.get("strokes") or []:
        points = [frame.point(float(p[0]), float(p[1])) for p in stroke.get("points") or [] if len(p) >= 2]
        if points:
            strokes.append((points, float(stroke.get("width") or 0.004) * frame.shown_width))
    if not strokes:
        return None
    edge = EDGES.get(mark.get("color") or "yellow", EDGES["yellow"])
    widest = max(w for _, w in strokes)
    bbox = _bbox([p for points, _ in strokes for p in points], pad=widest)
    content = [f"{_rgb(edge)} RG 1 J 1 j\n"]
    for points, width in strokes:
        content.append(f"{_num(width)} w {_num(points[0][0])} {_num(points[0][1])} m ")
        if len(points) == 1:  # a dot: a zero-length line with round caps
            content.append(f"{_num(points[0][0])} {_num(points[0][1])} l S\n")
            continue
        content.append(" ".join(f"{_num(x)} {_num(y)} l" for x, y in points[1:]) + " S\n")
    annotation = _common(pdf, "/Ink", bbox, edge, author, mark.get("body") or "",
                         _appearance(pdf, bbox, "".join(content)))
    annotation.InkList = pikepdf.Array([pikepdf.Array([v for p in points for v in p]) for points, _ in strokes])
    annotation.BS = pikepdf.Dictionary(W=widest, S=pikepdf.Name.S)
    return annotation


def _note(pdf: Any, frame: PageFrame, mark: dict[str, Any], author: str) -> list[Any]:
    """A note on a passage: the passage underlaid as a highlight and a sticky note beside its start."""
    made = []
    highlight = _highlight(pdf, frame, {**mark, "body": ""}, author)
    rects = [r for r in mark.get("rects") or [] if len(r) == 4]
    if highlight is not None:
        made.append(highlight)
    if mark.get("body"):
        x, y = (frame.point(rects[0][0], rects[0][1]) if rects else frame.point(0.02, 0.02))
        x = min(max(x - NOTE_ICON - 2, frame.x0), frame.x1 - NOTE_ICON)
        y = min(max(y + NOTE_ICON / 2, frame.y0 + NOTE_ICON), frame.y1)
        made.append(_note_icon(pdf, x, y, FILLS.get(mark.get("color") or "yellow", FILLS["yellow"]),
                               author, mark["body"]))
    return made


BUILDERS = {"highlight": lambda *a: [_highlight(*a)], "pin": lambda *a: [_pin(*a)], "ink": lambda *a: [_ink(*a)],
            "note": _note}


def annotate_copy(source: str | Path, out_path: str | Path, marks: list[dict[str, Any]], author: str) -> int:
    """Write ``source`` (the reader's watermarked copy) to ``out_path`` with ``marks`` added as
    annotations; marks on a page the copy does not have are left out. Returns how many were written."""
    import pikepdf

    from ecabinet.pdf.stamping import write_file_atomically

    written = 0
    with pikepdf.open(source) as pdf:
        pages = list(pdf.pages)
        for mark in marks:
            number = mark.get("page")
            if not isinstance(number, int) or not 1 <= number <= len(pages):
                continue
            page = pages[number - 1]
            build = BUILDERS.get(mark.get("kind") or "")
            if build is None:
                continue
            made = [a for a in build(pdf, _frame(page), mark, author) if a is not None]
            if not made:
                continue
            if "/Annots" not in page.obj:
                page.obj.Annots = pdf.make_indirect(pikepdf.Array())
            for annotation in made:
                annotation.P = page.obj
                page.obj.Annots.append(annotation)
            written += 1
        write_file_atomically(out_path, lambda fh: pdf.save(fh, compress_streams=True))
    return written
