"""A reader's watermarked copy of one stored document: its prepared copy stamped through pikepdf (qpdf).

``stamp_copy`` (``stamp_pdf``) is the entry point: one blob of a ``BlobStore`` is stamped here from its
prepared copy; anything else (several sources, a PdfReader, a file outside the store, a prepared copy
that qpdf cannot read cleanly) goes through pypdf (``stamping.stamp_with_pypdf``). In the web process
call ``stamp_pdf_isolated``: the copy is made in a long-lived limited worker (``pool``).

Every reader's copy of a document version starts from the same thing: the pages, outline and page
labels that pypdf's ``PdfWriter.append`` keeps of the original. That part does not depend on the
reader, so it is done once per version:

- the **prepared copy** is what ``stamp_pdf`` always kept, written by pypdf, with page boxes that every
  reader can use (``normalise_boxes``: a null /CropBox or a 10^12-unit /MediaBox is repaired). It lives beside the
  blobs, content-addressed (``<STORAGE_DIR>/prepared/v1/ab/cdef....pdf``), is written atomically,
  carries the digest of its source in its /Info (checked before use) and is never served to anyone.
  It is made right after intake (``prepare_isolated``) or, for documents stored before, by the first
  copy that needs it. Measured against stamping the original through pikepdf directly (the catalog
  cut down to the same parts), it makes each copy 1.3-1.5x faster, and qpdf in a long-lived worker
  then only ever parses files pypdf wrote;
- a **reader's copy** is the prepared copy opened by qpdf (no recovery: a damaged prepared copy is
  not used), each page given the two watermark forms in its resources and its content wrapped in a
  "q" push and the placement stream (``stamping``'s overlay and maths, shared with the pypdf path),
  actions that run code or open other files removed from pages, annotations and the catalog, a new
  /Info, and written by qpdf as a new complete file (not an incremental update, which anyone could
  cut back off by truncation) with a fresh /ID.

Intake proves that a copy can be made before it accepts a file (``prove_copy``): the same steps, in
memory, in intake's limited child.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from ecabinet.pdf.errors import IntakeError
from ecabinet.pdf.geometry import INNER_BOXES, Box, Geometry, normalise_geometry, repair_inner_box, repair_media_box
from ecabinet.pdf.limits import MiB, Progress
from ecabinet.pdf.pool import DEFAULT_MEMORY_BYTES, run_pooled
from ecabinet.pdf.sandbox import run_in_child
from ecabinet.pdf.stamping import (
    PUSH_OPS,
    Watermark,
    append_kept,
    apply_watermark,
    build_overlay,
    placement_ops,
    stamp_names,
    write_atomically,
    write_file_atomically,
)
from ecabinet.pdf.storage import BlobStore

# Bump when what a prepared copy holds changes: old ones are then simply not found (and re-made).
# v2: page boxes normalised.
FORMAT = "v2"
PREPARED_KEY = "/ECabinetPrepared"
# Actions a reader's copy does not carry (intake flags the same ones on the original).
REMOVED_ACTIONS = frozenset({"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE",
                             "/Rendition", "/RichMediaExecute"})
# What a reader's copy keeps of the prepared copy's catalog (pypdf's append writes no more than these).
KEPT_CATALOG_KEYS = ("/Type", "/Pages", "/Outlines", "/PageLabels", "/Dests", "/Names", "/PageMode", "/PageLayout",
                     "/ViewerPreferences", "/Lang")
# What qpdf says of a valid file while it walks the page tree (a page without /Resources gets an empty
# one): not damage. Any other warning is, and the copy is then made through pypdf.
BENIGN_WARNINGS = ("Resources is missing or invalid",)
# pypdf refuses a stream whose declared /Length passes 75 MB. It reads a whole file into memory first, so a
# wrong /Length (shown by every reader) cannot make it read more than the file holds: let it recover instead.
MAX_DECLARED_LENGTH = 1 << 62
log = logging.getLogger(__name__)


class Unsupported(ValueError):
    """The prepared copy is not as expected: make the copy through pypdf instead."""


# --- what pypdf reads and writes for a copy -----------------------------------------------------

@contextmanager
def lenient_lengths() -> Iterator[None]:
    """Read streams whatever their declared /Length says (see MAX_DECLARED_LENGTH); other limits stay as set."""
    import pypdf

    with pypdf.apply_configuration(maximum_declared_stream_length=MAX_DECLARED_LENGTH):
        yield


def _numbers(value: Any) -> list[Any] | None:
    """A box entry's items, each resolved (an array and its numbers may be indirect objects)."""
    if value is None:
        return None
    value = value.get_object() if hasattr(value, "get_object") else value
    if not isinstance(value, list):
        return None
    return [item.get_object() if hasattr(item, "get_object") else item for item in value]


def _box_array(box: Box) -> Any:
    from pypdf.generic import ArrayObject, FloatObject, NumberObject

    return ArrayObject(NumberObject(int(v)) if float(v).is_integer() else FloatObject(v) for v in box)


def _same(items: list[Any] | None, box: Box) -> bool:
    try:
        return items is not None and [float(v) for v in items] == list(box)
    except (TypeError, ValueError):
        return False


def normalise_boxes(page: Any) -> bool:
    """Give a pypdf page boxes that readers, qpdf and the stamp's placement can use; True if any changed.

    A null, malformed or inverted box, or one outside the media box, is what readers silently work around
    and what made copies fail. The /MediaBox is repaired (``repair_media_box``); a /CropBox, /BleedBox,
    /TrimBox or /ArtBox is cut to it, or dropped (it then defaults to the media box). Boxes already
    right are left as they are.
    """
    from pypdf.generic import NameObject

    changed = False
    raw = _numbers(page.get("/MediaBox"))
    media = repair_media_box(raw)
    if not _same(raw, media):
        page[NameObject("/MediaBox")] = _box_array(media)
        changed = True
    for key in INNER_BOXES:
        if key not in page:
            continue
        raw = _numbers(page.get(key))
        box = repair_inner_box(raw, media)
        if box is None:
            del page[key]
            changed = True
        elif not _same(raw, box):
            page[NameObject(key)] = _box_array(box)
            changed = True
    return changed


def _write_pypdf(writer: Any, out: str | os.PathLike[str] | IO[bytes]) -> None:
    if isinstance(out, str | os.PathLike):
        write_atomically(writer, out)
    else:
        writer.write(out)


# --- the prepared copy --------------------------------------------------------------------------

def prepared_location(source: str | Path) -> tuple[str, Path] | None:
    """(digest, prepared copy path) of a blob of a ``BlobStore``; None for any other file."""
    return _prepared_location(str(source))


@lru_cache(maxsize=4096)
def _prepared_location(source: str) -> tuple[str, Path] | None:
    held = BlobStore.holding(source)
    if held is None:
        return None
    store, digest = held
    return digest, store.prepared_path(digest, FORMAT)


def prepare(source: Any, sha256: str, prepared: Path | IO[bytes]) -> int:
    """Write the prepared copy of ``source`` (a blob whose digest is ``sha256``, or a PdfReader of it) to a path
    or a file object; return its page count."""
    from pypdf import PdfWriter

    with lenient_lengths():
        writer = PdfWriter()
        append_kept(writer, source, labels=True)
        for page in writer.pages:
            normalise_boxes(page)
        writer.add_metadata({"/Producer": "e-Cabinet", PREPARED_KEY: f"{FORMAT}:{sha256}"})
        if isinstance(prepared, Path):
            prepared.parent.mkdir(parents=True, exist_ok=True)
        _write_pypdf(writer, prepared)
        return len(writer.pages)


def ensure_prepared(source: str | Path) -> Path | None:
    """The prepared copy of a blob, made now if missing; None if ``source`` is not a blob."""
    located = prepared_location(source)
    if located is None:
        return None
    digest, prepared = located
    if not prepared.is_file():
        prepare(source, digest, prepared)
    return prepared


def stamp_stored(source: str | Path, out_path: str | Path, watermark: Watermark) -> tuple[int | None, str]:
    """Stamp a blob from its prepared copy: (page count, "") or (None, why not) for the caller to use pypdf.

    (None, "") means ``source`` is not a blob of a ``BlobStore``: there is no prepared copy to use.
    """
    located = prepared_location(source)
    if located is None:
        return None, ""
    digest, prepared = located
    try:
        ensure_prepared(source)
        return stamp_prepared(prepared, out_path, watermark, digest), ""
    except MemoryError:
        raise
    except Unsupported as exc:
        return None, f"prepared copy {prepared.name}: {exc}"
    except Exception as exc:  # noqa: BLE001 - whatever went wrong here, pypdf can still make the copy
        log.warning("copy of %s from its prepared copy failed", source, exc_info=True)
        return None, f"{type(exc).__name__}: {exc}"


# --- the reader's copy, through pikepdf ---------------------------------------------------------

@lru_cache(maxsize=1)
def _pikepdf() -> Any:
    """pikepdf, imported on first use (the engine's modules import no heavy library at import time)."""
    import warnings

    import pikepdf

    # Widgets without an /AcroForm are how pypdf's append leaves form fields: shown as drawn, not an error.
    category = getattr(pikepdf, "PageCopyWarning", None) or getattr(pikepdf.exceptions, "PageCopyWarning", None)
    if category is not None:
        warnings.filterwarnings("ignore", category=category)
    return pikepdf


def _remove_catalog_actions(pdf: Any, pikepdf: Any) -> None:
    """Keep only what a copy needs of the catalog (no /OpenAction, /AA, /AcroForm, scripts or attachments)."""
    root = pdf.Root
    for key in list(root.keys()):
        if key not in KEPT_CATALOG_KEYS:
            del root[key]
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        for key in list(names.keys()):
            if key != "/Dests":
                del names[key]


def _remove_page_actions(page: Any, pikepdf: Any) -> None:
    """Drop the page's own actions and those of its annotations that run code or open other files."""
    if "/AA" in page:
        del page["/AA"]
    annots = page.get("/Annots")
    if not isinstance(annots, pikepdf.Array):
        return
    for annot in annots:
        if not isinstance(annot, pikepdf.Dictionary):
            continue
        if "/AA" in annot:
            del annot["/AA"]
        action = annot.get("/A")
        if isinstance(action, pikepdf.Dictionary) and (action.get("/S") in REMOVED_ACTIONS or "/Next" in action):
            del annot["/A"]


def qpdf_geometry(page: Any) -> Geometry:
    """(rotation, x0, y0, x1, y1) of the visible area of a pikepdf page: its crop box (or media box), normalised."""
    rotate = page.obj.get("/Rotate", 0)
    return normalise_geometry(int(rotate) if isinstance(rotate, int | float) else 0, [float(v) for v in page.cropbox])


def stamp_prepared(prepared: str | Path | IO[bytes], out_path: str | Path | IO[bytes], watermark: Watermark,
                   sha256: str) -> int:
    """Write ``out_path`` (a path, written atomically, or a file object): the prepared copy of blob ``sha256``
    (a path or a file object) with ``watermark`` on every page."""
    pikepdf = _pikepdf()
    try:
        pdf = pikepdf.open(prepared, attempt_recovery=False)
    except pikepdf.PdfError as exc:
        raise Unsupported(f"qpdf cannot read it: {exc}") from exc
    with pdf:
        info = pdf.trailer.get("/Info")
        marker = info.get(PREPARED_KEY) if isinstance(info, pikepdf.Dictionary) else None
        if marker is None or str(marker) != f"{FORMAT}:{sha256}":
            raise Unsupported("it was not made from this blob in this format")
        overlay = build_overlay(watermark)
        footer_name, diagonal_name = stamp_names()
        with pikepdf.open(io.BytesIO(overlay.as_pdf())) as forms:
            # One foreign file for both forms: qpdf copies their shared font once.
            footer = pdf.copy_foreign(forms.get_object(overlay.footer, 0))
            diagonal = pdf.copy_foreign(forms.get_object(overlay.diagonal, 0))
            push = pdf.make_stream(PUSH_OPS)
            placements: dict[Geometry, Any] = {}
            footer_key, diagonal_key = pikepdf.Name(footer_name), pikepdf.Name(diagonal_name)
            done: set[tuple[int, int]] = set()  # shared (indirect) XObject dictionaries already given both forms
            for page in pdf.pages:
                geometry = qpdf_geometry(page)
                if geometry not in placements:
                    placements[geometry] = pdf.make_stream(
                        placement_ops(geometry, overlay, footer_name, diagonal_name))
                obj = page.obj
                # pikepdf's add_resource does the same with more checks, at ~4x the cost per page.
                resources = obj.get("/Resources")
                if not isinstance(resources, pikepdf.Dictionary):
                    resources = obj.Resources = pikepdf.Dictionary()
                xobjects = resources.get("/XObject")
                if not isinstance(xobjects, pikepdf.Dictionary):
                    xobjects = resources.XObject = pikepdf.Dictionary()
                shared = xobjects.objgen
                if shared == (0, 0) or shared not in done:
                    xobjects[footer_key] = footer
                    xobjects[diagonal_key] = diagonal
                    done.add(shared)
                page.contents_add(push, prepend=True)
                page.contents_add(placements[geometry], prepend=False)
                _remove_page_actions(obj, pikepdf)
            _remove_catalog_actions(pdf, pikepdf)
            pdf.trailer.Info = pdf.make_indirect(pikepdf.Dictionary(
                Producer="e-Cabinet", ECabinetCopy=watermark.copy_code))
            count = len(pdf.pages)

            def write(fh: IO[bytes]) -> None:
                # Streams are copied as they are (the overlay's own are compressed already).
                pdf.save(fh, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none,
                         fix_metadata_version=False, object_stream_mode=pikepdf.ObjectStreamMode.preserve)
                damage = [w for w in pdf.get_warnings() if not any(b in w for b in BENIGN_WARNINGS)]
                if damage:  # qpdf read around damage: this prepared copy is not trusted for a copy
                    raise Unsupported(f"qpdf: {damage[0]}")

            if isinstance(out_path, str | os.PathLike):
                write_file_atomically(out_path, write)
            else:
                write(out_path)
    return count


# --- the entry points: a reader's copy, here or through pypdf; in a pooled worker ---------------

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
        count, fallback = stamp_stored(items[0], out_path, watermark)
        if count is not None:
            if progress:
                progress(count, count)
            return StampResult(count, True)
        if fallback:
            log.warning("watermarked copy of %s made through pypdf: %s", items[0], fallback)
            note = fallback
    return StampResult(stamp_through_pypdf(items, out_path, watermark, progress), False, note)


def stamp_through_pypdf(sources: list[Any], out: str | os.PathLike[str] | IO[bytes], watermark: Watermark,
                        progress: Progress | None = None) -> int:
    """``stamping.stamp_with_pypdf`` with the prepared copy's repairs (boxes, stream lengths): concatenate
    ``sources`` (paths or PdfReaders) into ``out`` (a path or a file object), watermarked; return the page count."""
    from pypdf import PdfWriter

    with lenient_lengths():
        writer = PdfWriter()
        for source in sources:
            append_kept(writer, source, labels=len(sources) == 1)
        for page in writer.pages:
            normalise_boxes(page)
        count = apply_watermark(writer, watermark, progress=progress)
        writer.add_metadata({"/Producer": "e-Cabinet", "/ECabinetCopy": watermark.copy_code})
        _write_pypdf(writer, out)
    return count


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
                       watermark: Watermark, *, timeout_s: float = 60.0,
                       memory_bytes: int = DEFAULT_MEMORY_BYTES) -> int:
    """``stamp_pdf`` in a limited worker of this process's pool: what the web process (gevent) calls for a
    download. Other memory limits than the pool's get a fresh child instead."""
    result = run_pooled(
        {"op": "stamp", "sources": [str(Path(s).resolve()) for s in _as_list(sources)],
         "out_path": str(Path(out_path).resolve()), "watermark": watermark.to_json()},
        timeout_s=timeout_s, memory_bytes=memory_bytes)
    if result.get("fast") is False and len(_as_list(sources)) == 1 and BlobStore.holding(_as_list(sources)[0]):
        # The worker logs nothing (its log level is CRITICAL): say here why a download was slow.
        log.warning("watermarked copy of %s made through pypdf: %s", sources, result.get("note"))
    return int(result["page_count"])


def annotate_isolated(source: str | os.PathLike[str], out_path: str | os.PathLike[str], marks: list[dict[str, Any]],
                      author: str, *, timeout_s: float = 60.0) -> int:
    """A reader's copy (``source``, already stamped) with their annotations written in, by a worker of
    this process's pool. Returns how many marks were written."""
    result = run_pooled({"op": "annotate", "source": str(Path(source).resolve()),
                         "out_path": str(Path(out_path).resolve()), "marks": marks, "author": author},
                        timeout_s=timeout_s, memory_bytes=DEFAULT_MEMORY_BYTES)
    return int(result["written"])


def prepare_isolated(blob_path: str | os.PathLike[str], *, timeout_s: float = 60.0,
                     memory_bytes: int = 1024 * MiB) -> bool:
    """Make the prepared copy of a stored blob in a fresh limited child process, right after intake.

    Best effort: False (logged) if it could not be made; the first reader's copy then makes it.
    """
    try:
        run_in_child({"op": "prepare", "path": str(Path(blob_path).resolve())},
                     timeout_s=timeout_s, memory_bytes=memory_bytes)
    except IntakeError as exc:
        log.warning("prepared copy of %s not made: %s", blob_path, exc.code)
        return False
    return True


# --- intake's proof that readers' copies can be made ---------------------------------------------

# Who the proof copy is for: diacritics, so that the font subset a real copy needs is made too.
PROOF_WATERMARK = Watermark(name="Bản kiểm tra", organisation="e-Cabinet", time_text="", copy_code="KIEMTRA")


class _Discard(io.RawIOBase):
    """Where the proof copy is written: bytes are counted, not kept (intake's child may write no file)."""

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        size = memoryview(data).nbytes
        self.size += size
        return size

    def tell(self) -> int:  # pypdf records object offsets as it writes
        return self.size


def prove_copy(reader: Any, sha256: str) -> StampResult:
    """Make one reader's copy of an upload (a PdfReader of it, digest ``sha256``) in memory, the way
    ``stamp_copy`` will: its prepared copy stamped through pikepdf or, if that fails, through pypdf.

    Returns how it was made; raises what stopped the pypdf way (then no reader could get a copy).
    """
    note = ""
    try:
        with io.BytesIO() as prepared:
            prepare(reader, sha256, prepared)
            prepared.seek(0)
            return StampResult(stamp_prepared(prepared, _Discard(), PROOF_WATERMARK, sha256), True)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - as in stamp_stored: pypdf may still make the copy
        note = f"{type(exc).__name__}: {exc}"
    return StampResult(stamp_through_pypdf([reader], _Discard(), PROOF_WATERMARK), False, note)
