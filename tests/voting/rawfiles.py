"""What someone holding copies of the stored data can read, and what they can link with it.

Two halves:

* Readers that turn raw storage into rows: the SQLite main file and its ``-wal`` file, decoded from the
  bytes alone (file format: https://www.sqlite.org/fileformat2.html; no sqlite3, no third-party
  parser), PostgreSQL tables read with their system columns, and captured log records.
* ``Attack``: links voters to choices from those rows, knowing nothing of the real mapping. It only
  knows the shapes any reader of the schema knows: a voter is named by a ``voter_id`` column or a JSON
  ``"voter": id``; a choice is JSON ``"choice": "key"``; a receipt code looks like ``ABCD-EFGH`` and
  the published receipts say which choice each receipt carries.
"""

from __future__ import annotations

import re
import struct
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# --- SQLite: records and b-tree pages ----------------------------------------------------------------

TABLE_LEAF = 0x0D
INDEX_LEAF = 0x0A
TABLE_INTERIOR = 0x05
INDEX_INTERIOR = 0x02
_PAGE_KINDS = (TABLE_LEAF, INDEX_LEAF, TABLE_INTERIOR, INDEX_INTERIOR)
WAL_MAGICS = (0x377F0682, 0x377F0683)


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """SQLite's varint: 1 to 9 bytes, big-endian, 7 bits a byte except the ninth (8 bits)."""
    value = 0
    for i in range(8):
        byte = buf[pos + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos + i + 1
    return (value << 8) | buf[pos + 8], pos + 9


def decode_record(payload: bytes) -> tuple[Any, ...]:
    """The record format: a varint header size, one serial type per column, then the column bodies."""
    header_size, pos = read_varint(payload, 0)
    types = []
    while pos < header_size:
        serial, pos = read_varint(payload, pos)
        types.append(serial)
    body = header_size
    values: list[Any] = []
    for serial in types:
        if serial == 0:
            values.append(None)
        elif 1 <= serial <= 6:
            size = (1, 2, 3, 4, 6, 8)[serial - 1]
            values.append(int.from_bytes(payload[body:body + size], "big", signed=True))
            body += size
        elif serial == 7:
            values.append(struct.unpack(">d", payload[body:body + 8])[0])
            body += 8
        elif serial in (8, 9):
            values.append(serial - 8)
        elif serial >= 12:
            size = (serial - 12) // 2 if serial % 2 == 0 else (serial - 13) // 2
            raw = payload[body:body + size]
            values.append(raw.decode("utf-8", "replace") if serial % 2 else bytes(raw))
            body += size
        else:  # 10, 11: reserved, never written by SQLite
            values.append(None)
    return tuple(values)


class Image:
    """A database as page images: the main file's pages, with WAL frames laid over them."""

    def __init__(self, main: bytes, page_size: int | None = None) -> None:
        self.page_size = page_size or _main_page_size(main) or 4096
        self.reserved = main[20] if len(main) >= 100 else 0
        self.pages: dict[int, bytes] = {}
        for n in range(len(main) // self.page_size):
            self.pages[n + 1] = main[n * self.page_size:(n + 1) * self.page_size]

    def copy(self) -> Image:
        other = Image.__new__(Image)
        other.page_size, other.reserved, other.pages = self.page_size, self.reserved, dict(self.pages)
        return other

    @property
    def usable(self) -> int:
        return self.page_size - self.reserved

    def page(self, number: int) -> bytes | None:
        return self.pages.get(number)


def _main_page_size(main: bytes) -> int | None:
    if len(main) < 100 or not main.startswith(b"SQLite format 3\x00"):
        return None
    size = int.from_bytes(main[16:18], "big")
    return 65536 if size == 1 else size


def _header_offset(number: int) -> int:
    return 100 if number == 1 else 0  # page 1 starts with the 100-byte file header


def page_kind(data: bytes | None, number: int) -> int | None:
    if data is None:
        return None
    kind = data[_header_offset(number)]
    return kind if kind in _PAGE_KINDS else None


def _cell_offsets(data: bytes, number: int) -> list[int]:
    h = _header_offset(number)
    kind = data[h]
    ncells = int.from_bytes(data[h + 3:h + 5], "big")
    start = h + (12 if kind in (TABLE_INTERIOR, INDEX_INTERIOR) else 8)
    return [int.from_bytes(data[start + 2 * i:start + 2 * i + 2], "big") for i in range(ncells)]


def child_pages(data: bytes, number: int) -> list[int]:
    """An interior page's children, left to right (the right-most pointer last)."""
    h = _header_offset(number)
    children = [int.from_bytes(data[off:off + 4], "big") for off in _cell_offsets(data, number)]
    children.append(int.from_bytes(data[h + 8:h + 12], "big"))
    return children


def _payload(image: Image, data: bytes, pos: int, size: int, index: bool) -> bytes:
    """A cell's payload, following its overflow chain when it does not fit the page."""
    u = image.usable
    most = (u - 12) * 64 // 255 - 23 if index else u - 35
    if size <= most:
        return data[pos:pos + size]
    least = (u - 12) * 32 // 255 - 23
    local = least + (size - least) % (u - 4)
    if local > most:
        local = least
    out = bytearray(data[pos:pos + local])
    nxt = int.from_bytes(data[pos + local:pos + local + 4], "big")
    seen = set()
    while nxt and len(out) < size and nxt not in seen:
        seen.add(nxt)
        page = image.page(nxt)
        if page is None:
            break  # the chain leaves the copy: keep what is there
        out += page[4:u]
        nxt = int.from_bytes(page[:4], "big")
    return bytes(out[:size])


@dataclass(frozen=True)
class Cell:
    rowid: int | None
    values: tuple[Any, ...]


def page_cells(image: Image, number: int, data: bytes | None = None) -> list[tuple[int | None, Cell | None]]:
    """A page's cells in cell order, as (left child, record). Table leaves and index pages hold records
    (an index b-tree keeps entries in its interior pages too); table interior cells only a child."""
    data = data if data is not None else image.page(number)
    kind = page_kind(data, number)
    if kind is None:
        return []
    cells: list[tuple[int | None, Cell | None]] = []
    for off in _cell_offsets(data, number):
        try:
            child = None
            pos = off
            if kind in (TABLE_INTERIOR, INDEX_INTERIOR):
                child, pos = int.from_bytes(data[off:off + 4], "big"), off + 4
            if kind == TABLE_INTERIOR:
                cells.append((child, None))
                continue
            size, pos = read_varint(data, pos)
            rowid = None
            if kind == TABLE_LEAF:
                rowid, pos = read_varint(data, pos)
            payload = _payload(image, data, pos, size, kind != TABLE_LEAF)
            cells.append((child, Cell(rowid, decode_record(payload))))
        except (IndexError, ValueError, struct.error):
            continue  # a damaged or half-overwritten cell: skip it, keep the rest
    return cells


def records(image: Image, number: int, data: bytes | None = None) -> list[Cell]:
    """The records a page holds, in cell order."""
    return [cell for _child, cell in page_cells(image, number, data) if cell is not None]


# --- SQLite: the schema ----------------------------------------------------------------------------

@dataclass
class SchemaObject:
    kind: str              # "table" or "index"
    name: str
    table: str
    root: int
    columns: list[str]     # in record order
    rowid_alias: str | None = None


_CONSTRAINT_WORDS = ("CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK")


def _split_top(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _ident(token: str) -> str:
    return token.strip().strip('"`[]')


def _table_object(name: str, root: int, sql: str) -> SchemaObject:
    inner = sql[sql.index("(") + 1:sql.rindex(")")]
    columns, types, pk = [], {}, []
    for part in _split_top(inner):
        words = part.split()
        if not words:
            continue
        if words[0].upper() in _CONSTRAINT_WORDS:
            m = re.search(r"PRIMARY\s+KEY\s*\(([^)]*)\)", part, re.IGNORECASE)
            if m:
                pk = [_ident(c) for c in m.group(1).split(",")]
            continue
        col = _ident(words[0])
        columns.append(col)
        types[col] = words[1].upper() if len(words) > 1 else ""
        if re.search(r"PRIMARY\s+KEY", part, re.IGNORECASE):
            pk = [col]
    if re.search(r"WITHOUT\s+ROWID", sql[sql.rindex(")"):], re.IGNORECASE):
        # Stored as an index b-tree: the key columns first, then the others in declared order.
        return SchemaObject("table", name, name, root, pk + [c for c in columns if c not in pk])
    alias = pk[0] if len(pk) == 1 and types.get(pk[0]) == "INTEGER" else None
    return SchemaObject("table", name, name, root, columns, rowid_alias=alias)


def read_schema(image: Image) -> list[SchemaObject]:
    """Tables and indexes from sqlite_master (the table b-tree rooted at page 1)."""
    objects = [SchemaObject("table", "sqlite_master", "sqlite_master", 1,
                            ["type", "name", "tbl_name", "rootpage", "sql"])]
    tables: dict[str, SchemaObject] = {}
    entries = [cell.values for _page, _i, cell in tree_entries(image, 1)]
    for values in entries:
        if len(values) < 5 or values[0] != "table" or not isinstance(values[3], int) or not values[3]:
            continue
        try:
            obj = _table_object(values[1], values[3], values[4] or "")
        except ValueError:
            obj = SchemaObject("table", values[1], values[2], values[3], [])
        tables[obj.name] = obj
        objects.append(obj)
    for values in entries:
        if len(values) < 5 or values[0] != "index" or not isinstance(values[3], int) or not values[3]:
            continue
        sql = values[4] or ""
        m = re.search(r"\(([^)]*)\)\s*$", sql.strip())
        cols = [_ident(c.split()[0]) for c in m.group(1).split(",")] if m else []
        owner = tables.get(values[2])
        if owner is not None and owner.rowid_alias is None and owner.columns and sql == "":
            cols = []  # an automatic index: its columns are not written down anywhere
        objects.append(SchemaObject("index", values[1], values[2], values[3], cols + ["rowid"] if cols else []))
    return objects


def tree_entries(image: Image, root: int) -> list[tuple[int, int, Cell]]:
    """Every record of the b-tree rooted at ``root`` in key order, as (page, cell index, record)."""
    out: list[tuple[int, int, Cell]] = []
    seen: set[int] = set()

    def walk(number: int) -> None:
        if number in seen or len(seen) > 1_000_000:
            return
        seen.add(number)
        data = image.page(number)
        kind = page_kind(data, number)
        if kind is None:
            return
        for i, (child, cell) in enumerate(page_cells(image, number, data)):
            if child is not None:
                walk(child)
            if cell is not None:
                out.append((number, i, cell))
        if kind in (TABLE_INTERIOR, INDEX_INTERIOR):
            h = _header_offset(number)
            walk(int.from_bytes(data[h + 8:h + 12], "big"))

    walk(root)
    return out


def tree_pages(image: Image, root: int) -> set[int]:
    """Every page of the b-tree rooted at ``root``."""
    pages, stack = set(), [root]
    while stack:
        number = stack.pop()
        data = image.page(number)
        if number in pages or page_kind(data, number) is None:
            continue
        pages.add(number)
        if page_kind(data, number) in (TABLE_INTERIOR, INDEX_INTERIOR):
            stack.extend(child_pages(data, number))
    return pages


def page_owners(image: Image, schema: list[SchemaObject]) -> dict[int, SchemaObject]:
    owners = {}
    for obj in schema:
        for page in tree_pages(image, obj.root):
            owners[page] = obj
    return owners


# --- rows, as every reader below yields them -------------------------------------------------------

@dataclass
class Row:
    """One stored record: where it was found and its values by column name."""

    source: str                        # "main", "wal", "postgresql", "log"
    table: str                         # table (or "index:name") it belongs to
    values: dict[str, Any]
    position: tuple[Any, ...] = ()     # physical place: (page order, cell) / ctid / log sequence
    group: Any = None                  # commit it was written in: WAL commit number / xmin


def _row(obj: SchemaObject | None, cell: Cell, source: str, position: tuple, group: Any = None) -> Row:
    if obj is None:
        names = [f"c{i}" for i in range(len(cell.values))]
        return Row(source, "?", dict(zip(names, cell.values, strict=True)), position, group)
    names = list(obj.columns) if len(obj.columns) == len(cell.values) else [f"c{i}" for i in range(len(cell.values))]
    values = dict(zip(names, cell.values, strict=True))
    if obj.rowid_alias and values.get(obj.rowid_alias) is None:
        values[obj.rowid_alias] = cell.rowid  # INTEGER PRIMARY KEY: stored as the rowid, NULL in the record
    if cell.rowid is not None:
        values.setdefault("rowid", cell.rowid)
    table = obj.name if obj.kind == "table" else f"index:{obj.name}"
    return Row(source, table, values, position, group)


def image_rows(image: Image, source: str = "main") -> list[Row]:
    """Every record of every b-tree, page by page in key order and cells in cell order."""
    schema = read_schema(image)
    rows = []
    for obj in schema:
        entries = tree_entries(image, obj.root)
        rows += [_row(obj, cell, source, (n, page, i)) for n, (page, i, cell) in enumerate(entries)]
    return rows


# --- SQLite: the WAL file ------------------------------------------------------------------------------

@dataclass
class WalFrame:
    index: int            # position in the file
    page: int
    commit_size: int      # "size of the database after commit": non-zero marks a commit's last frame
    salt: tuple[int, int]
    data: bytes


@dataclass
class WalCommit:
    number: int           # across the file: older generations first, then the current one
    generation: int       # 0: the current one (its salt is the header's); 1, 2...: older, still in the file
    frames: list[WalFrame]
    committed: bool       # False: frames after the last commit frame (a transaction never committed)
    rows: list[Row] = field(default_factory=list)  # records this commit added or changed


def wal_frames(wal: bytes) -> tuple[int, tuple[int, int], list[WalFrame]]:
    """The WAL header's page size and salt, and every whole frame in the file, whatever its salt."""
    if len(wal) < 32:
        return 0, (0, 0), []
    magic, _version, page_size, _seq, salt1, salt2 = struct.unpack(">6I", wal[:24])
    if magic not in WAL_MAGICS:
        raise ValueError("not a WAL file")
    frames = []
    step = 24 + page_size
    for i in range((len(wal) - 32) // step):
        off = 32 + i * step
        page, size, s1, s2 = struct.unpack(">4I", wal[off:off + 16])
        frames.append(WalFrame(i, page, size, (s1, s2), wal[off + 24:off + step]))
    return page_size, (salt1, salt2), frames


def wal_commits(main: bytes, wal: bytes) -> list[WalCommit]:
    """The WAL's frames grouped into commits, each with the rows it wrote.

    The current generation is laid over the main file in order. Frames of older generations (another
    salt: written before a checkpoint reset the WAL, not yet overwritten) are kept too; the main file
    may already hold their changes, so for them a page's previous state is its previous frame in the
    same generation, or nothing (every record on the page counts as written then).
    """
    page_size, salt, frames = wal_frames(wal)
    if not frames:
        return []
    current = []
    for frame in frames:
        if frame.salt != salt:
            break
        current.append(frame)
    older: list[list[WalFrame]] = []
    for frame in frames[len(current):]:
        if not older or older[-1][-1].salt != frame.salt:
            older.append([])
        older[-1].append(frame)
    # Each reset of the WAL adds one to the first salt: the smaller, the older.
    older.sort(key=lambda run: run[0].salt[0], reverse=True)
    commits: list[WalCommit] = []
    base = Image(main, page_size)
    for gen, run in reversed(list(enumerate(older, start=1))):
        commits += _commits_of(run, gen, Image(b"", page_size), base, len(commits))
    commits += _commits_of(current, 0, base.copy(), None, len(commits))
    return commits


def _commits_of(frames: list[WalFrame], generation: int, before: Image, overlay_of: Image | None,
                first_number: int) -> list[WalCommit]:
    """Split one generation's frames into commits and decode what each changed.

    ``before`` is the image the generation starts from; ``overlay_of`` (older generations) is the image
    used only to read pages the generation did not write (schema, overflow pages)."""
    runs: list[tuple[list[WalFrame], bool]] = []
    pending: list[WalFrame] = []
    for frame in frames:
        pending.append(frame)
        if frame.commit_size:
            runs.append((pending, True))
            pending = []
    if pending:
        runs.append((pending, False))
    commits = []
    for n, (run, committed) in enumerate(runs):
        after = before.copy()
        for frame in run:
            after.pages[frame.page] = frame.data
        reading = after
        if overlay_of is not None:
            reading = overlay_of.copy()
            reading.pages.update(after.pages)
        commit = WalCommit(first_number + n, generation, run, committed)
        commit.rows = _changed_rows(before, after, reading, {f.page for f in run}, commit.number)
        commits.append(commit)
        before = after
    return commits


def _changed_rows(before: Image, after: Image, reading: Image, written: set[int], number: int) -> list[Row]:
    """Rows on the written pages after the commit that were not on them before (new or changed)."""
    try:
        owners = page_owners(reading, read_schema(reading))
    except (IndexError, ValueError, struct.error):
        owners = {}
    old: Counter = Counter()
    for page in written:
        for cell in records(reading, page, before.page(page)) if before.page(page) else []:
            old[cell.values] += 1
    rows = []
    for page in sorted(written):
        for i, cell in enumerate(records(reading, page, after.page(page))):
            if old[cell.values] > 0:
                old[cell.values] -= 1
                continue
            rows.append(_row(owners.get(page), cell, "wal", (number, page, i), group=number))
    return rows


def latest_image(main: bytes, wal: bytes) -> Image:
    """What a reader of the database sees: the main file with the current WAL generation's commits."""
    page_size, salt, frames = wal_frames(wal)
    image = Image(main, page_size or None)
    pending: dict[int, bytes] = {}
    for frame in frames:
        if frame.salt != salt:
            break
        pending[frame.page] = frame.data
        if frame.commit_size:
            image.pages.update(pending)
            pending = {}
    return image


# --- PostgreSQL and logs -------------------------------------------------------------------------------

def postgres_rows(conn: Any, tables: Iterable[str]) -> list[Row]:
    """Every row of the tables, with ctid, xmin and xmax, in physical (ctid) order."""
    from sqlalchemy import text

    rows = []
    for table in tables:
        columns = 'ctid::text AS "_ctid", xmin::text AS "_xmin", xmax::text AS "_xmax", t.*'
        query = f'SELECT {columns} FROM "{table}" t ORDER BY ctid'  # noqa: S608 - a name from the catalog
        result = conn.execute(text(query))
        for mapping in result.mappings():
            values = dict(mapping)
            block, item = values["_ctid"].strip("()").split(",")
            rows.append(Row("postgresql", table, values, (int(block), int(item)), group=int(values["_xmin"])))
    return rows


def log_rows(captured: Iterable[Any]) -> list[Row]:
    """Captured log records as rows: one line each, grouped by thread between commit lines (when the
    engine's own logging is on, its BEGIN ... COMMIT lines show which statements went together)."""
    rows, segment = [], defaultdict(int)
    for seq, record in enumerate(captured):
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        thread = getattr(record, "thread", 0)
        rows.append(Row("log", record.name, {"message": message, "created": record.created}, (seq,),
                        group=(thread, segment[thread])))
        if message.strip().upper() in ("COMMIT", "ROLLBACK"):
            segment[thread] += 1
    return rows


# --- the attack ----------------------------------------------------------------------------------------

_CHOICE = re.compile(r'"choice"\s*:\s*"([^"]+)"')
_VOTER = re.compile(r'"voter"\s*:\s*(\d+)')
_RECEIPT = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")
_OPAQUE = re.compile(r"^[A-Za-z0-9+/=_-]+$")  # base64 or hex: ciphertext, keys, digests
_TIME = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?")
_SYSTEM_COLUMNS = ("_ctid", "_xmin", "_xmax", "rowid")


def _texts(row: Row) -> list[str]:
    return [v for v in row.values.values() if isinstance(v, str)]


def voters_of(row: Row) -> set[int]:
    """Voters a row names: a ``voter_id`` column, or JSON ``"voter": id`` in any text."""
    found = {v for k, v in row.values.items() if k == "voter_id" and isinstance(v, int)}
    for value in _texts(row):
        found |= {int(m) for m in _VOTER.findall(value)}
    return found


def timestamps_of(row: Row) -> list[str]:
    out = []
    for k, v in row.values.items():
        if k in _SYSTEM_COLUMNS:
            continue
        if hasattr(v, "isoformat"):
            out.append(v.isoformat(sep=" ")[:26])
        elif isinstance(v, str) and _TIME.match(v):
            out.append(v[:26].replace("T", " "))
    return out


@dataclass
class Finding:
    method: str
    note: str
    guesses: dict[int, Counter] = field(default_factory=dict)
    # Links that need no luck: a row naming the voter and a choice, or a group of one voter and one choice.
    certain: dict[int, set[str]] = field(default_factory=dict)


class Attack:
    """Collects evidence method by method; ``guess`` gives each voter a choice from the strongest one.

    ``published``: receipt code -> choice, as published after the close (an attacker holding a copy
    made during the ballot can wait for it).
    """

    # Method kinds, strongest first: between equally convincing pieces of evidence the stronger kind wins.
    PRIORITY = ("row", "log", "commit", "xmin", "size", "time", "order")

    def __init__(self, published: dict[str, str] | None = None) -> None:
        self.receipts: dict[str, str] = dict(published or {})
        self.findings: list[Finding] = []
        self.choices_seen: Counter = Counter()  # every plaintext choice met, linked or not
        self.notes: list[str] = []              # what was read, for the report

    # What rows hold -------------------------------------------------------------------------------

    def learn_receipts(self, rows: Iterable[Row]) -> None:
        """A row holding one receipt and a choice tells the receipt's choice."""
        for row in rows:
            choice = self.choice_in(row)
            if choice:
                self.choices_seen[choice] += 1
            receipts = {r for t in _texts(row) for r in _RECEIPT.findall(t)}
            if choice and len(receipts) == 1:
                self.receipts.setdefault(receipts.pop(), choice)

    @staticmethod
    def choice_in(row: Row) -> str | None:
        choices = [c for t in _texts(row) for c in _CHOICE.findall(t)]
        return "+".join(choices) if choices else None

    def votes_in(self, row: Row) -> dict[Any, str | None]:
        """The votes a row shows: token (receipt, or the row itself) -> choice, when it can be told."""
        receipts = {r for t in _texts(row) for r in _RECEIPT.findall(t)}
        choice = self.choice_in(row)
        if len(receipts) == 1:
            return {next(iter(receipts)): choice or self.receipts.get(next(iter(receipts)))}
        if choice:
            return {("row", row.table, repr(sorted(row.values.items(), key=str))): choice}
        return {r: self.receipts.get(r) for r in receipts}

    # Methods ----------------------------------------------------------------------------------------

    def _add(self, method: str, note: str, guesses: dict[int, Counter],
             certain: dict[int, set[str]] | None = None) -> Finding:
        finding = Finding(method, note, {v: c for v, c in guesses.items() if c}, dict(certain or {}))
        self.findings.append(finding)
        return finding

    def rows_naming_both(self, method: str, rows: Iterable[Row]) -> Finding:
        """(d) and named rows: one row (or log line) that names a voter and a choice or receipt."""
        guesses: dict[int, Counter] = defaultdict(Counter)
        certain: dict[int, set[str]] = defaultdict(set)
        hits = 0
        for row in rows:
            voters = voters_of(row)
            choices = [c for c in self.votes_in(row).values() if c]
            if len(voters) == 1 and choices:
                hits += 1
                guesses[next(iter(voters))].update(choices)
                certain[next(iter(voters))].update(choices)
        return self._add(method, f"{hits} rows name a voter and a choice", guesses, certain)

    def groups(self, method: str, rows: Iterable[Row]) -> Finding:
        """(a) rows written together (one commit, one xmin, one log segment): each voter of a group is
        linked to the group's choices; a group of one voter and one choice is a certain link."""
        by_group: dict[Any, list[Row]] = defaultdict(list)
        for row in rows:
            if row.group is not None:
                by_group[row.group].append(row)
        guesses: dict[int, Counter] = defaultdict(Counter)
        certain: dict[int, set[str]] = defaultdict(set)
        sizes: Counter = Counter()
        for members in by_group.values():
            voters: set[int] = set()
            votes: dict[Any, str | None] = {}
            for row in members:
                voters |= voters_of(row)
                votes.update(self.votes_in(row))
            choices = [c for c in votes.values() if c]
            if not voters or not choices:
                continue
            sizes[(len(voters), len(choices))] += 1
            if len(voters) == 1 and len(choices) == 1:
                certain[next(iter(voters))].add(choices[0])
            for voter in voters:
                for choice, n in Counter(choices).items():
                    guesses[voter][choice] += n / len(choices) / len(voters)
        note = ", ".join(f"{n}x({v} voters, {c} choices)" for (v, c), n in sorted(sizes.items())) or "no group"
        return self._add(method, note, guesses, certain)

    def order(self, method: str, votes: list[Row], voters: list[int]) -> Finding:
        """(b) the n-th vote row (in some order) paired with the n-th voter (in some order)."""
        choices = [self.choice_in(r) or next((c for c in self.votes_in(r).values() if c), None) for r in votes]
        guesses: dict[int, Counter] = defaultdict(Counter)
        for voter, choice in zip(voters, choices, strict=False):
            if choice:
                guesses[voter][choice] += 1
        return self._add(method, f"{len(votes)} vote rows against {len(voters)} voters", guesses)

    def times(self, method: str, votes: list[tuple[str, Row]], voters: list[tuple[str, int]]) -> Finding:
        """(c) a vote row's time (its own, or its commit's) matched to the voter who voted nearest then."""
        guesses: dict[int, Counter] = defaultdict(Counter)
        ordered = sorted(voters)
        for when, row in votes:
            choice = self.choice_in(row) or next((c for c in self.votes_in(row).values() if c), None)
            if not choice or not ordered:
                continue
            nearest = min(ordered, key=lambda tv, w=when: _seconds_apart(tv[0], w))
            guesses[nearest[1]][choice] += 1
        return self._add(method, f"{len(votes)} timed vote rows", guesses)

    def sizes(self, method: str, rows: Iterable[Row]) -> Finding:
        """Lengths: a sealed or encrypted vote kept on a row naming its voter tells its choice by its
        length unless padded. Voters are split by the length of each such value; when the classes are as
        many as the distinct lengths of the options' keys, shortest goes with shortest."""
        options = Counter(self.receipts.values()) or self.choices_seen
        by_length: dict[int, list[str]] = defaultdict(list)
        for choice in sorted(options, key=lambda c: (-options[c], c)):
            by_length[len(choice)].append(choice)
        lengths: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
        for row in rows:
            voters = voters_of(row)
            if len(voters) != 1:
                continue
            for column, value in row.values.items():
                opaque = isinstance(value, bytes) or (isinstance(value, str) and _OPAQUE.match(value))
                if opaque and len(value) >= 32 and column not in _SYSTEM_COLUMNS:
                    lengths[(row.table, column)][next(iter(voters))] = len(value)
        guesses: dict[int, Counter] = defaultdict(Counter)
        notes = []
        for (table, column), per_voter in sorted(lengths.items()):
            classes = sorted(set(per_voter.values()))
            if len(classes) < 2:
                continue
            notes.append(f"{table}.{column}: {len(classes)} lengths")
            if len(classes) != len(by_length):
                continue
            for length, choices in zip(classes, (by_length[n] for n in sorted(by_length)), strict=True):
                for voter, n in per_voter.items():
                    if n == length:
                        guesses[voter][choices[0]] += 1
        return self._add(method, "; ".join(notes) or "every opaque value of a voter's row has one length", guesses)

    # The verdict ------------------------------------------------------------------------------------

    # How far a method's link is to be trusted: rows naming both and groups say it outright (a group
    # of several voters through its mix of choices); a pairing by order or time is only a conjecture.
    TRUST = {"row": 1.0, "log": 1.0, "commit": 1.0, "xmin": 1.0, "size": 0.6, "time": 0.5, "order": 0.4}

    def guess(self, voters: Iterable[int], method: str | None = None) -> dict[int, str]:
        """Each voter's best guess: from ``method`` alone, or from the most convincing evidence of any
        method. Without evidence, the most common choice (by the published receipts, else as seen)."""
        seen: Counter = Counter(self.receipts.values()) or self.choices_seen
        fallback = sorted(seen, key=lambda c: (-seen[c], c))[0] if seen else ""
        findings = [f for f in self.findings if method is None or f.method == method]
        out = {}
        for voter in voters:
            best: tuple[float, int, str] | None = None
            for f in findings:
                evidence = f.guesses.get(voter)
                if not evidence:
                    continue
                choice = sorted(evidence, key=lambda c, e=evidence: (-e[c], c))[0]
                score = self.TRUST.get(f.method.split(":")[0], 0.3) * evidence[choice] / sum(evidence.values())
                candidate = (score, -self._rank(f.method), choice)
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
            out[voter] = best[2] if best else fallback
        return out

    def _rank(self, method: str) -> int:
        head = method.split(":")[0]
        return self.PRIORITY.index(head) if head in self.PRIORITY else len(self.PRIORITY)

    def methods(self) -> list[str]:
        return list(dict.fromkeys(f.method for f in self.findings))


# --- the attack on each store ---------------------------------------------------------------------------

def _first_voter_order(rows: Iterable[Row], key: Any) -> list[int]:
    """Voters in the order of the rows naming one voter (each voter at its first row)."""
    order: list[int] = []
    for row in sorted(rows, key=key):
        voters = voters_of(row)
        if len(voters) == 1 and next(iter(voters)) not in order:
            order.append(next(iter(voters)))
    return order


def _vote_tables(attack: Attack, rows: list[Row]) -> dict[str, list[Row]]:
    """Rows showing a vote and no voter, by table (the vote rows of secret ballots, and their indexes)."""
    out: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if not voters_of(row) and any(c for c in attack.votes_in(row).values()):
            out[row.table].append(row)
    return out


def _voter_tables(rows: list[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if len(voters_of(row)) == 1:
            out[row.table].append(row)
    return out


def _order_attacks(attack: Attack, label: str, votes: dict[str, list[Row]], voters: dict[str, list[Row]],
                   vote_keys: dict[str, Any], voter_keys: dict[str, Any]) -> None:
    for vt, vrows in votes.items():
        for vk_name, vk in vote_keys.items():
            ordered = sorted(vrows, key=vk)
            for ut, urows in voters.items():
                for uk_name, uk in voter_keys.items():
                    attack.order(f"order:{label}:{vt}/{vk_name}~{ut}/{uk_name}", ordered, _first_voter_order(urows, uk))


def _time_key(row: Row) -> tuple:
    times = timestamps_of(row)
    return (min(times) if times else "~", row.position)


def _time_attack(attack: Attack, label: str, votes: list[tuple[str, Row]], rows: list[Row]) -> None:
    voters = []
    for row in rows:
        who, times = voters_of(row), timestamps_of(row)
        if len(who) == 1 and times:
            voters += [(t, next(iter(who))) for t in times]
    if votes and voters:
        attack.times(f"time:{label}", votes, voters)


def attack_sqlite(main: bytes, wal: bytes, logs: list[Row], published: dict[str, str] | None = None) -> Attack:
    """Everything a copy of the SQLite files (and the logs) gives away."""
    attack = Attack(published)
    commits = wal_commits(main, wal) if wal else []
    changed = [row for c in commits for row in c.rows]
    attack.notes.append(f"main file {len(main)} bytes; WAL {sum(len(c.frames) for c in commits)} frames in "
                        f"{len(commits)} commits ({sum(not c.committed for c in commits)} unfinished), "
                        f"{len({c.generation for c in commits if c.generation})} older generations")
    main_rows = image_rows(Image(main), "main") if main else []
    latest = image_rows(latest_image(main, wal), "latest") if wal else main_rows
    attack.learn_receipts(main_rows + changed + latest + logs)
    attack.rows_naming_both("row:sqlite", main_rows + changed + latest)
    attack.rows_naming_both("log:line", logs)
    attack.groups("commit:wal", changed)
    attack.sizes("size:sqlite", main_rows + changed + latest)
    attack.groups("log:commit", logs)
    # Order: the latest cell order (what a copy of the database shows), and the order in which rows
    # first appear in the WAL.
    keys = {"cells": lambda r: r.position, "time": _time_key}
    _order_attacks(attack, "file", _vote_tables(attack, latest), _voter_tables(latest), {"cells": keys["cells"]},
                   keys)
    _order_attacks(attack, "wal", _vote_tables(attack, changed), _voter_tables(changed),
                   {"appearance": keys["cells"]}, {"appearance": keys["cells"]})
    # Time: a vote row has no time of its own, but its commit's other rows do.
    group_times: dict[Any, list[str]] = defaultdict(list)
    for row in changed:
        group_times[row.group] += timestamps_of(row)
    timed = [(sorted(group_times[r.group])[len(group_times[r.group]) // 2], r)
             for rows in _vote_tables(attack, changed).values() for r in rows if group_times[r.group]]
    timed += [(t, r) for rows in _vote_tables(attack, latest).values() for r in rows for t in timestamps_of(r)]
    _time_attack(attack, "sqlite", timed, latest + changed)
    return attack


def attack_postgres(rows: list[Row], logs: list[Row], published: dict[str, str] | None = None) -> Attack:
    """Everything a copy of the PostgreSQL tables (with ctid, xmin, xmax) and the logs give away."""
    attack = Attack(published)
    attack.notes.append(f"{len(rows)} rows of {len({r.table for r in rows})} tables, "
                        f"{len({r.group for r in rows})} transaction ids")
    attack.learn_receipts(rows + logs)
    attack.rows_naming_both("row:postgresql", rows)
    attack.rows_naming_both("log:line", logs)
    # A row locked or deleted by a transaction carries its id in xmax: that transaction touched it too.
    by_xid = rows + [Row(r.source, r.table, r.values, r.position, int(r.values["_xmax"]))
                     for r in rows if str(r.values.get("_xmax", "0")) != "0"]
    attack.groups("xmin:postgresql", by_xid)
    attack.sizes("size:postgresql", rows)
    attack.groups("log:commit", logs)
    keys = {"ctid": lambda r: r.position, "xmin": lambda r: (r.group, r.position), "time": _time_key,
            "id": lambda r: (str(r.values.get("id")).zfill(20), r.position)}
    _order_attacks(attack, "heap", _vote_tables(attack, rows), _voter_tables(rows),
                   {"ctid": keys["ctid"], "xmin": keys["xmin"]}, keys)
    timed = [(t, r) for vrows in _vote_tables(attack, rows).values() for r in vrows for t in timestamps_of(r)]
    _time_attack(attack, "postgresql", timed, rows)
    return attack


def _seconds_apart(a: str, b: str) -> float:
    from datetime import datetime

    def parse(s: str) -> datetime:
        return datetime.fromisoformat(s.replace("Z", "")[:26].rstrip())

    try:
        return abs((parse(a).replace(tzinfo=None) - parse(b).replace(tzinfo=None)).total_seconds())
    except ValueError:
        return float("inf")
