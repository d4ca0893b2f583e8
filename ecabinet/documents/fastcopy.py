"""A reader's watermarked copy of one stored document, made from its prepared copy without pypdf's object model.

Every reader's copy of a document version starts from the same thing: the pages, outline and page
labels that pypdf's ``PdfWriter.append`` keeps of the original. That part is the expensive one
(parsing the original and cloning what the pages reach: ~60 % of a copy's time, quadratic in the named
destinations of some files), and it does not depend on the reader. So it is done once per version:

- the **prepared copy** is what ``stamp_pdf`` always kept, written by pypdf with a classic xref table
  and no object streams, so that every object sits at a known byte offset. It lives beside the blobs,
  content-addressed (``<STORAGE_DIR>/prepared/v1/ab/cdef....pdf``), is written atomically, carries
  the digest of its source in its /Info (checked before use) and is never served to anyone. It is
  made right after intake (``stamping.prepare_isolated``) or, for documents stored before, by the first
  copy that needs it;
- a **reader's copy** is then a new complete file (not an incremental update, which anyone could cut
  back off by truncation): every unmodified object copied byte for byte under its own number; each
  page dictionary rewritten under its own number with /Contents = [push "q", its own streams...,
  placement] and the two watermark forms in its resources; a shared /Resources or /XObject dictionary
  rewritten once (every page is stamped, so replacing it in place is right); the overlay, the push
  and placement streams and a new /Info numbered above the old maximum; a new xref table and trailer
  (same /Root, fresh /ID).

The parser here reads only what pypdf writes (and what the placement needs: the page tree, each page's
/Rotate, boxes, /Resources and /Contents). Anything unexpected raises ``Unsupported`` and the copy is
made through pypdf instead: a copy is never broken, at worst slower. The geometry and placement maths
are ``stamping``'s, shared with the pypdf path.
"""

from __future__ import annotations

import logging
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from ecabinet.documents.stamping import (
    PUSH_OPS,
    Geometry,
    Watermark,
    append_kept,
    build_overlay,
    normalise_geometry,
    pdf_text,
    placement_ops,
    stamp_names,
    stream_object,
    write_atomically,
    write_file_atomically,
)
from ecabinet.documents.storage import BlobStore

# Bump when what a prepared copy holds changes: old ones are then simply not found (and re-made).
FORMAT = "v1"
PREPARED_KEY = "/ECabinetPrepared"
log = logging.getLogger(__name__)


class Unsupported(ValueError):
    """The prepared copy is not as this module expects: make the copy through pypdf instead."""


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


def prepare(source: str | Path, sha256: str, prepared: Path) -> int:
    """Write the prepared copy of ``source`` (a blob whose digest is ``sha256``); return its page count."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    append_kept(writer, source, labels=True)
    writer.add_metadata({"/Producer": "e-Cabinet", PREPARED_KEY: f"{FORMAT}:{sha256}"})
    prepared.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(writer, prepared)
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
        log.warning("fast copy of %s failed", source, exc_info=True)
        return None, f"{type(exc).__name__}: {exc}"


# --- reading PDF syntax (as pypdf writes it) ----------------------------------------------------

class Ref(tuple):
    """An indirect reference ``n g R``."""

    __slots__ = ()

    def __new__(cls, num: int, gen: int) -> Ref:
        return super().__new__(cls, (num, gen))

    @property
    def num(self) -> int:
        return self[0]


class Name(bytes):
    """A name, as written (``/XObject``)."""


class String(bytes):
    """A literal or hexadecimal string, as written (only ever copied)."""


_ESCAPE = re.compile(rb"\\([0-7]{1,3}|\r\n|.)", re.DOTALL)
_ESCAPED = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"\r\n": b"", b"\n": b"", b"\r": b""}


def literal_bytes(string: String) -> bytes:
    """The bytes a literal string ``(...)`` stands for (pypdf writes most punctuation as octal escapes)."""
    if not string.startswith(b"("):
        raise Unsupported("not a literal string")

    def unescape(match: re.Match[bytes]) -> bytes:
        code = match[1]
        return bytes([int(code, 8) & 0xFF]) if code[:1].isdigit() else _ESCAPED.get(code, code)

    return _ESCAPE.sub(unescape, bytes(string[1:-1]))


_LAZY = object()  # a value not parsed yet (see Dict.value)


class Dict(dict):
    """A dictionary: key -> (value, start, end), where data[start:end] is the value as written, in file order."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.data = data

    def value(self, key: bytes, default: Any = None) -> Any:
        entry = self.get(key)
        if entry is None:
            return default
        if entry[0] is _LAZY:
            start, end = entry[1], entry[2]
            # Parsed in place: a dictionary's spans must index the same data as its parent's.
            value = (_flat_array(self.data[start:end]) if self.data[start:start + 1] == b"["
                     else parse_value(self.data, start, end)[0])
            entry = self[key] = (value, entry[1], entry[2])
        return entry[0]


_KEYWORDS = {b"true": True, b"false": False, b"null": None}


def _flat_array(raw: bytes) -> list[Any]:
    """A flat array (see _FLAT) by splitting on white space: boxes and /Kids, without a regex per item."""
    items: list[Any] = []
    for word in raw[1:-1].split():
        if word == b"R" and len(items) >= 2 and type(items[-1]) is int and type(items[-2]) is int:
            gen, num = items.pop(), items.pop()
            items.append(Ref(num, gen))
        elif word[:1] == b"/":
            items.append(Name(word))
        elif word in _KEYWORDS:
            items.append(_KEYWORDS[word])
        else:
            try:
                items.append(float(word) if b"." in word else int(word))
            except ValueError:
                raise Unsupported(f"unexpected {word[:20]!r} in an array") from None
    return items


_WS = rb"\x00\t\n\x0c\r "
_REGULAR_END = rb"(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"
_TOKEN = re.compile(
    rb"[\x00\t\n\x0c\r ]*(?:%[^\r\n]*[\x00\t\n\x0c\r ]*)*(?:"
    rb"(?P<ref>(?P<rn>\d+)[\x00\t\n\x0c\r ]+(?P<rg>\d+)[\x00\t\n\x0c\r ]+R" + _REGULAR_END + rb")"
    rb"|(?P<num>[+-]?(?:\d+\.?\d*|\.\d+)" + _REGULAR_END + rb")"
    rb"|(?P<name>/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*)"
    rb"|(?P<open><<)|(?P<close>>>)|(?P<aopen>\[)|(?P<aclose>\])"
    rb"|(?P<hex><[0-9A-Fa-f\x00\t\n\x0c\r ]*>)"
    rb"|(?P<lit>\()"
    rb"|(?P<kw>true|false|null)" + _REGULAR_END + rb")")
_PAREN = re.compile(rb"[()\\]")
# An array or dictionary of numbers, names, references, booleans or nulls: most values in a page
# dictionary (/Annots of a hundred references, the /Font of its resources...) are only ever copied,
# so their end is found in one match and they are parsed only if asked for.
_FLAT = re.compile(rb"[\x00\t\n\x0c\r ]*(\[[^\[\]()<>{}%]*\]|<<[^\[\]()<>{}%]*>>)")
# One dictionary entry whose value is a reference, a number, a name or flat (the common case), in one match.
_ENTRY = re.compile(
    rb"[\x00\t\n\x0c\r ]*(/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*)[\x00\t\n\x0c\r ]*(?:"
    rb"(?P<rn>\d+)[\x00\t\n\x0c\r ]+(?P<rg>\d+)[\x00\t\n\x0c\r ]+R" + _REGULAR_END +
    rb"|(?P<num>[+-]?(?:\d+\.?\d*|\.\d+))" + _REGULAR_END +
    rb"|(?P<name>/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*)"
    rb"|(?P<flat>\[[^\[\]()<>{}%]*\]|<<[^\[\]()<>{}%]*>>))")
_MAX_DEPTH = 32


def _literal_end(data: bytes, pos: int, end: int) -> int:
    """End of the literal string whose "(" is at pos - 1 (balanced parentheses, backslash escapes)."""
    depth = 1
    while True:
        match = _PAREN.search(data, pos, end)
        if match is None:
            raise Unsupported("unterminated string")
        char = data[match.start()]
        pos = match.end()
        if char == 0x5C:  # backslash: skip the escaped byte
            pos += 1
        elif char == 0x28:
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return pos


def parse_value(data: bytes, pos: int, end: int, depth: int = 0) -> tuple[Any, int, int]:
    """(value, start, end) of the object at ``pos``; arrays are lists, dictionaries ``Dict``."""
    match = _TOKEN.match(data, pos, end)
    if match is None or depth > _MAX_DEPTH:
        raise Unsupported(f"unexpected syntax at byte {pos}")
    kind = match.lastgroup
    start = match.start(kind)
    if kind == "ref":
        return Ref(int(match["rn"]), int(match["rg"])), start, match.end()
    if kind == "num":
        text = match["num"]
        return (float(text) if b"." in text else int(text)), start, match.end()
    if kind == "name":
        return Name(match["name"]), start, match.end()
    if kind == "hex":
        return String(match["hex"]), start, match.end()
    if kind == "lit":
        stop = _literal_end(data, match.end(), end)
        return String(data[start:stop]), start, stop
    if kind == "kw":
        word = match["kw"]
        return (None if word == b"null" else word == b"true"), start, match.end()
    if kind == "aopen":
        items = []
        pos = match.end()
        while True:
            close = _TOKEN.match(data, pos, end)
            if close is not None and close.lastgroup == "aclose":
                return items, start, close.end()
            value, _, pos = parse_value(data, pos, end, depth + 1)
            items.append(value)
    if kind == "open":
        entries = Dict(data)
        pos = match.end()
        while True:
            simple = _ENTRY.match(data, pos, end)
            if simple is not None:
                kind = simple.lastgroup
                if kind == "rg":
                    value = Ref(int(simple["rn"]), int(simple["rg"]))
                elif kind == "num":
                    text = simple["num"]
                    value = float(text) if b"." in text else int(text)
                elif kind == "name":
                    value = Name(simple["name"])
                else:
                    value = _LAZY
                pos = simple.end()
                entries[simple[1]] = (value, simple.start("rn" if kind == "rg" else kind), pos)
                continue
            token = _TOKEN.match(data, pos, end)
            if token is not None and token.lastgroup == "close":
                return entries, start, token.end()
            if token is None or token.lastgroup != "name":
                raise Unsupported(f"dictionary key expected at byte {pos}")
            flat = _FLAT.match(data, token.end(), end)
            if flat is not None:
                value, value_start, pos = _LAZY, flat.start(1), flat.end(1)
            else:
                value, value_start, pos = parse_value(data, token.end(), end, depth + 1)
            entries[bytes(token["name"])] = (value, value_start, pos)
    raise Unsupported(f"unexpected {kind} at byte {start}")


def _dict_bytes(entries: Dict, changes: dict[bytes, bytes]) -> bytes:
    """``entries`` written again, in their order, with ``changes`` replacing or adding values (as bytes)."""
    data = entries.data
    changes = dict(changes)
    parts = [b"<<"]
    for key, (_value, start, end) in entries.items():
        parts += [key, b" ", changes.pop(key) if key in changes else data[start:end], b"\n"]
    for key, raw in changes.items():
        parts += [key, b" ", raw, b"\n"]
    parts.append(b">>")
    return b"".join(parts)


# --- the prepared file ----------------------------------------------------------------------------

_XREF_SECTION = re.compile(rb"[\r\n ]*(\d+) (\d+)[ ]*\r?\n")
_XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])(?: \r| \n|\r\n)")
_ENDOBJ = b"\nendobj\n"


class PreparedFile:
    """A prepared copy: its xref table read and every object's place checked."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        tail_at = max(0, len(data) - 1024)
        at = data.rfind(b"startxref", tail_at)
        if at < 0 or not data.startswith(b"%PDF-") or b"%%EOF" not in data[at:]:
            raise Unsupported("no startxref at the end")
        match = re.match(rb"startxref[\r\n ]+(\d+)[\r\n ]+%%EOF[\r\n]*\Z", data[at:])
        if match is None:
            raise Unsupported("data after %%EOF")
        xref_at = int(match[1])
        if not data.startswith(b"xref", xref_at):
            raise Unsupported("no classic xref table (an xref stream?)")
        pos = xref_at + 4
        offsets: dict[int, int] = {}
        free: dict[int, int] = {}
        while not data.startswith(b"trailer", pos):
            section = _XREF_SECTION.match(data, pos)
            if section is None:
                raise Unsupported("unreadable xref subsection")
            first, count = int(section[1]), int(section[2])
            pos = section.end()
            entries = _XREF_ENTRY.findall(data, pos, pos + 20 * count)
            if len(entries) != count:
                raise Unsupported("xref entries not in the 20-byte form")
            pos += 20 * count
            for number, (offset, gen, kind) in enumerate(entries, first):
                if kind == b"n":
                    if gen != b"00000":
                        raise Unsupported(f"object {number} has generation {int(gen)}")
                    offsets[number] = int(offset)
                elif number:
                    free[number] = int(gen)
            while data[pos:pos + 1] in (b"\r", b"\n", b" "):
                pos += 1
        trailer, _, end = parse_value(data, pos + 7, at)
        if not isinstance(trailer, Dict) or data[end:at].strip():
            raise Unsupported("unreadable trailer")
        for key in (b"/Encrypt", b"/Prev", b"/XRefStm"):
            if key in trailer:
                raise Unsupported(f"trailer has {key.decode()}")
        size, root = trailer.value(b"/Size"), trailer.value(b"/Root")
        info = trailer.value(b"/Info")
        if not isinstance(size, int) or not isinstance(root, Ref) or (info is not None and not isinstance(info, Ref)):
            raise Unsupported("trailer without /Size or /Root")
        if not offsets or max(offsets) >= size or any(number >= size for number in free):
            raise Unsupported("object numbers beyond /Size")
        self.size, self.root, self.info = size, root.num, info.num if info else None
        self.free = free
        # Each object runs from its offset to the next one's (or the xref): check both ends of each.
        order = sorted(offsets.items(), key=lambda item: item[1])
        self.first_offset = order[0][1]
        if self.first_offset > 1024 or b"obj" in data[:self.first_offset]:
            raise Unsupported("unexpected bytes before the first object")
        self.spans: dict[int, tuple[int, int]] = {}
        ends = [offset for _, offset in order[1:]] + [xref_at]
        for (number, offset), end in zip(order, ends, strict=True):
            header = b"%d 0 obj\n" % number
            if not data.startswith(header, offset) or not data.endswith(_ENDOBJ, offset, end) \
                    or end - offset < len(header) + len(_ENDOBJ):
                raise Unsupported(f"object {number} is not where the xref says")
            self.spans[number] = (offset, end)
        self.order = [number for number, _ in order]
        self._parsed: dict[int, Any] = {}

    def body(self, number: int) -> tuple[int, int]:
        """Where object ``number``'s body lies (between "n 0 obj\\n" and "\\nendobj\\n")."""
        if number not in self.spans:
            raise Unsupported(f"object {number} is not in the file")
        start, end = self.spans[number]
        return start + len(b"%d 0 obj\n" % number), end - len(_ENDOBJ)

    def first_byte(self, number: int) -> bytes:
        start, end = self.body(number)
        return self.data[start:end].lstrip(b"\x00\t\n\x0c\r ")[:1]

    def value(self, number: int) -> Any:
        """The object ``number``, which must not be a stream."""
        if number not in self._parsed:
            start, end = self.body(number)
            value, _, stop = parse_value(self.data, start, end)
            if self.data[stop:end].strip(b"\x00\t\n\x0c\r "):
                raise Unsupported(f"object {number} is a stream or has trailing data")
            self._parsed[number] = value
        return self._parsed[number]

    def dict(self, number: int) -> Dict:
        value = self.value(number)
        if not isinstance(value, Dict):
            raise Unsupported(f"object {number} is not a dictionary")
        return value

    def resolve(self, value: Any) -> Any:
        for _ in range(8):
            if not isinstance(value, Ref):
                return value
            value = self.value(value.num) if value.num in self.spans else None
        raise Unsupported("reference chain too long")

    def pages(self) -> list[int]:
        """Object numbers of the pages, in order (walking the page tree, refusing loops)."""
        root = self.dict(self.root)
        tree = root.value(b"/Pages")
        if not isinstance(tree, Ref):
            raise Unsupported("no page tree")
        found: list[int] = []
        seen: set[int] = set()
        stack = [(tree.num, 0)]
        while stack:
            number, depth = stack.pop()
            if number in seen or depth > 32:
                raise Unsupported("the page tree loops or repeats a page")
            seen.add(number)
            node = self.dict(number)
            kind = node.value(b"/Type")
            if kind == b"/Page":
                found.append(number)
                continue
            kids = self.resolve(node.value(b"/Kids"))
            if kind != b"/Pages" or not isinstance(kids, list) or not all(isinstance(k, Ref) for k in kids):
                raise Unsupported(f"page tree node {number} is neither /Pages nor /Page")
            stack.extend((kid.num, depth + 1) for kid in reversed(kids))
        if not found or self.resolve(self.dict(tree.num).value(b"/Count")) != len(found):
            raise Unsupported("the page count does not match the page tree")
        return found

    def geometry(self, page: Dict) -> Geometry:
        box = self.resolve(page.value(b"/CropBox")) or self.resolve(page.value(b"/MediaBox"))
        box = [self.resolve(v) for v in box] if isinstance(box, list) else None
        if box is None or len(box) != 4 or not all(isinstance(v, int | float) and not isinstance(v, bool)
                                                    for v in box):
            raise Unsupported("a page without a usable crop or media box")
        rotate = self.resolve(page.value(b"/Rotate", 0))
        return normalise_geometry(rotate if isinstance(rotate, int | float) else 0, box)


# --- the reader's copy --------------------------------------------------------------------------

def stamp_prepared(prepared: str | Path, out_path: str | Path, watermark: Watermark, sha256: str) -> int:
    """Write ``out_path``: the prepared copy of blob ``sha256`` with ``watermark`` on every page."""
    doc = PreparedFile(Path(prepared).read_bytes())
    info = doc.dict(doc.info) if doc.info is not None else Dict(b"")
    marker = info.value(PREPARED_KEY.encode())
    if not isinstance(marker, String) or literal_bytes(marker) != f"{FORMAT}:{sha256}".encode():
        raise Unsupported("it was not made from this blob in this format")
    pages = doc.pages()
    data = doc.data

    footer_name, diagonal_name = stamp_names()
    overlay = build_overlay(watermark, first=doc.size)
    new: dict[int, bytes] = dict(enumerate(overlay.objects, doc.size))
    next_number = doc.size + len(overlay.objects)
    push = next_number
    new[push] = stream_object(PUSH_OPS)
    next_number += 1
    marks = {footer_name.encode(): b"%d 0 R" % overlay.footer, diagonal_name.encode(): b"%d 0 R" % overlay.diagonal}
    new_xobjects = _dict_bytes(Dict(data), marks)
    placements: dict[Geometry, int] = {}
    replaced: dict[int, bytes] = {}
    shared_resources: set[int] = set()
    shared_xobjects: set[int] = set()

    def resources_bytes(resources: Dict) -> bytes:
        """The resources dictionary with both forms among its XObjects (an indirect /XObject is rewritten apart)."""
        xobjects = resources.value(b"/XObject")
        if xobjects is None:
            return _dict_bytes(resources, {b"/XObject": new_xobjects})
        if isinstance(xobjects, Ref):
            doc.dict(xobjects.num)
            shared_xobjects.add(xobjects.num)
            return _dict_bytes(resources, {})
        if not isinstance(xobjects, Dict):
            raise Unsupported("/XObject is not a dictionary")
        return _dict_bytes(resources, {b"/XObject": _dict_bytes(xobjects, marks)})

    for number in pages:
        page = doc.dict(number)
        geometry = doc.geometry(page)
        if geometry not in placements:
            placements[geometry] = next_number
            new[next_number] = stream_object(placement_ops(geometry, overlay, footer_name, diagonal_name))
            next_number += 1
        changes: dict[bytes, bytes] = {}
        resources = page.value(b"/Resources")
        if resources is None:
            changes[b"/Resources"] = b"<< /XObject " + new_xobjects + b" >>"
        elif isinstance(resources, Ref):
            doc.dict(resources.num)
            shared_resources.add(resources.num)
        elif isinstance(resources, Dict):
            changes[b"/Resources"] = resources_bytes(resources)
        else:
            raise Unsupported(f"page {number}: /Resources is not a dictionary")
        parts = _content_parts(doc, page.value(b"/Contents"))
        changes[b"/Contents"] = b"[%s]" % b" ".join(
            b"%d 0 R" % n for n in (push, *parts, placements[geometry]))
        replaced[number] = _dict_bytes(page, changes)
    for number in shared_resources:
        replaced[number] = resources_bytes(doc.dict(number))
    for number in shared_xobjects:
        if number in replaced:
            raise Unsupported(f"object {number} is both a resources and an XObject dictionary")
        replaced[number] = _dict_bytes(doc.dict(number), marks)
    if set(pages) & (shared_resources | shared_xobjects) or doc.root in replaced or doc.info in replaced:
        raise Unsupported("a page's resources are a page, the catalog or the /Info")

    info_dict = b"<< /Producer %s /ECabinetCopy %s >>" % (pdf_text("e-Cabinet"), pdf_text(watermark.copy_code))
    info_number = doc.info if doc.info is not None else next_number
    if doc.info is None:
        next_number += 1
        new[info_number] = info_dict
    else:  # the prepared copy's /Info (with its marker) is replaced, not left behind
        replaced[info_number] = info_dict

    for number, body in replaced.items():
        _check_dictionary(number, body)

    def write(fh: IO[bytes]) -> None:
        _write_copy(fh, doc, replaced, new, next_number, info_number)

    write_file_atomically(out_path, write)
    return len(pages)


def _check_dictionary(number: int, body: bytes) -> None:
    """Every dictionary written again must read back as one whole dictionary, or no copy is made this way."""
    try:
        value, _, end = parse_value(body, 0, len(body))
    except Unsupported as exc:
        raise Unsupported(f"rewritten object {number} does not read back: {exc}") from exc
    if not isinstance(value, Dict) or body[end:].strip(b"\x00\t\n\x0c\r "):
        raise Unsupported(f"rewritten object {number} does not read back as one dictionary")


def _content_parts(doc: PreparedFile, contents: Any) -> list[int]:
    """Object numbers of a page's content streams (an indirect array of them is looked into)."""
    if contents is None:
        return []
    if isinstance(contents, Ref):
        if contents.num in doc.spans and doc.first_byte(contents.num) == b"[":
            contents = doc.value(contents.num)
        else:
            return [contents.num]  # a stream (or a dangling reference, which reads as null: kept as is)
    if not isinstance(contents, list) or not all(isinstance(item, Ref) for item in contents):
        raise Unsupported("/Contents is not a stream or an array of streams")
    return [item.num for item in contents]


def _write_copy(fh: IO[bytes], doc: PreparedFile, replaced: dict[int, bytes], new: dict[int, bytes],
                size: int, info: int) -> None:
    data = memoryview(doc.data)
    offsets: dict[int, int] = {}
    position = doc.first_offset
    fh.write(data[:position])
    run_start = run_end = doc.first_offset  # a run of unmodified objects, copied in one write

    def flush() -> None:
        nonlocal run_start
        if run_end > run_start:
            fh.write(data[run_start:run_end])
        run_start = run_end

    for number in doc.order:
        start, end = doc.spans[number]
        body = replaced.get(number)
        if body is None:
            if start != run_end:
                flush()
                run_start = start
            offsets[number] = position
            position += end - start
            run_end = end
            continue
        flush()
        run_start = run_end = end
        offsets[number] = position
        chunk = b"%d 0 obj\n%s\nendobj\n" % (number, body)
        fh.write(chunk)
        position += len(chunk)
    flush()
    for number in sorted(new):
        offsets[number] = position
        chunk = b"%d 0 obj\n%s\nendobj\n" % (number, new[number])
        fh.write(chunk)
        position += len(chunk)

    # Free entries form the usual linked list through object 0.
    free = [number for number in range(1, size) if number not in offsets]
    following = dict(zip([0, *free], [*free, 0], strict=True))
    lines = [b"xref\n0 %d\n" % size, b"%010d 65535 f \n" % following[0]]
    for number in range(1, size):
        if number in offsets:
            lines.append(b"%010d 00000 n \n" % offsets[number])
        else:
            lines.append(b"%010d %05d f \n" % (following[number], doc.free.get(number, 1)))
    file_id = secrets.token_hex(16).encode()
    lines.append(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n" % (
        size, doc.root, info, file_id, file_id, position))
    fh.write(b"".join(lines))
