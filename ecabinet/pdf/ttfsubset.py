"""A small TrueType reader and subsetter for the watermark's font: what a PDF needs to embed a subset.

reportlab does the same job (and still does for the board-book cover and the demo documents), but
for a reader's copy it was most of the fixed cost: importing its font machinery takes ~0.14 s in the
fresh child process of every download, and subsetting plus writing its objects ~7 ms per copy. Here
the font file is read once per process (table offsets and a few header fields; glyph data is sliced
on demand) and a subset of the ~30-60 glyphs of one watermark is built in well under a millisecond.

Subset fonts keep the tables a PDF viewer needs for a CIDFontType2 (head, hhea, maxp, hmtx, loca,
glyf, post, OS/2, a small name table and a format 4 cmap of the characters used); glyphs are
renumbered densely and composite glyphs pull in their components. Hinting is dropped (the glyphs'
instructions and the cvt/fpgm/prep tables): it was half of a subset's bytes, PDF viewers scale and
rasterise the outlines without it, and a watermark is not body text.
"""

from __future__ import annotations

import bisect
import itertools
import os
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Composite glyph flags (TrueType 'glyf' table).
_ARG_1_AND_2_ARE_WORDS = 0x0001
_WE_HAVE_A_SCALE = 0x0008
_MORE_COMPONENTS = 0x0020
_WE_HAVE_AN_X_AND_Y_SCALE = 0x0040
_WE_HAVE_A_TWO_BY_TWO = 0x0080
_WE_HAVE_INSTRUCTIONS = 0x0100
# The tables copied unchanged into every subset.
_COPIED = (b"OS/2",)


class FontError(ValueError):
    """The file is not a TrueType font this module can subset (CFF outlines, collections, damage)."""


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


class TrueTypeFace:
    """One TrueType font file, parsed just enough to map characters, measure them and subset them."""

    def __init__(self, data: bytes, name: str = "") -> None:
        self.data = data
        if len(data) < 12 or data[:4] not in (b"\x00\x01\x00\x00", b"true"):
            raise FontError(f"{name or 'font'}: not a TrueType font (CFF .otf and .ttc collections are not embedded)")
        (count,) = struct.unpack_from(">H", data, 4)
        self.tables: dict[bytes, tuple[int, int]] = {}
        for index in range(count):
            tag, _checksum_, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * index)
            if offset + length > len(data):
                raise FontError(f"{name or 'font'}: table {tag!r} runs past the end of the file")
            self.tables[tag] = (offset, length)
        for tag in (b"head", b"hhea", b"maxp", b"hmtx", b"loca", b"glyf", b"cmap"):
            if tag not in self.tables:
                raise FontError(f"{name or 'font'}: no {tag.decode()} table")
        head = self.table(b"head")
        self.units_per_em = struct.unpack_from(">H", head, 18)[0] or 1000
        self.bbox = struct.unpack_from(">4h", head, 36)
        loca_format = struct.unpack_from(">h", head, 50)[0]
        hhea = self.table(b"hhea")
        self.ascent, self.descent = struct.unpack_from(">hh", hhea, 4)
        metrics = struct.unpack_from(">H", hhea, 34)[0]
        self.num_glyphs = struct.unpack_from(">H", self.table(b"maxp"), 4)[0]
        if not 0 < metrics <= self.num_glyphs:
            raise FontError(f"{name or 'font'}: inconsistent horizontal metrics")
        loca = self.table(b"loca")
        if loca_format == 0:
            self.loca = [2 * v for v in struct.unpack_from(f">{self.num_glyphs + 1}H", loca)]
        else:
            self.loca = list(struct.unpack_from(f">{self.num_glyphs + 1}I", loca))
        hmtx = self.table(b"hmtx")
        pairs = struct.unpack_from(f">{2 * metrics}H", hmtx)
        # Left side bearings stay as the raw 16-bit values: they are only copied into subsets.
        lsbs = struct.unpack_from(f">{self.num_glyphs - metrics}H", hmtx, 4 * metrics)
        self.advances = list(pairs[0::2]) + [pairs[-2]] * (self.num_glyphs - metrics)
        self.lsbs = list(pairs[1::2]) + list(lsbs)
        self._cmap = self._read_cmap()
        post = self.table(b"post") if b"post" in self.tables else b""
        self.italic_angle = struct.unpack_from(">i", post, 4)[0] / 65536 if len(post) >= 16 else 0.0
        self.fixed_pitch = bool(struct.unpack_from(">I", post, 12)[0]) if len(post) >= 16 else False
        os2 = self.table(b"OS/2") if b"OS/2" in self.tables else b""
        self.weight = struct.unpack_from(">H", os2, 4)[0] if len(os2) >= 6 else 400
        version = struct.unpack_from(">H", os2, 0)[0] if len(os2) >= 2 else 0
        self.cap_height = (struct.unpack_from(">h", os2, 88)[0] if version >= 2 and len(os2) >= 90
                           else self.ascent)
        self.postscript_name = self._postscript_name() or "Font"
        # What every subset reuses, filled as characters come: the face is kept for the process.
        self._gids: dict[str, int] = {}
        self._widths: dict[str, float] = {}
        self._glyphs: dict[int, tuple[bytes, list[tuple[int, int]]]] = {}
        head = bytearray(self.table(b"head"))
        struct.pack_into(">I", head, 8, 0)   # checkSumAdjustment, set by _assemble
        struct.pack_into(">h", head, 50, 1)  # long loca offsets
        self._head = bytes(head)
        self._static = {tag: (self.table(tag), _checksum(self.table(tag))) for tag in _COPIED if tag in self.tables}
        post = self.table(b"post")[:16] if b"post" in self.tables else b"\0" * 16
        for tag, data in ((b"post", b"\x00\x03\x00\x00" + post[4:16] + b"\0" * 16),
                          (b"name", _name_table(self.postscript_name))):
            self._static[tag] = (data, _checksum(data))

    def table(self, tag: bytes) -> bytes:
        offset, length = self.tables[tag]
        return self.data[offset:offset + length]

    # --- characters and metrics --------------------------------------------------------------------

    def _read_cmap(self) -> tuple[str, tuple]:
        cmap_offset, _ = self.tables[b"cmap"]
        data = self.data
        (count,) = struct.unpack_from(">H", data, cmap_offset + 2)
        best: tuple[int, int] | None = None  # (preference, absolute offset)
        for index in range(count):
            platform, encoding, offset = struct.unpack_from(">HHI", data, cmap_offset + 4 + 8 * index)
            fmt = struct.unpack_from(">H", data, cmap_offset + offset)[0]
            rank = {(3, 10, 12): 0, (0, 4, 12): 1, (3, 1, 4): 2, (0, 3, 4): 3}.get((platform, encoding, fmt))
            if rank is not None and (best is None or rank < best[0]):
                best = (rank, cmap_offset + offset)
        if best is None:
            raise FontError("no Unicode character map (format 4 or 12)")
        start = best[1]
        if struct.unpack_from(">H", data, start)[0] == 12:
            (groups,) = struct.unpack_from(">I", data, start + 12)
            flat = struct.unpack_from(f">{3 * groups}I", data, start + 16)
            return "12", (list(flat[0::3]), list(flat[1::3]), list(flat[2::3]))
        segments = struct.unpack_from(">H", data, start + 6)[0] // 2
        ends = struct.unpack_from(f">{segments}H", data, start + 14)
        starts = struct.unpack_from(f">{segments}H", data, start + 16 + 2 * segments)
        deltas = struct.unpack_from(f">{segments}H", data, start + 16 + 4 * segments)
        range_at = start + 16 + 6 * segments
        ranges = struct.unpack_from(f">{segments}H", data, range_at)
        return "4", (list(ends), starts, deltas, ranges, range_at)

    def glyph(self, char: str) -> int:
        """Glyph index of ``char``, 0 (.notdef) if the font has none."""
        gid = self._gids.get(char)
        if gid is None:
            gid = self._gids[char] = self._lookup(char)
        return gid

    def _lookup(self, char: str) -> int:
        code = ord(char)
        kind, tables = self._cmap
        if kind == "12":
            starts, ends, first_glyphs = tables
            index = bisect.bisect_right(starts, code) - 1
            if index >= 0 and code <= ends[index]:
                gid = first_glyphs[index] + code - starts[index]
                return gid if gid < self.num_glyphs else 0
            return 0
        ends, starts, deltas, ranges, range_at = tables
        if code > 0xFFFF:
            return 0
        index = bisect.bisect_left(ends, code)
        if index >= len(ends) or code < starts[index]:
            return 0
        if ranges[index] == 0:
            gid = (code + deltas[index]) & 0xFFFF
        else:
            at = range_at + 2 * index + ranges[index] + 2 * (code - starts[index])
            gid = struct.unpack_from(">H", self.data, at)[0]
            if gid:
                gid = (gid + deltas[index]) & 0xFFFF
        return gid if gid < self.num_glyphs else 0

    def covers(self, chars: str) -> bool:
        return all(self.glyph(ch) for ch in chars)

    def width(self, char: str) -> float:
        """Advance width in 1/1000 of the font size."""
        width = self._widths.get(char)
        if width is None:
            width = self._widths[char] = round(self.advances[self.glyph(char)] * 1000 / self.units_per_em, 3)
        return width

    def string_width(self, text: str, size: float) -> float:
        return sum(map(self.width, text)) * size / 1000

    def _postscript_name(self) -> str:
        if b"name" not in self.tables:
            return ""
        offset, _ = self.tables[b"name"]
        data = self.data
        count, strings = struct.unpack_from(">HH", data, offset + 2)
        for index in range(count):
            platform, encoding, _lang, name_id, length, at = struct.unpack_from(">6H", data, offset + 6 + 12 * index)
            if name_id != 6:
                continue
            raw = data[offset + strings + at: offset + strings + at + length]
            text = raw.decode("utf-16-be", "replace") if platform in (0, 3) else raw.decode("latin-1")
            clean = "".join(ch for ch in text if ch.isascii() and ch.isalnum() or ch in "-_")
            if clean:
                return clean[:63]
        return ""

    # --- subsetting ---------------------------------------------------------------------------------

    def _glyph(self, gid: int) -> tuple[bytes, list[tuple[int, int]]]:
        """A glyph's data without its instructions, and its components (see ``_unhinted``)."""
        found = self._glyphs.get(gid)
        if found is None:
            glyf_offset, _ = self.tables[b"glyf"]
            start, end = self.loca[gid], self.loca[gid + 1]
            data, components = _unhinted(self.data[glyf_offset + start: glyf_offset + end] if end > start else b"")
            found = self._glyphs[gid] = (data + b"\0" * (-len(data) % 4), components)  # padded as in a font
        return found

    def subset(self, chars: str) -> Subset:
        """A font program holding ``chars`` (each distinct character once, in order) and .notdef."""
        distinct = list(dict.fromkeys(chars))
        original = {ch: self.glyph(ch) for ch in distinct}
        old_of_new = [0]
        new_of_old = {0: 0}
        for gid in original.values():
            if gid not in new_of_old:
                new_of_old[gid] = len(old_of_new)
                old_of_new.append(gid)
        glyphs: list[bytes] = []
        index = 0
        while index < len(old_of_new):  # the list grows while components are found
            data, components = self._glyph(old_of_new[index])
            if components:
                patched = bytearray(data)
                for at, component in components:
                    if component >= self.num_glyphs:
                        raise FontError("composite glyph names a glyph beyond the font")
                    if component not in new_of_old:
                        new_of_old[component] = len(old_of_new)
                        old_of_new.append(component)
                    struct.pack_into(">H", patched, at, new_of_old[component])
                data = bytes(patched)
            glyphs.append(data)
            index += 1
        count = len(old_of_new)
        if count > 0xFFFF:
            raise FontError("too many glyphs")

        tables = dict(self._static)
        tables[b"glyf"] = b"".join(glyphs)
        tables[b"loca"] = struct.pack(f">{count + 1}I", 0, *itertools.accumulate(map(len, glyphs)))
        metrics = []
        for gid in old_of_new:
            metrics += (self.advances[gid], self.lsbs[gid])
        tables[b"hmtx"] = struct.pack(f">{2 * count}H", *metrics)
        hhea = bytearray(self.table(b"hhea"))
        struct.pack_into(">H", hhea, 34, count)
        tables[b"hhea"] = bytes(hhea)
        maxp = bytearray(self.table(b"maxp"))
        struct.pack_into(">H", maxp, 4, count)
        tables[b"maxp"] = bytes(maxp)
        tables[b"head"] = self._head
        gids = {ch: new_of_old[gid] for ch, gid in original.items()}
        tables[b"cmap"] = _cmap_table([(ord(ch), gid) for ch, gid in gids.items()])
        return Subset(_assemble(tables), gids, distinct, [self.width(ch) for ch in distinct])


@dataclass(frozen=True)
class Subset:
    """A subset font program; ``gids`` maps each character to its glyph in the subset."""

    program: bytes
    gids: dict[str, int]
    chars: list[str]
    widths: list[float]  # per character of ``chars``, 1/1000 of the font size


def _unhinted(data: bytes) -> tuple[bytes, list[tuple[int, int]]]:
    """A glyph without its hinting instructions, and (position of the glyph index field, component glyph)
    of each component if it is a composite ([] for a simple glyph)."""
    if len(data) < 10:
        return data, []
    contours = struct.unpack_from(">h", data, 0)[0]
    if contours >= 0:
        at = 10 + 2 * contours
        if at + 2 > len(data):
            raise FontError("truncated glyph")
        length = struct.unpack_from(">H", data, at)[0]
        return data[:at] + b"\0\0" + data[at + 2 + length:], []
    glyph = bytearray(data)
    found = []
    at = 10
    flags = _MORE_COMPONENTS
    while flags & _MORE_COMPONENTS:
        if at + 4 > len(glyph):
            raise FontError("truncated composite glyph")
        flags, component = struct.unpack_from(">HH", glyph, at)
        struct.pack_into(">H", glyph, at, flags & ~_WE_HAVE_INSTRUCTIONS)
        found.append((at + 2, component))
        at += 4 + (4 if flags & _ARG_1_AND_2_ARE_WORDS else 2)
        if flags & _WE_HAVE_A_SCALE:
            at += 2
        elif flags & _WE_HAVE_AN_X_AND_Y_SCALE:
            at += 4
        elif flags & _WE_HAVE_A_TWO_BY_TWO:
            at += 8
    return bytes(glyph[:at]), found  # what followed the last component was its instructions


def _name_table(postscript: str) -> bytes:
    """Family, style, full and PostScript names only (the original's name table is ~15 KB of licences)."""
    names = [(1, postscript), (2, "Regular"), (4, postscript), (6, postscript)]
    records = bytearray()
    strings = bytearray()
    for name_id, text in names:
        raw = text.encode("utf-16-be")
        records += struct.pack(">6H", 3, 1, 0x409, name_id, len(raw), len(strings))
        strings += raw
    return struct.pack(">3H", 0, len(names), 6 + len(records)) + bytes(records) + bytes(strings)


def _cmap_table(char_gids: list[tuple[int, int]]) -> bytes:
    """A (3,1) format 4 map of the subset's characters, one segment each: a font a viewer can also use."""
    pairs = sorted((code, gid) for code, gid in char_gids if code < 0xFFFF)
    segments = [*pairs, (0xFFFF, 0)]
    count = len(segments)
    search = 2 ** (count.bit_length() - 1)
    ends = [code for code, _ in segments]
    deltas = [(gid - code) & 0xFFFF if code != 0xFFFF else 1 for code, gid in segments]
    body = struct.pack(f">4H{count}HH{count}H{count}H{count}H", 2 * count, 2 * search, search.bit_length() - 1,
                       2 * count - 2 * search, *ends, 0, *ends, *deltas, *([0] * count))
    subtable = struct.pack(">3H", 4, 6 + len(body), 0) + body
    return struct.pack(">HHHHI", 0, 1, 3, 1, 12) + subtable


def _assemble(tables: dict[bytes, bytes | tuple[bytes, int]]) -> bytes:
    """The font file; a table is its bytes, or (bytes, checksum) when the checksum is known already."""
    tags = sorted(tables)
    count = len(tags)
    search = 2 ** (count.bit_length() - 1)
    header = struct.pack(">IHHHH", 0x00010000, count, 16 * search, search.bit_length() - 1, 16 * (count - search))
    directory = bytearray(header)
    body = bytearray()
    start = 12 + 16 * count
    head_at = total = 0
    for tag in tags:
        entry = tables[tag]
        data, checksum = entry if isinstance(entry, tuple) else (entry, _checksum(entry))
        if tag == b"head":
            head_at = start + len(body)
        directory += struct.pack(">4sIII", tag, checksum, start + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
        total += checksum
    # The file's checksum is the sum of its (padded) parts': the directory's and every table's, the
    # head's taken with checkSumAdjustment = 0 as the format requires.
    total += _checksum(bytes(directory))
    font = directory + body
    struct.pack_into(">I", font, head_at + 8, (0xB1B0AFBA - total) & 0xFFFFFFFF)
    return bytes(font)


@lru_cache(maxsize=4)
def load_face(path: str | os.PathLike[str]) -> TrueTypeFace:
    """The parsed font at ``path``, once per process."""
    return TrueTypeFace(Path(path).read_bytes(), name=str(path))
