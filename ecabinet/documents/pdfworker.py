"""The process boundary for all pypdf work on untrusted or heavy PDFs.

Parent side: ``run_in_child(request, ...)`` starts ``python -m ecabinet.documents.pdfworker``,
writes one JSON request to its stdin and reads JSON lines from its stdout (progress lines, then
one result line), killing it at the wall-clock deadline.

Child side: ``main()`` first lowers its own resource limits (address space, CPU seconds, file size,
core dumps), only then imports pypdf and touches the file. Setting the limits in the child itself
avoids ``preexec_fn``, which is unsafe in a threaded or gevent-patched parent.

Operations: ``inspect`` (intake), ``stamp`` (per-reader watermark), ``prepare`` (the prepared copy a
stored document's watermarked copies are made from: ``fastcopy``), ``boardbook``, ``locate`` (where a
quoted passage is drawn on a page: ``textpos``).
"""

from __future__ import annotations

import os
import sys
import types

if __name__ == "__main__" and "ecabinet" not in sys.modules:
    # run_in_child runs this file as a script. ecabinet/__init__.py builds the web app (Flask,
    # SQLAlchemy, Socket.IO: most of a second to import); a bare package object lets the child import
    # just ecabinet.core.errors and ecabinet.documents.* without it.
    _package = types.ModuleType("ecabinet")
    _package.__path__ = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
    sys.modules["ecabinet"] = _package

import hashlib
import json
import logging
import math
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from ecabinet.documents.intake import MAGIC_WINDOW, PDF_MAGIC, IntakeError, IntakeLimits, MiB

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER_SCRIPT = os.path.abspath(__file__)
Progress = Callable[[int, int], None]


# --- parent side ---------------------------------------------------------------------------------

def _child_env() -> dict[str, str]:
    # A clean environment: the child needs no secrets, database URLs or proxies of the web process.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": PROJECT_DIR,
           "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1"}
    for name in ("ECABINET_PDF_FONT", "ECABINET_PDF_FONT_BOLD", "TMPDIR"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def run_in_child(request: dict[str, Any], *, timeout_s: float, memory_bytes: int, memory_mb_hint: int | None = None,
                 progress: Progress | None = None) -> dict[str, Any]:
    """Run one request in a fresh limited child; return its result or raise IntakeError.

    Under gevent's monkey-patching, ``subprocess`` pipes, ``threading.Timer`` and ``wait`` are all
    cooperative, so the event loop keeps serving while the child works.
    """
    request = {**request, "rlimits": {"cpu_s": math.ceil(timeout_s) + 1, "as_bytes": memory_bytes}}
    killed = threading.Event()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own module
            [sys.executable, "-P", WORKER_SCRIPT], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=err, cwd=PROJECT_DIR, env=_child_env(), close_fds=True)

        def kill() -> None:
            killed.set()
            proc.kill()

        timer = threading.Timer(timeout_s, kill)
        timer.daemon = True
        timer.start()
        result: dict[str, Any] | None = None
        try:
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps(request).encode())
                proc.stdin.close()
            except BrokenPipeError:
                pass
            for line in proc.stdout:
                message = json.loads(line)
                if "progress" in message:
                    if progress:
                        progress(*message["progress"])
                else:
                    result = message
            proc.wait()
        except (ValueError, OSError):
            proc.kill()
            proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        stderr = err.read()[-65536:].decode("utf-8", "replace")

    mb = memory_mb_hint or memory_bytes // MiB
    if killed.is_set() or proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise IntakeError.of("timeout", seconds=int(timeout_s))
    if result is not None and result.get("ok"):
        return result["result"]
    if result is not None:
        code = result.get("code", "failed")
        if code == "memory":
            raise IntakeError.of("memory", max_mb=mb)
        raise IntakeError.of(code, **result.get("params", {}))
    if "MemoryError" in stderr or "Cannot allocate memory" in stderr:
        raise IntakeError.of("memory", max_mb=mb)
    logging.getLogger(__name__).warning("pdf worker failed (rc=%s): %s", proc.returncode, stderr[-2000:])
    raise IntakeError.of("failed")


# --- child side ----------------------------------------------------------------------------------

def _apply_rlimits(limits: dict[str, int], *, may_write: bool) -> None:
    import resource

    def lower(which: int, value: int) -> None:
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else min(value + 1, hard)
                                   if hard != resource.RLIM_INFINITY else value + 1))

    lower(resource.RLIMIT_AS, int(limits["as_bytes"]))
    lower(resource.RLIMIT_CPU, int(limits["cpu_s"]))
    lower(resource.RLIMIT_CORE, 0)
    # Inspecting writes nothing; a stamp or board book writes one output file.
    lower(resource.RLIMIT_FSIZE, int(limits.get("fsize_bytes", 4096 * MiB)) if may_write else 0)


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def main() -> int:
    request = json.loads(sys.stdin.read())
    op = request.get("op")
    _apply_rlimits(request["rlimits"], may_write=op not in ("inspect", "locate"))
    logging.basicConfig(level=logging.CRITICAL)  # pypdf warns loudly about every quirk of real files
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        if op == "inspect":
            limits = IntakeLimits.from_json(request["limits"])
            result: Any = inspect_in_process(request["path"], limits).to_json()
        elif op == "stamp":
            from ecabinet.documents.stamping import Watermark, stamp_copy

            made = stamp_copy(request["sources"], request["out_path"], Watermark(**request["watermark"]))
            result = {"page_count": made.page_count, "fast": made.fast, "note": made.note}
        elif op == "prepare":
            from ecabinet.documents.fastcopy import ensure_prepared

            prepared = ensure_prepared(request["path"])
            result = {"prepared": str(prepared) if prepared else None}
        elif op == "boardbook":
            from ecabinet.documents.boardbook import BoardBookSpec, build_board_book
            from ecabinet.documents.stamping import Watermark

            result = {"page_count": build_board_book(
                BoardBookSpec.from_json(request["spec"]), request["out_path"], Watermark(**request["watermark"]),
                progress=lambda done, total: _emit({"progress": [done, total]}))}
        elif op == "locate":
            from ecabinet.documents.textpos import locate_quotes

            result = {"rects": locate_quotes(request["path"], [(int(p), str(q)) for p, q in request["targets"]])}
        else:
            raise ValueError(f"unknown op {op!r}")
    except IntakeError as exc:
        _emit({"ok": False, "code": exc.code, "params": exc.params})
        return 0
    except MemoryError:
        _emit({"ok": False, "code": "memory", "params": {}})
        return 0
    _emit({"ok": True, "result": result})
    return 0


# --- the inspection itself (child only: imports pypdf) -------------------------------------------

# Actions that run code, open other files or send data somewhere: accepted, but flagged.
FLAGGED_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/Rendition",
                   "/RichMediaExecute"}
_HTML_RE = re.compile(rb"<\s*(?:!doctype\s+html|html|script|body|iframe|svg|object|embed)\b", re.IGNORECASE)
_MAX_SCAN_DEPTH = 12


def _classify_read_error(exc: BaseException, limits: IntakeLimits) -> IntakeError:
    from pypdf.errors import LimitReachedError, PyPdfError

    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, LimitReachedError) and ("decompress" in lowered or "output" in lowered
                                               or "length" in lowered or "decod" in lowered):
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


def _title(reader: Any, page_texts: list[str]) -> str:
    try:
        meta = reader.metadata
        title = meta.title if meta is not None else None
    except Exception:  # noqa: BLE001 - broken metadata must not refuse a readable document
        title = None
    if isinstance(title, str) and title.strip():
        return _clean_line(title, 300)
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


def inspect_in_process(path: str, limits: IntakeLimits) -> Any:
    """The whole inspection; run only inside the limited child (see module docstring)."""
    import io

    import pypdf
    from pypdf.errors import LimitReachedError, PyPdfError

    from ecabinet.documents.intake import PdfInfo

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
    if b"%%EOF" not in data[-MAGIC_WINDOW:]:
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
        page_tree_maximum_entries=limits.max_pages + 1, jbig2dec_binary=None, disable_legacy_handling=True)
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
                   active_content=sorted(flags))


if __name__ == "__main__":
    sys.exit(main())
