"""Per-reader watermarks: every page of a downloaded copy names its reader, organisation, time and copy code.

The stamp is drawn once per request with reportlab (two small pages: a footer line and a faint
diagonal), turned into two form XObjects, and each page only gets (a) the XObjects in its
resources and (b) a tiny content stream ``q <placement> cm /Fx Do Q`` appended to its /Contents.
Page content is never decoded or rewritten, and one placement stream is shared by all pages of
the same geometry, so a stamped copy is barely larger than its source. Merging an overlay page
into every page (``merge_page``) instead re-encodes each page and made outputs 1.7x larger.

reportlab rather than fpdf2: it embeds TrueType subsets with a ToUnicode map (the watermark text
stays extractable, diacritics included), needs no fontTools, and its platypus layout engine also
serves the board-book cover and agenda and the demo documents.

This is pypdf work: in the web process call ``stamp_pdf_isolated`` (a limited child process).
"""

from __future__ import annotations

import io
import math
import os
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecabinet.documents.intake import MiB

if TYPE_CHECKING:
    from pypdf import PageObject, PdfWriter


Progress = Callable[[int, int], None]

FOOTER_SIZE = 7.5   # pt: readable when printed, out of the way of the text
DIAGONAL_SIZE = 36  # pt before scaling to the page diagonal
DIAGONAL_ALPHA = 0.10
# Page keys not copied into a reader's copy: editors' private data (/PieceInfo, which pypdf would
# also rewrite as hex at twice its size) and thumbnails that no longer match the stamped page.
EXCLUDED_PAGE_KEYS = ["/PieceInfo", "/Thumb"]


@dataclass(frozen=True)
class Watermark:
    """Who a copy was made for. ``time_text`` is already formatted in the reader's time zone."""

    name: str
    organisation: str
    time_text: str
    copy_code: str

    def footer_text(self) -> str:
        parts = [self.name, self.organisation, self.time_text, f"Mã bản sao: {self.copy_code}"]
        return " · ".join(p.strip() for p in parts if p and p.strip())

    def diagonal_text(self) -> str:
        return f"{self.name.strip()} · {self.copy_code.strip()}"

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def _overlay_pdf(watermark: Watermark) -> bytes:
    """Two pages sized to their text: page 1 the footer line, page 2 the diagonal mark."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    from ecabinet.documents.fonts import register_fonts

    regular, _bold = register_fonts()
    buf = io.BytesIO()
    footer = watermark.footer_text()
    pad = FOOTER_SIZE * 0.6
    fw, fh = stringWidth(footer, regular, FOOTER_SIZE) + 2 * pad, FOOTER_SIZE * 1.7
    c = canvas.Canvas(buf, pagesize=(fw, fh), pageCompression=1, invariant=1)
    # A light backing keeps the line legible over dark content, without hiding much.
    c.setFillColorRGB(1, 1, 1)
    c.setFillAlpha(0.7)
    c.rect(0, 0, fw, fh, stroke=0, fill=1)
    c.setFillAlpha(1)
    c.setFillColorRGB(0.2, 0.2, 0.2)
    c.setFont(regular, FOOTER_SIZE)
    c.drawString(pad, fh * 0.32, footer)
    c.showPage()

    diagonal = watermark.diagonal_text()
    dw, dh = stringWidth(diagonal, regular, DIAGONAL_SIZE), DIAGONAL_SIZE * 1.3
    c.setPageSize((dw, dh))
    c.setFillColorRGB(0.45, 0.45, 0.45)
    c.setFillAlpha(DIAGONAL_ALPHA)
    # The regular face again: a second embedded font subset would cost ~20 KB per copy.
    c.setFont(regular, DIAGONAL_SIZE)
    c.drawString(0, DIAGONAL_SIZE * 0.28, diagonal)
    c.showPage()
    c.save()
    return buf.getvalue()


def _num(x: float) -> str:
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _cm(a: float, b: float, c: float, d: float, e: float, f: float) -> str:
    return " ".join(_num(v) for v in (a, b, c, d, e, f)) + " cm"


def page_geometry(page: PageObject) -> tuple[int, float, float, float, float]:
    """(rotation, x0, y0, x1, y1) of the visible area: the crop box, normalised."""
    try:
        rotation = int(page.get("/Rotate", 0) or 0)
    except (TypeError, ValueError):
        rotation = 0
    rotation = (round(rotation / 90) * 90) % 360
    box = page.cropbox
    x0, x1 = sorted((float(box.left), float(box.right)))
    y0, y1 = sorted((float(box.bottom), float(box.top)))
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


class Stamper:
    """Adds one reader's watermark to pages of one PdfWriter, sharing every object it can."""

    def __init__(self, writer: PdfWriter, watermark: Watermark) -> None:
        from pypdf import PdfReader
        from pypdf.generic import DecodedStreamObject

        self.writer = writer
        token = secrets.token_hex(3)
        # Unique names: a file that already carries an older stamp keeps it intact.
        self.footer_name = f"/ECabWm{token}F"
        self.diagonal_name = f"/ECabWm{token}D"
        overlay = PdfReader(io.BytesIO(_overlay_pdf(watermark)))
        (self.footer_ref, self.footer_size), (self.diagonal_ref, self.diagonal_size) = (
            self._form(overlay.pages[0]), self._form(overlay.pages[1]))
        self._placements: dict[tuple[Any, ...], Any] = {}
        # Saves the page's graphics state so that whatever it leaves behind cannot move the stamp.
        push = DecodedStreamObject()
        push.set_data(b"q\n")
        self._push_ref = writer._add_object(push)

    def _form(self, page: PageObject) -> tuple[Any, tuple[float, float]]:
        from pypdf.generic import ArrayObject, DecodedStreamObject, FloatObject, NameObject

        width, height = float(page.mediabox.width), float(page.mediabox.height)
        form = DecodedStreamObject()
        form.set_data(page.get_contents().get_data())
        form[NameObject("/Type")] = NameObject("/XObject")
        form[NameObject("/Subtype")] = NameObject("/Form")
        form[NameObject("/BBox")] = ArrayObject([FloatObject(0), FloatObject(0), FloatObject(width),
                                                 FloatObject(height)])
        # Both forms clone from one reader into one writer, so the embedded font is copied once.
        form[NameObject("/Resources")] = page["/Resources"].get_object().clone(self.writer)
        return self.writer._add_object(form.flate_encode()), (width, height)

    def _placement(self, geometry: tuple[int, float, float, float, float]) -> Any:
        from pypdf.generic import DecodedStreamObject

        if geometry in self._placements:
            return self._placements[geometry]
        rotation, x0, y0, x1, y1 = geometry
        width, height = x1 - x0, y1 - y0
        if rotation in (90, 270):
            width, height = height, width
        margin = max(3.0, min(width, height) * 0.012)
        fw, fh = self.footer_size
        scale = min(1.0, max(width - 2 * margin, 1.0) / fw)
        fx, fy = (width - fw * scale) / 2, margin * 0.5
        dw, dh = self.diagonal_size
        angle = math.atan2(height, width)
        k = min(0.7 * math.hypot(width, height) / dw, 4.0)
        cos, sin = math.cos(angle), math.sin(angle)
        ops = [
            "Q", "q", _cm(*visible_to_user(*geometry)),
            "q", _cm(1, 0, 0, 1, width / 2, height / 2), _cm(cos, sin, -sin, cos, 0, 0), _cm(k, 0, 0, k, 0, 0),
            _cm(1, 0, 0, 1, -dw / 2, -dh / 2), f"{self.diagonal_name} Do", "Q",
            "q", _cm(scale, 0, 0, scale, fx, fy), f"{self.footer_name} Do", "Q",
            "Q",
        ]
        stream = DecodedStreamObject()
        stream.set_data(("\n" + "\n".join(ops) + "\n").encode("ascii"))
        ref = self.writer._add_object(stream)
        self._placements[geometry] = ref
        return ref

    def stamp(self, page: PageObject) -> None:
        from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

        placement = self._placement(page_geometry(page))
        resources = page.get("/Resources")
        if resources is None:
            resources = DictionaryObject()
            page[NameObject("/Resources")] = resources
        resources = resources.get_object()
        xobjects = resources.get("/XObject")
        if xobjects is None:
            xobjects = DictionaryObject()
            resources[NameObject("/XObject")] = xobjects
        xobjects = xobjects.get_object()
        xobjects[NameObject(self.footer_name)] = self.footer_ref
        xobjects[NameObject(self.diagonal_name)] = self.diagonal_ref

        contents = page.get("/Contents")
        parts: list[Any] = []
        if contents is not None:
            resolved = contents.get_object()
            items = list(resolved) if isinstance(resolved, ArrayObject) else [contents]
            for item in items:
                if isinstance(item, IndirectObject):
                    parts.append(item)
                elif isinstance(item, StreamObject):  # direct streams are invalid PDF, but seen
                    parts.append(self.writer._add_object(item))
        page[NameObject("/Contents")] = ArrayObject([self._push_ref, *parts, placement])


def apply_watermark(writer: PdfWriter, watermark: Watermark, pages: Iterable[PageObject] | None = None,
                    progress: Progress | None = None) -> int:
    """Stamp ``pages`` (default: all pages of ``writer``); return how many were stamped."""
    stamper = Stamper(writer, watermark)
    targets = list(writer.pages if pages is None else pages)
    for number, page in enumerate(targets, 1):
        stamper.stamp(page)
        if progress and (number % 50 == 0 or number == len(targets)):
            progress(number, len(targets))
    return len(targets)


def write_atomically(writer: PdfWriter, out_path: str | os.PathLike[str]) -> int:
    """Write to a temporary name beside ``out_path``, fsync, rename; return the size in bytes."""
    out = Path(out_path)
    tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.part")
    try:
        with open(tmp, "wb") as fh:
            writer.write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out.stat().st_size


def _as_list(sources: Any) -> list[Any]:
    if isinstance(sources, str | os.PathLike) or hasattr(sources, "pages"):
        return [sources]
    return list(sources)


def stamp_pdf(sources: Any, out_path: str | os.PathLike[str], watermark: Watermark,
              progress: Progress | None = None) -> int:
    """Concatenate ``sources`` (paths or PdfReaders, or one of them) into ``out_path``, watermarked.

    Returns the page count. Document-level JavaScript, OpenAction and attachments are not carried
    over (only pages and outlines are copied), which suits a read-only briefing copy.
    """
    from pypdf import PdfWriter

    writer = PdfWriter()
    for source in _as_list(sources):
        writer.append(source if hasattr(source, "pages") else str(source), import_outline=True,
                      excluded_fields=EXCLUDED_PAGE_KEYS)
    count = apply_watermark(writer, watermark, progress=progress)
    writer.add_metadata({"/Producer": "e-Cabinet", "/ECabinetCopy": watermark.copy_code})
    write_atomically(writer, out_path)
    return count


def stamp_pdf_isolated(sources: Sequence[str | os.PathLike[str]], out_path: str | os.PathLike[str],
                       watermark: Watermark, *, timeout_s: float = 60.0, memory_bytes: int = 1024 * MiB) -> int:
    """``stamp_pdf`` in a limited child process: what the web process (gevent) calls for a download."""
    from ecabinet.documents.pdfworker import run_in_child

    result = run_in_child(
        {"op": "stamp", "sources": [str(Path(s).resolve()) for s in _as_list(sources)],
         "out_path": str(Path(out_path).resolve()), "watermark": watermark.to_json()},
        timeout_s=timeout_s, memory_bytes=memory_bytes)
    return int(result["page_count"])
