"""Per-reader watermarks: every page of a downloaded copy names its reader, organisation, time and copy code.

The stamp is two small form XObjects (a footer line and a faint diagonal) drawn once per request with
their own subset of the Unicode font, and each page only gets (a) the XObjects in its resources and
(b) a tiny content stream ``Q q <placement> cm /Fx Do Q`` after its own content, which is wrapped in
``q`` ... so nothing it leaves behind can move the stamp. Page content is never decoded or
rewritten, and one placement stream is shared by all pages of the same geometry, so a stamped copy is
barely larger than its source. Merging an overlay page into every page (``merge_page``) instead
re-encodes each page and made outputs 1.7x larger.

Two ways to the same result:

- a reader's copy of one stored document (``stamp_pdf`` with one blob of a ``BlobStore``) is made by
  ``fastcopy`` from the document's prepared copy: unmodified objects are copied byte for byte, only
  the page dictionaries (and shared resource dictionaries) are rewritten, no pypdf object model;
- anything else (several sources, a PdfReader, a file outside the store, a prepared copy that is not
  as expected) goes through pypdf: ``PdfWriter.append`` then ``Stamper`` on the writer's pages. The
  board book uses ``apply_watermark`` on its own writer.

The overlay's font is a subset made by ``ttfsubset`` (it embeds a ToUnicode map: the watermark
text stays extractable, diacritics included) rather than by reportlab, whose import and subsetting
were most of the fixed cost of a copy; reportlab still lays out the board-book cover and agenda.

This is pypdf work: in the web process call ``stamp_pdf_isolated`` (a limited child process).
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import os
import secrets
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ecabinet.documents.intake import MiB
from ecabinet.documents.storage import BlobStore

if TYPE_CHECKING:
    from pypdf import PageObject, PdfWriter

    from ecabinet.documents.ttfsubset import TrueTypeFace


Progress = Callable[[int, int], None]
Geometry = tuple[int, float, float, float, float]
log = logging.getLogger(__name__)

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
    from ecabinet.documents import fonts
    from ecabinet.documents.ttfsubset import FontError, load_face

    env = os.environ.get(fonts._ENV["regular"])
    for candidate in ([env] if env else []) + fonts._CANDIDATES["regular"]:
        try:
            face = load_face(candidate)
        except (OSError, FontError):
            continue
        if face.covers(fonts.VIETNAMESE_LETTERS):
            return face
    return load_face(fonts.find_unicode_font("regular"))


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


def page_geometry(page: PageObject) -> Geometry:
    """(rotation, x0, y0, x1, y1) of the visible area of a pypdf page: the crop box, normalised."""
    box = page.cropbox
    return normalise_geometry(page.get("/Rotate", 0), (box.left, box.bottom, box.right, box.top))


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


def _as_list(sources: Any) -> list[Any]:
    if isinstance(sources, str | os.PathLike) or hasattr(sources, "pages"):
        return [sources]
    return list(sources)


@dataclass(frozen=True)
class StampResult:
    """How a copy was made: ``fast`` from the prepared copy, else through pypdf, and why (``note``)."""

    page_count: int
    fast: bool
    note: str = ""


def stamp_copy(sources: Any, out_path: str | os.PathLike[str], watermark: Watermark,
               progress: Progress | None = None) -> StampResult:
    """``stamp_pdf``, saying which way the copy was made."""
    items = _as_list(sources)
    note = "several sources" if len(items) > 1 else "not a file of the blob store"
    if len(items) == 1 and not hasattr(items[0], "pages"):
        from ecabinet.documents import fastcopy

        count, fallback = fastcopy.stamp_stored(items[0], out_path, watermark)
        if count is not None:
            if progress:
                progress(count, count)
            return StampResult(count, True)
        if fallback:
            log.warning("watermarked copy of %s made through pypdf: %s", items[0], fallback)
            note = fallback
    from pypdf import PdfWriter  # only now: the fast path's child process never imports pypdf

    writer = PdfWriter()
    for source in items:
        append_kept(writer, source, labels=len(items) == 1)
    count = apply_watermark(writer, watermark, progress=progress)
    writer.add_metadata({"/Producer": "e-Cabinet", "/ECabinetCopy": watermark.copy_code})
    write_atomically(writer, out_path)
    return StampResult(count, False, note)


def stamp_pdf(sources: Any, out_path: str | os.PathLike[str], watermark: Watermark,
              progress: Progress | None = None) -> int:
    """Concatenate ``sources`` (paths or PdfReaders, or one of them) into ``out_path``, watermarked.

    Returns the page count. Document-level JavaScript, OpenAction and attachments are not carried
    over (only pages, outlines and page labels are copied), which suits a read-only briefing copy.
    One blob of a ``BlobStore`` (a reader's copy of a stored document) is stamped from its prepared
    copy, which is made on the way if it is missing.
    """
    return stamp_copy(sources, out_path, watermark, progress).page_count


def stamp_pdf_isolated(sources: Sequence[str | os.PathLike[str]], out_path: str | os.PathLike[str],
                       watermark: Watermark, *, timeout_s: float = 60.0, memory_bytes: int = 1024 * MiB) -> int:
    """``stamp_pdf`` in a limited child process: what the web process (gevent) calls for a download."""
    from ecabinet.documents.pdfworker import run_in_child

    result = run_in_child(
        {"op": "stamp", "sources": [str(Path(s).resolve()) for s in _as_list(sources)],
         "out_path": str(Path(out_path).resolve()), "watermark": watermark.to_json()},
        timeout_s=timeout_s, memory_bytes=memory_bytes)
    if result.get("fast") is False and len(_as_list(sources)) == 1 and BlobStore.holding(_as_list(sources)[0]):
        # The child logs nothing (its log level is CRITICAL): say here why a download was slow.
        log.warning("watermarked copy of %s made through pypdf: %s", sources, result.get("note"))
    return int(result["page_count"])


def prepare_isolated(blob_path: str | os.PathLike[str], *, timeout_s: float = 60.0,
                     memory_bytes: int = 1024 * MiB) -> bool:
    """Make the prepared copy of a stored blob in a limited child process, right after intake.

    Best effort: False (logged) if it could not be made; the first reader's copy then makes it.
    """
    from ecabinet.documents.intake import IntakeError
    from ecabinet.documents.pdfworker import run_in_child

    try:
        run_in_child({"op": "prepare", "path": str(Path(blob_path).resolve())},
                     timeout_s=timeout_s, memory_bytes=memory_bytes)
    except IntakeError as exc:
        log.warning("prepared copy of %s not made: %s", blob_path, exc.code)
        return False
    return True
