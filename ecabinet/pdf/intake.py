"""Intake of uploaded PDFs: validate in a separate, resource-limited process and describe the file.

pypdf has had a long run of denial-of-service advisories, and the web server is a single gevent
event loop: one CPU-bound parse freezes every socket. So the parse never runs there. ``inspect_pdf``
runs ``inspect_in_process`` in the worker child (``sandbox.run_in_child``) with a memory limit
(RLIMIT_AS), a CPU limit (RLIMIT_CPU) and a wall-clock deadline after which it is killed; waiting
for it through ``subprocess`` is cooperative under gevent's monkey-patching.

A file is accepted only if a reader's watermarked copy can be made of it: the child makes one, in
memory, the way readers' copies are made (``copies.prove_copy``). Refusals name their true cause:
what common readers (pypdf, poppler) read is accepted, e.g. bytes after the last ``%%EOF`` or a
stream whose /Length is wrong.

pypdf and pikepdf are imported only inside the inspection, so the calling process stays lean.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ecabinet.pdf.errors import IntakeError
from ecabinet.pdf.limits import MAGIC_WINDOW, PDF_MAGIC, IntakeLimits, MiB
from ecabinet.pdf.sandbox import run_in_child


@dataclass
class PdfInfo:
    """What intake learned about an accepted PDF."""

    sha256: str
    size: int
    page_count: int
    title: str
    pdf_version: str
    page_texts: list[str] = field(default_factory=list)
    # The document information's /Title alone ("" without one); ``title`` falls back to the first line.
    metadata_title: str = ""
    text_truncated: bool = False
    # Accepted but flagged: 'JavaScript', 'Launch', 'OpenAction', 'SubmitForm', 'ImportData', 'GoToR',
    # 'GoToE', 'Rendition', 'RichMedia', 'XFA', 'EmbeddedFile', 'Polyglot' (HTML or junk before %PDF-).
    active_content: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """All extracted text; pages are separated by form feeds so a hit can be mapped to its page."""
        return "\f".join(self.page_texts)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PdfInfo:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def precheck(path: str | os.PathLike[str], limits: IntakeLimits) -> int:
    """The cheap checks (size and magic bytes) that need no parser; returns the file size.

    Done in the caller's process too, so that an empty or non-PDF file costs no child process.
    """
    size = os.stat(path).st_size
    if size == 0:
        raise IntakeError.of("empty")
    if size > limits.max_bytes:
        raise IntakeError.of("too_large", max_mb=limits.max_bytes // MiB)
    with open(path, "rb") as fh:
        head = fh.read(MAGIC_WINDOW + len(PDF_MAGIC))
    if head.find(PDF_MAGIC, 0, MAGIC_WINDOW + len(PDF_MAGIC) - 1) < 0:
        raise IntakeError.of("not_pdf")
    return size


def inspect_pdf(path: str | os.PathLike[str], limits: IntakeLimits | None = None) -> PdfInfo:
    """Validate the PDF at ``path`` in a limited child process; return its PdfInfo or raise IntakeError.

    Cooperative under gevent (the wait is on a pipe and a child process), blocking elsewhere.
    """
    limits = limits or IntakeLimits()
    precheck(path, limits)
    result = run_in_child(
        {"op": "inspect", "path": str(Path(path).resolve()), "limits": limits.to_json()},
        timeout_s=limits.timeout_s, memory_bytes=limits.memory_bytes, memory_mb_hint=limits.memory_bytes // MiB)
    return PdfInfo.from_json(result)


# --- the inspection itself (in the limited child only: imports pypdf) -----------------------------

# Actions that run code, open other files or send data somewhere: accepted, but flagged.
FLAGGED_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/Rendition",
                   "/RichMediaExecute"}
_HTML_RE = re.compile(rb"<\s*(?:!doctype\s+html|html|script|body|iframe|svg|object|embed)\b", re.IGNORECASE)
_MAX_SCAN_DEPTH = 12
# What pypdf says when decoded data would pass a limit: what a decompression bomb makes it say. Its other
# limits (a declared /Length, counts of entries, cycles) say nothing about expansion.
_EXPANSION_WORDS = ("decompress", "decoding", "output", "image size", "array-based stream", "jbig2")
# What begins another revision of the file (an incremental update): after the last %%EOF, it was cut off.
_REVISION_RE = re.compile(rb"\d+\s+\d+\s+obj\b|\bxref\b|\btrailer\b|\bstartxref\b")


def _classify_read_error(exc: BaseException, limits: IntakeLimits) -> IntakeError:
    from pypdf.errors import LimitReachedError, PyPdfError

    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, LimitReachedError) and any(word in lowered for word in _EXPANSION_WORDS):
        return IntakeError.of("decompression_bomb", max_mb=limits.max_stream_bytes // MiB)
    if isinstance(exc, RecursionError) or "xref" in lowered or "startxref" in lowered or "loop" in lowered \
            or "trailer" in lowered:
        return IntakeError.of("damaged_xref")
    # pypdf's own messages name the problem; a bare Python error from deep inside it would not help.
    detail = text[:200] if isinstance(exc, PyPdfError) and text else "its structure is inconsistent"
    return IntakeError.of("damaged", detail=detail)


def _count_pages(reader: Any, limits: IntakeLimits) -> int:
    """Walk the page tree ourselves, stopping as soon as it holds more than max_pages leaves.

    A crafted file can list 100,000 pages (or one page object 100,000 times); pypdf would flatten
    them all before we could count them. Intermediate nodes are remembered to refuse loops.
    """
    from pypdf.generic import ArrayObject, DictionaryObject

    root = reader.trailer.get("/Root")
    root = root.get_object() if root is not None else None
    if not isinstance(root, DictionaryObject):
        # Without a catalog nothing can be located: the xref is broken beyond pypdf's repair.
        raise IntakeError.of("damaged_xref")
    pages = root.get("/Pages")
    if pages is None:
        raise IntakeError.of("damaged", detail="no page tree")
    stack = [(pages, 0)]
    seen_nodes: set[int] = set()
    count = 0
    while stack:
        ref, depth = stack.pop()
        node = ref.get_object()
        if not isinstance(node, DictionaryObject):
            continue
        kids = node.get("/Kids")
        if node.get("/Type") == "/Pages" or (kids is not None and node.get("/Type") != "/Page"):
            key = id(node) if not hasattr(ref, "idnum") else ref.idnum
            if key in seen_nodes or depth > 64:
                raise IntakeError.of("damaged", detail="the page tree loops on itself")
            seen_nodes.add(key)
            kids = kids.get_object() if kids is not None else ArrayObject()
            if isinstance(kids, ArrayObject):
                stack.extend((kid, depth + 1) for kid in reversed(kids))
        else:
            count += 1
            if count > limits.max_pages:
                raise IntakeError.of("too_many_pages", max_pages=limits.max_pages)
    return count


def _scan_active_content(reader: Any) -> list[str]:
    """Look at every object in the file for actions and embedded payloads, wherever they hang."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    found: set[str] = set()

    def visit(obj: Any, depth: int) -> None:
        if depth > _MAX_SCAN_DEPTH:
            return
        if isinstance(obj, DictionaryObject):
            action = obj.get("/S")
            if action in FLAGGED_ACTIONS:
                found.add("RichMedia" if action == "/RichMediaExecute" else str(action)[1:])
            if "/JS" in obj:
                found.add("JavaScript")
            if "/XFA" in obj:
                found.add("XFA")
            if obj.get("/Type") == "/EmbeddedFile" or "/EF" in obj:
                found.add("EmbeddedFile")
            if obj.get("/Subtype") == "/RichMedia":
                found.add("RichMedia")
            for key, value in obj.items():
                if not isinstance(value, IndirectObject) and key not in ("/Parent", "/P"):
                    visit(value, depth + 1)
        elif isinstance(obj, ArrayObject):
            for value in obj:
                if not isinstance(value, IndirectObject):
                    visit(value, depth + 1)

    numbers: set[tuple[int, int]] = set()
    for generation, entries in reader.xref.items():
        numbers.update((idnum, generation) for idnum in entries)
    numbers.update((idnum, 0) for idnum in reader.xref_objStm)
    for idnum, generation in sorted(numbers):
        try:
            obj = reader.get_object(IndirectObject(idnum, generation, reader))
        except Exception:  # noqa: BLE001, S112 - an unreadable object cannot carry an action
            continue
        visit(obj, 0)

    root = reader.trailer["/Root"].get_object()
    open_action = root.get("/OpenAction")
    if open_action is not None:
        open_action = open_action.get_object()
        # A destination array ([page /Fit]) only says where to open; an action dictionary does something.
        if isinstance(open_action, DictionaryObject) and open_action.get("/S") not in (None, "/GoTo"):
            found.add("OpenAction")
    names = root.get("/Names")
    if names is not None:
        names = names.get_object()
        if isinstance(names, DictionaryObject):
            if "/JavaScript" in names:
                found.add("JavaScript")
            if "/EmbeddedFiles" in names:
                found.add("EmbeddedFile")
    return sorted(found)


def _clean_line(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]


def _metadata_title(reader: Any) -> str:
    try:
        meta = reader.metadata
        title = meta.title if meta is not None else None
    except Exception:  # noqa: BLE001 - broken metadata must not refuse a readable document
        title = None
    return _clean_line(title, 300) if isinstance(title, str) and title.strip() else ""


def _title(reader: Any, page_texts: list[str]) -> str:
    title = _metadata_title(reader)
    if title:
        return title
    for text in page_texts:
        for line in text.splitlines():
            if line.strip():
                return _clean_line(line, 300)
    return ""


def _page_text(page: Any, limits: IntakeLimits, budget: dict[str, int]) -> str:
    """Extract one page's text after checking what its content streams decode to."""
    from pypdf.generic import ArrayObject, StreamObject

    contents = page.get("/Contents")
    streams = []
    if contents is not None:
        contents = contents.get_object()
        streams = [c.get_object() for c in contents] if isinstance(contents, ArrayObject) else [contents]
    for stream in streams:
        if not isinstance(stream, StreamObject):
            continue
        decoded = len(stream.get_data())  # cached by pypdf, reused by extract_text below
        budget["decoded"] += decoded
        if decoded > limits.max_stream_bytes or budget["decoded"] > limits.max_decoded_bytes:
            raise IntakeError.of("decompression_bomb", max_mb=max(decoded, budget["decoded"]) // MiB)
    return page.extract_text() or ""


def _is_truncated(data: bytes) -> bool:
    """True if the file was cut off: no %%EOF at all, or a revision begun after the last one.

    Bytes after the last %%EOF that begin nothing (padding, a mail gateway's junk) are ignored by every
    reader, so they are not a reason to refuse.
    """
    end = data.rfind(b"%%EOF")
    return end < 0 or _REVISION_RE.search(data, end + 5) is not None


def _prove_copy(reader: Any, sha256: str, limits: IntakeLimits) -> None:
    """Refuse the file, with what stopped it, unless a reader's watermarked copy of it can be made."""
    from pypdf.errors import LimitReachedError

    from ecabinet.pdf.copies import prove_copy

    try:
        prove_copy(reader, sha256)
    except (IntakeError, MemoryError):
        raise
    except LimitReachedError as exc:
        raise _classify_read_error(exc, limits) from exc
    except Exception as exc:  # noqa: BLE001 - whatever it is, no reader would get a copy
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise IntakeError.of("uncopyable", detail=detail) from exc


def inspect_in_process(path: str, limits: IntakeLimits) -> PdfInfo:
    """The whole inspection; run only inside the limited child (the worker's ``inspect``)."""
    import io

    import pypdf
    from pypdf.errors import LimitReachedError, PyPdfError

    from ecabinet.pdf.copies import MAX_DECLARED_LENGTH

    started = time.monotonic()
    with open(path, "rb") as fh:
        data = fh.read(limits.max_bytes + 1)
    size = len(data)
    if size == 0:
        raise IntakeError.of("empty")
    if size > limits.max_bytes:
        raise IntakeError.of("too_large", max_mb=limits.max_bytes // MiB)
    offset = data.find(PDF_MAGIC, 0, MAGIC_WINDOW + len(PDF_MAGIC) - 1)
    if offset < 0:
        raise IntakeError.of("not_pdf")
    if _is_truncated(data):
        raise IntakeError.of("truncated")
    flags: set[str] = set()
    # Bytes before the header, or HTML markup anywhere, make a file that a browser could sniff as HTML.
    if offset > 0 or _HTML_RE.search(data):
        flags.add("Polyglot")
    version = data[offset + 5: offset + 8].decode("latin-1", "replace")
    sha256 = hashlib.sha256(data).hexdigest()

    stream_limit = limits.max_stream_bytes
    pypdf.overwrite_configuration(
        zlib_maximum_output_length=stream_limit, lzw_maximum_output_length=stream_limit,
        run_length_maximum_output_length=stream_limit, brotli_maximum_output_length=stream_limit,
        array_based_stream_maximum_output_length=stream_limit, jbig2_maximum_output_length=stream_limit,
        image_maximum_buffer_size=stream_limit, stream_decoding_work_maximum_length=4 * stream_limit,
        page_tree_maximum_entries=limits.max_pages + 1, jbig2dec_binary=None, disable_legacy_handling=True,
        # The file is read from memory: a wrong /Length cannot make pypdf read more than it holds.
        maximum_declared_stream_length=MAX_DECLARED_LENGTH)
    try:
        # Offsets in a file with bytes before its header count from the header (as Acrobat reads them).
        reader = pypdf.PdfReader(io.BytesIO(data[offset:] if offset else data), strict=False)
        if reader.is_encrypted:
            raise IntakeError.of("encrypted")
        count = _count_pages(reader, limits)
        page_count = len(reader.pages)
        if page_count > limits.max_pages:
            raise IntakeError.of("too_many_pages", max_pages=limits.max_pages)
        if page_count == 0 or count == 0:
            raise IntakeError.of("damaged", detail="no pages")
        flags.update(_scan_active_content(reader))
    except (IntakeError, MemoryError):
        raise
    except LimitReachedError as exc:
        if "page" in str(exc).lower() and "tree" in str(exc).lower():
            raise IntakeError.of("too_many_pages", max_pages=limits.max_pages) from exc
        raise _classify_read_error(exc, limits) from exc
    except (PyPdfError, RecursionError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            OSError, AssertionError) as exc:
        raise _classify_read_error(exc, limits) from exc
    finally:
        del data
    # Before the text: a file no reader can get a copy of is refused whatever its text.
    _prove_copy(reader, sha256, limits)

    # Text is a convenience for search: it is bounded in size and time, and a page whose text cannot
    # be extracted (odd fonts) does not refuse a document that displays fine.
    page_texts: list[str] = []
    truncated = False
    total = 0
    budget = {"decoded": 0}
    deadline = started + limits.timeout_s * limits.text_time_share
    for page in reader.pages:
        if total >= limits.max_text_chars or time.monotonic() > deadline:
            truncated = True
            break
        try:
            text = _page_text(page, limits, budget)
        except (IntakeError, MemoryError):
            raise
        except LimitReachedError as exc:
            raise IntakeError.of("decompression_bomb", max_mb=limits.max_stream_bytes // MiB) from exc
        except Exception:  # noqa: BLE001 - see above: text is best-effort
            text = ""
        if len(text) > limits.max_text_chars_per_page:
            text, truncated = text[: limits.max_text_chars_per_page], True
        if total + len(text) > limits.max_text_chars:
            text, truncated = text[: limits.max_text_chars - total], True
        total += len(text)
        page_texts.append(text)

    return PdfInfo(sha256=sha256, size=size, page_count=page_count, title=_title(reader, page_texts),
                   pdf_version=version, page_texts=page_texts, text_truncated=truncated,
                   active_content=sorted(flags), metadata_title=_metadata_title(reader))
