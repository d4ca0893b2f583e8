"""Per-reader watermarks: every page of a downloaded copy names its reader, organisation, time and copy code.

The stamp is two small form XObjects (a footer line and a faint diagonal) drawn once per request with
their own subset of the Unicode font, and each page only gets (a) the XObjects in its resources and
(b) a tiny content stream ``Q q <placement> cm /Fx Do Q`` after its own content, which is wrapped in
``q`` ... so nothing it leaves behind can move the stamp. Page content is never decoded or
rewritten, and one placement stream is shared by all pages of the same geometry, so a stamped copy is
barely larger than its source. Merging an overlay page into every page (``merge_page``) instead
re-encodes each page and made outputs 1.7x larger.

This module makes the overlay, places it, and stamps through pypdf: ``stamp_with_pypdf`` appends the
sources with ``PdfWriter.append`` then ``Stamper`` stamps the writer's pages; the board book uses
``apply_watermark`` on its own writer. A reader's copy of one stored document is made by ``copies``
from the document's prepared copy instead (through pikepdf), with this overlay and placement;
``copies.stamp_copy`` chooses between the two.

The overlay's font is a subset made by ``ttfsubset`` (it embeds a ToUnicode map: the watermark
text stays extractable, diacritics included) rather than by reportlab, whose import and subsetting
were most of the fixed cost of a copy; reportlab still lays out the board-book cover and agenda.

This is pypdf work: in the web process call ``copies.stamp_pdf_isolated`` (a limited worker process).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import secrets
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ecabinet.pdf.fonts import VIETNAMESE_LETTERS, candidate_paths, find_unicode_font
from ecabinet.pdf.geometry import Geometry, normalise_geometry, visible_to_user
from ecabinet.pdf.limits import Progress
from ecabinet.pdf.ttfsubset import FontError, TrueTypeFace, load_face

if TYPE_CHECKING:
    from pypdf import PageObject, PdfWriter


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


# --- the overlay: two form XObjects and their font, as numbered PDF objects ---------------------

def _num(x: float) -> str:
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _cm(a: float, b: float, c: float, d: float, e: float, f: float) -> str:
    return " ".join(_num(v) for v in (a, b, c, d, e, f)) + " cm"


def pdf_text(text: str) -> bytes:
    """A PDF text string: literal if plain ASCII, else UTF-16BE with its byte-order mark."""
    if text.isascii() and text.isprintable():
        return b"(" + text.encode("ascii").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"
    return b"<feff" + text.encode("utf-16-be").hex().encode("ascii") + b">"


def stream_object(data: bytes, entries: bytes = b"", *, compress: int = 0) -> bytes:
    """The body of a stream object holding ``data``, Flate-compressed at level ``compress`` (if not 0).

    Streams of less than 256 bytes stay as they are: each compression costs a fixed ~10 us, for a few bytes.
    """
    if compress and len(data) >= 256:
        data = zlib.compress(data, compress)
        entries += b" /Filter /FlateDecode"
    return b"<<%s /Length %d >>\nstream\n%s\nendstream" % (entries, len(data), data)


@lru_cache(maxsize=1)
def stamp_face() -> TrueTypeFace:
    """The regular face, once per process.

    The candidates of ``fonts`` are checked for Vietnamese with ``ttfsubset`` (reportlab's font reader
    costs ~0.14 s to import in each child process); ``find_unicode_font`` covers the rest (fc-match,
    and the error that names the package to install).
    """
    for candidate in candidate_paths("regular"):
        try:
            face = load_face(candidate)
        except (OSError, FontError):
            continue
        if face.covers(VIETNAMESE_LETTERS):
            return face
    return load_face(find_unicode_font("regular"))


@dataclass(frozen=True)
class Overlay:
    """The watermark's objects, numbered ``first``, ``first + 1``...: the footer form, the diagonal form, the font."""

    first: int
    objects: list[bytes]  # object bodies (what goes between "n 0 obj" and "endobj")
    footer_size: tuple[float, float]
    diagonal_size: tuple[float, float]

    @property
    def footer(self) -> int:
        return self.first

    @property
    def diagonal(self) -> int:
        return self.first + 1

    def as_pdf(self) -> bytes:
        """A minimal PDF holding the objects under their numbers (for pypdf to read back)."""
        catalog = self.first + len(self.objects)
        bodies = [*self.objects, b"<< /Type /Catalog /Pages %d 0 R >>" % (catalog + 1),
                  b"<< /Type /Pages /Kids [] /Count 0 >>"]
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(bodies, self.first):
            offsets.append(len(out))
            out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
        xref = len(out)
        out += b"xref\n0 1\n0000000000 65535 f \n%d %d\n" % (self.first, len(bodies))
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            self.first + len(bodies), catalog, xref)
        return bytes(out)


def build_overlay(watermark: Watermark, first: int = 1) -> Overlay:
    """The footer line and the diagonal mark as two form XObjects sized to their text, sharing one font subset."""
    face = stamp_face()
    footer, diagonal = watermark.footer_text(), watermark.diagonal_text()
    subset = face.subset(footer + diagonal)
    # Character ids 1..n in order of first use; the CIDToGIDMap sends each to its glyph (a character
    # the font lacks keeps its own id, so its text is still extractable, drawn as .notdef).
    cid = {ch: index for index, ch in enumerate(subset.chars, 1)}
    hex_cid = {ch: f"{index:04x}" for ch, index in cid.items()}

    def shown(text: str) -> bytes:
        return b"<" + "".join(map(hex_cid.__getitem__, text)).encode("ascii") + b">"

    pad = FOOTER_SIZE * 0.6
    fw, fh = face.string_width(footer, FOOTER_SIZE) + 2 * pad, FOOTER_SIZE * 1.7
    dw, dh = face.string_width(diagonal, DIAGONAL_SIZE), DIAGONAL_SIZE * 1.3
    font = first + 2
    # A light backing keeps the footer legible over dark content, without hiding much.
    footer_ops = (f"q /G0 gs 1 1 1 rg 0 0 {_num(fw)} {_num(fh)} re f Q 0.2 0.2 0.2 rg BT /F1 {_num(FOOTER_SIZE)} Tf "
                  f"{_num(pad)} {_num(fh * 0.32)} Td ").encode() + shown(footer) + b" Tj ET"
    diagonal_ops = (f"/G0 gs 0.45 0.45 0.45 rg BT /F1 {DIAGONAL_SIZE} Tf 0 {_num(DIAGONAL_SIZE * 0.28)} Td "
                    ).encode() + shown(diagonal) + b" Tj ET"

    def form(ops: bytes, width: float, height: float, alpha: float) -> bytes:
        return stream_object(ops, b" /Type /XObject /Subtype /Form /BBox [0 0 %s %s] /Resources << /Font << /F1 %d 0 R"
                             b" >> /ExtGState << /G0 << /ca %s >> >> >>" % (
                                 _num(width).encode(), _num(height).encode(), font, _num(alpha).encode()),
                             compress=6)

    tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(subset.program).digest()[:6])
    base_font = f"/{tag}+{face.postscript_name}".encode()
    scale = 1000 / face.units_per_em
    flags = 4 | (1 if face.fixed_pitch else 0) | (64 if face.italic_angle else 0)
    widths = " ".join(map(str, subset.widths)).encode()  # already rounded to 3 decimals
    to_unicode = (b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                  b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
                  b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                  b"1 begincodespacerange\n<0000> <ffff>\nendcodespacerange\n")
    pairs = [f"<{hex_cid[ch]}> <{ch.encode('utf-16-be').hex()}>".encode() for ch in subset.chars]
    for at in range(0, len(pairs), 100):  # at most 100 entries per block
        block = pairs[at:at + 100]
        to_unicode += b"%d beginbfchar\n%s\nendbfchar\n" % (len(block), b"\n".join(block))
    to_unicode += b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    cid_to_gid = b"\0\0" + b"".join(subset.gids[ch].to_bytes(2, "big") for ch in subset.chars)
    objects = [
        form(footer_ops, fw, fh, 0.7),
        form(diagonal_ops, dw, dh, DIAGONAL_ALPHA),
        b"<< /Type /Font /Subtype /Type0 /BaseFont %s /Encoding /Identity-H /DescendantFonts [%d 0 R]"
        b" /ToUnicode %d 0 R >>" % (base_font, font + 1, font + 4),
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont %s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity)"
        b" /Supplement 0 >> /FontDescriptor %d 0 R /DW %s /W [1 [%s]] /CIDToGIDMap %d 0 R >>" % (
            base_font, font + 2, _num(face.advances[0] * scale).encode(), widths, font + 5),
        b"<< /Type /FontDescriptor /FontName %s /Flags %d /FontBBox [%s] /ItalicAngle %s /Ascent %s /Descent %s"
        b" /CapHeight %s /StemV %d /FontFile2 %d 0 R >>" % (
            base_font, flags, " ".join(_num(v * scale) for v in face.bbox).encode(), _num(face.italic_angle).encode(),
            _num(face.ascent * scale).encode(), _num(face.descent * scale).encode(),
            _num(face.cap_height * scale).encode(), 50 + int((face.weight / 65) ** 2), font + 3),
        # Level 1: half the time of the default level, for 2 % more bytes.
        stream_object(subset.program, b" /Length1 %d" % len(subset.program), compress=1),
        stream_object(to_unicode, compress=1),
        stream_object(cid_to_gid, compress=6),
    ]
    return Overlay(first, objects, (fw, fh), (dw, dh))


# --- where the stamp goes on a page ---------------------------------------------------------------

def page_geometry(page: PageObject) -> Geometry:
    """(rotation, x0, y0, x1, y1) of the visible area of a pypdf page: the crop box, normalised."""
    box = page.cropbox
    return normalise_geometry(page.get("/Rotate", 0), (box.left, box.bottom, box.right, box.top))


def placement_ops(geometry: Geometry, overlay: Overlay, footer_name: str, diagonal_name: str) -> bytes:
    """The content stream appended to every page of ``geometry``: closes the page's own ``q``, draws both forms."""
    rotation, x0, y0, x1, y1 = geometry
    width, height = x1 - x0, y1 - y0
    if rotation in (90, 270):
        width, height = height, width
    margin = max(3.0, min(width, height) * 0.012)
    fw, fh = overlay.footer_size
    scale = min(1.0, max(width - 2 * margin, 1.0) / fw)
    fx, fy = (width - fw * scale) / 2, margin * 0.5
    dw, dh = overlay.diagonal_size
    angle = math.atan2(height, width)
    k = min(0.7 * math.hypot(width, height) / dw, 4.0)
    cos, sin = math.cos(angle), math.sin(angle)
    ops = [
        "Q", "q", _cm(*visible_to_user(*geometry)),
        "q", _cm(1, 0, 0, 1, width / 2, height / 2), _cm(cos, sin, -sin, cos, 0, 0), _cm(k, 0, 0, k, 0, 0),
        _cm(1, 0, 0, 1, -dw / 2, -dh / 2), f"{diagonal_name} Do", "Q",
        "q", _cm(scale, 0, 0, scale, fx, fy), f"{footer_name} Do", "Q",
        "Q",
    ]
    return ("\n" + "\n".join(ops) + "\n").encode("ascii")


def stamp_names() -> tuple[str, str]:
    """Resource names of the footer and diagonal forms, unique per copy: a file that already carries an
    older stamp keeps it intact."""
    token = secrets.token_hex(3)
    return f"/ECabWm{token}F", f"/ECabWm{token}D"


# Saves the page's graphics state so that whatever it leaves behind cannot move the stamp.
PUSH_OPS = b"q\n"


# --- the pypdf path --------------------------------------------------------------------------------

class Stamper:
    """Adds one reader's watermark to pages of one PdfWriter, sharing every object it can."""

    def __init__(self, writer: PdfWriter, watermark: Watermark) -> None:
        from pypdf import PdfReader
        from pypdf.generic import DecodedStreamObject

        self.writer = writer
        self.footer_name, self.diagonal_name = stamp_names()
        self.overlay = build_overlay(watermark)
        overlay = PdfReader(io.BytesIO(self.overlay.as_pdf()))
        # Both forms clone from one reader into one writer, so the font is copied once.
        self.footer_ref = overlay.get_object(self.overlay.footer).clone(writer).indirect_reference
        self.diagonal_ref = overlay.get_object(self.overlay.diagonal).clone(writer).indirect_reference
        self._placements: dict[Geometry, Any] = {}
        push = DecodedStreamObject()
        push.set_data(PUSH_OPS)
        self._push_ref = writer._add_object(push)

    def _placement(self, geometry: Geometry) -> Any:
        from pypdf.generic import DecodedStreamObject

        if geometry not in self._placements:
            stream = DecodedStreamObject()
            stream.set_data(placement_ops(geometry, self.overlay, self.footer_name, self.diagonal_name))
            self._placements[geometry] = self.writer._add_object(stream)
        return self._placements[geometry]

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


def write_file_atomically(out_path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> int:
    """Call ``write(fh)`` on a temporary name beside ``out_path``, fsync, rename; return the size in bytes."""
    out = Path(out_path)
    tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.part")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out.stat().st_size


def write_atomically(writer: PdfWriter, out_path: str | os.PathLike[str]) -> int:
    """Write ``writer`` to a temporary name beside ``out_path``, fsync, rename; return the size in bytes."""
    return write_file_atomically(out_path, writer.write)


def append_kept(writer: PdfWriter, source: Any, *, labels: bool) -> None:
    """Append what a reader's copy keeps of ``source`` (a path or a PdfReader): its pages, outline and,
    if ``labels`` (a copy of this one document), its page labels ("i", "ii", "Phụ lục 1"...)."""
    from pypdf import PdfReader
    from pypdf.generic import NameObject

    reader = source if hasattr(source, "pages") else PdfReader(str(source))
    writer.append(reader, import_outline=True, excluded_fields=EXCLUDED_PAGE_KEYS)
    tree = reader.trailer["/Root"].get_object().get("/PageLabels")
    if labels and tree is not None:
        # A number tree of page indexes and label styles: nothing in it points at a page.
        writer._root_object[NameObject("/PageLabels")] = tree.get_object().clone(writer)


def stamp_with_pypdf(sources: list[Any], out_path: str | os.PathLike[str], watermark: Watermark,
                     progress: Progress | None = None) -> int:
    """Concatenate ``sources`` (paths or PdfReaders) into ``out_path`` through pypdf, watermarked; return
    the page count. Page labels are kept for a copy of a single document."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for source in sources:
        append_kept(writer, source, labels=len(sources) == 1)
    count = apply_watermark(writer, watermark, progress=progress)
    writer.add_metadata({"/Producer": "e-Cabinet", "/ECabinetCopy": watermark.copy_code})
    write_atomically(writer, out_path)
    return count
