"""Importing agenda items from a spreadsheet (CSV or Excel .xlsx): read, checked row by row for a preview,
and stored only when the secretariat confirms.

Reading is bounded so that it stays quick inside a request: at most ``IMPORT_MAX_BYTES`` of file, an
Excel workbook that unpacks to at most ``XLSX_MAX_UNPACKED`` bytes, ``IMPORT_MAX_ROWS`` agenda items and
``IMPORT_MAX_COLUMNS`` columns. A file that cannot be read raises ``SpreadsheetError`` saying why; a row
that cannot become an agenda item is listed with its row number and what is wrong with it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecabinet.core.actor import Actor
from ecabinet.meetings.models import ItemKind, Meeting, MeetingItem
from ecabinet.meetings.service.agenda import ItemData, add_item
from ecabinet.meetings.service.common import (
    DURATION_MAX,
    ITEM_TITLE_MAX,
    SUMMARY_MAX,
    TEXT_MAX,
    MeetingError,
    record_change,
    require_editable,
    require_secretary,
)

IMPORT_MAX_BYTES = 2 * 1024 * 1024
XLSX_MAX_UNPACKED = 20 * 1024 * 1024
XLSX_MAX_MEMBERS = 200
IMPORT_MAX_ROWS = 300
IMPORT_MAX_COLUMNS = 30
# Rows read in all, blank ones included: a sheet padded with empty rows is refused, not walked.
_MAX_ROWS_READ = IMPORT_MAX_ROWS * 4

# Column names, compared without case, spaces or a trailing "(…)" such as "Thời lượng (phút)".
COLUMNS = {
    "title": ("title", "item title", "tiêu đề", "tên", "tên mục", "nội dung"),
    "ministry": ("ministry", "presenting ministry", "cơ quan trình", "bộ trình", "bộ", "cơ quan"),
    "presenter": ("presenter", "người trình bày", "người trình"),
    "duration": ("duration", "duration minutes", "planned duration", "minutes", "thời lượng", "thời lượng dự kiến",
                 "thời gian"),
    "kind": ("kind", "loại", "hình thức"),
    "summary": ("summary", "tóm tắt"),
}
_KINDS = {
    ItemKind.DECISION: ("decision", "for decision", "quyết định", "để quyết định", "biểu quyết"),
    ItemKind.DISCUSSION: ("discussion", "for discussion", "thảo luận", "để thảo luận", "cho ý kiến"),
    ItemKind.INFORMATION: ("information", "for information", "thông tin", "để thông tin", "báo cáo"),
}
_KIND_WORDS = {word: kind for kind, words in _KINDS.items() for word in words}
_DURATION = re.compile(r"^(\d{1,4})(?:[.,]0+)?\s*(?:phút|ph|p|min|mins|minutes|m|')?$", re.IGNORECASE)
_ODD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class SpreadsheetError(MeetingError):
    """A file that cannot be read as an agenda: the message says why. Nothing was stored; the request may
    go on (showing the form again), so it does not doom the unit of work."""

    dooms = False


@dataclass(frozen=True)
class Problem:
    """What is wrong with one cell or row, translated when shown."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def translated(self) -> str:
        from flask_babel import gettext

        return gettext(self.message, **self.params)


@dataclass
class ImportRow:
    number: int  # the row's number in the spreadsheet (the header is row 1 when it is the first)
    values: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    item: ItemData | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class ImportPreview:
    rows: list[ImportRow]
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def good(self) -> list[ImportRow]:
        return [r for r in self.rows if r.ok]

    @property
    def bad(self) -> list[ImportRow]:
        return [r for r in self.rows if not r.ok]

    @property
    def minutes(self) -> int:
        return sum(r.item.duration_minutes for r in self.good if r.item is not None)


# --- reading --------------------------------------------------------------------------------------------

def read_spreadsheet(data: bytes, filename: str = "") -> ImportPreview:
    """Read an uploaded CSV or .xlsx file into checked rows. Raises SpreadsheetError for a file that
    cannot be read at all."""
    if not data:
        raise SpreadsheetError("The file is empty: choose a CSV file or an Excel workbook (.xlsx).")
    if len(data) > IMPORT_MAX_BYTES:
        raise SpreadsheetError("The file is larger than %(n)s MB: import at most %(rows)s items at a time.",
                               n=IMPORT_MAX_BYTES // (1024 * 1024), rows=IMPORT_MAX_ROWS)
    if data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SpreadsheetError("This is an old Excel file (.xls) or a workbook with a password: save it as an "
                               ".xlsx workbook without a password, or as CSV UTF-8.")
    else:
        rows = _csv_rows(data)
    return _check(rows)


def _csv_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    if data.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")):
        raise SpreadsheetError("This is not a spreadsheet: choose a CSV file or an Excel workbook (.xlsx).")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SpreadsheetError("This file is not text in UTF-8: save it as “CSV UTF-8” (or as an Excel "
                               "workbook, .xlsx) and import it again.") from exc
    odd = _ODD.search(text)
    if odd is not None:
        raise SpreadsheetError("The file holds unexpected bytes (code %(code)s near character %(at)s): it is not "
                               "a plain CSV file.", code=f"0x{ord(odd.group()):02X}", at=odd.start() + 1)
    return unicodedata.normalize("NFC", text)


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[object]]]:
    text = _csv_text(data)
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, row in enumerate(reader, start=1):
            yield number, list(row[:IMPORT_MAX_COLUMNS + 1])
    except csv.Error as exc:
        raise SpreadsheetError("The CSV file is malformed near line %(line)s: check its quotes.",
                               line=reader.line_num) from exc


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[object]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise SpreadsheetError("The workbook is damaged, or it is not an Excel workbook (.xlsx).") from exc
    if len(members) > XLSX_MAX_MEMBERS or sum(m.file_size for m in members) > XLSX_MAX_UNPACKED:
        raise SpreadsheetError("The workbook unpacks to more than %(n)s MB: it cannot be read. Keep only the "
                               "agenda in it.", n=XLSX_MAX_UNPACKED // (1024 * 1024))
    if not any(m.filename.startswith("xl/worksheets/") for m in members):
        raise SpreadsheetError("The workbook is damaged, or it is not an Excel workbook (.xlsx).")
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise SpreadsheetError("The workbook is damaged, or it is not an Excel workbook (.xlsx).") from exc
    return _sheet_rows(workbook)


def _sheet_rows(workbook: Any) -> Iterator[tuple[int, list[object]]]:
    try:
        sheet = workbook.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(max_col=IMPORT_MAX_COLUMNS + 1), start=1):
            row: list[object] = []
            for cell in cells:
                if getattr(cell, "data_type", None) == "f":
                    row.append(_Formula(getattr(cell, "coordinate", "")))
                else:
                    row.append(getattr(cell, "value", None))
            yield number, row
    except SpreadsheetError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged sheet
        raise SpreadsheetError("The workbook is damaged, or it is not an Excel workbook (.xlsx).") from exc
    finally:
        workbook.close()


@dataclass(frozen=True)
class _Formula:
    cell: str


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value))
    return " ".join(text.split()) if "\n" not in text else text.strip()


def _header_key(text: str) -> str:
    text = re.sub(r"\(.*\)$", "", _cell_text(text)).strip().casefold()
    return " ".join(text.replace("_", " ").split())


_COLUMN_BY_NAME = {name: column for column, names in COLUMNS.items() for name in names}


def _check(rows: Iterator[tuple[int, list[object]]]) -> ImportPreview:
    header: dict[int, str] | None = None
    ignored: list[str] = []
    checked: list[ImportRow] = []
    for read, (number, cells) in enumerate(rows, start=1):
        if read > _MAX_ROWS_READ:
            raise SpreadsheetError("The file has more than %(n)s rows: import at most %(n)s items at a time.",
                                   n=IMPORT_MAX_ROWS)
        if len(cells) > IMPORT_MAX_COLUMNS and any(_cell_text(c) for c in cells[IMPORT_MAX_COLUMNS:]):
            raise SpreadsheetError("Row %(row)s has more than %(n)s columns: keep only the agenda's columns.",
                                   row=number, n=IMPORT_MAX_COLUMNS)
        if not any(c if isinstance(c, _Formula) else _cell_text(c) for c in cells):
            continue
        if header is None:
            header, ignored = _read_header(number, cells)
            continue
        if len(checked) >= IMPORT_MAX_ROWS:
            raise SpreadsheetError("The file has more than %(n)s rows: import at most %(n)s items at a time.",
                                   n=IMPORT_MAX_ROWS)
        checked.append(_check_row(number, cells, header))
    if header is None:
        raise SpreadsheetError("The file is empty: choose a CSV file or an Excel workbook (.xlsx).")
    if not checked:
        raise SpreadsheetError("The file has no agenda items below its header row.")
    return ImportPreview(rows=checked, ignored_columns=ignored)


def _read_header(number: int, cells: Sequence[object]) -> tuple[dict[int, str], list[str]]:
    header: dict[int, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        if isinstance(cell, _Formula):
            raise SpreadsheetError("The cell %(cell)s holds a formula: type the value itself.", cell=cell.cell)
        name = _cell_text(cell)
        column = _COLUMN_BY_NAME.get(_header_key(name))
        if column is None:
            if name:
                ignored.append(name[:60])
            continue
        if column in header.values():
            raise SpreadsheetError("The column “%(name)s” appears twice in the first row.", name=name[:60])
        header[index] = column
    if "title" not in header.values():
        raise SpreadsheetError("The first row must name the columns, and no “title” (Tiêu đề) column was found "
                               "in row %(row)s. Columns: title, ministry, presenter, duration, kind, summary.",
                               row=number)
    return header, ignored


def _check_row(number: int, cells: Sequence[object], header: dict[int, str]) -> ImportRow:
    values = dict.fromkeys(COLUMNS, "")
    problems: list[Problem] = []
    for index, column in header.items():
        cell = cells[index] if index < len(cells) else None
        if isinstance(cell, _Formula):
            problems.append(Problem("The cell %(cell)s holds a formula: type the value itself.", {"cell": cell.cell}))
            continue
        values[column] = _cell_text(cell)
    title = values["title"]
    if not title:
        problems.append(Problem("The title is missing."))
    elif len(title) > ITEM_TITLE_MAX:
        problems.append(Problem("The title is longer than %(n)s characters.", {"n": ITEM_TITLE_MAX}))
    if len(values["ministry"]) > TEXT_MAX:
        problems.append(Problem("The ministry is longer than %(n)s characters.", {"n": TEXT_MAX}))
    if len(values["presenter"]) > TEXT_MAX:
        problems.append(Problem("The presenter is longer than %(n)s characters.", {"n": TEXT_MAX}))
    if len(values["summary"]) > SUMMARY_MAX:
        problems.append(Problem("The summary is longer than %(n)s characters.", {"n": SUMMARY_MAX}))
    minutes = 10
    if values["duration"]:
        match = _DURATION.match(values["duration"])
        if match is None:
            problems.append(Problem("The duration “%(value)s” is not a number of minutes.",
                                    {"value": values["duration"][:40]}))
        else:
            minutes = int(match.group(1))
            if not 1 <= minutes <= DURATION_MAX:
                problems.append(Problem("The duration must be between 1 and %(n)s minutes.", {"n": DURATION_MAX}))
    kind = ItemKind.DECISION
    if values["kind"]:
        found = _KIND_WORDS.get(values["kind"].casefold())
        if found is None:
            problems.append(Problem("The kind “%(value)s” is unknown: write decision, discussion or information "
                                    "(quyết định, thảo luận, thông tin).", {"value": values["kind"][:40]}))
        else:
            kind = found
    item = None
    if not problems:
        item = ItemData(title=title, ministry=values["ministry"], presenter=values["presenter"],
                        duration_minutes=minutes, summary=values["summary"], kind=kind)
    return ImportRow(number=number, values=values, problems=problems, item=item)


# --- between the preview and the confirmation --------------------------------------------------------

def encode_items(preview: ImportPreview) -> str:
    """The rows that can be imported, as the preview's form carries them to the confirmation."""
    return json.dumps([{"title": r.item.title, "ministry": r.item.ministry, "presenter": r.item.presenter,
                        "duration_minutes": r.item.duration_minutes, "summary": r.item.summary,
                        "kind": ItemKind(r.item.kind).value}
                       for r in preview.good if r.item is not None], ensure_ascii=False)


def decode_items(text: str) -> list[ItemData]:
    """The items a confirmation carries; each is checked again when it is added."""
    try:
        rows = json.loads(text or "")
    except ValueError as exc:
        raise SpreadsheetError("The preview has expired: import the file again.") from exc
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise SpreadsheetError("The preview has expired: import the file again.")
    if len(rows) > IMPORT_MAX_ROWS:
        raise SpreadsheetError("The file has more than %(n)s rows: import at most %(n)s items at a time.",
                               n=IMPORT_MAX_ROWS)
    try:
        return [ItemData(title=str(r.get("title", "")), ministry=str(r.get("ministry", "")),
                         presenter=str(r.get("presenter", "")), duration_minutes=r.get("duration_minutes", 10),
                         summary=str(r.get("summary", "")), kind=ItemKind(r.get("kind", "decision")))
                for r in rows]
    except ValueError as exc:
        raise SpreadsheetError("The preview has expired: import the file again.") from exc


def import_items(actor: Actor, meeting: Meeting, items: Sequence[ItemData]) -> list[MeetingItem]:
    """Add the confirmed items at the end of the agenda, all or none."""
    require_secretary(actor)
    require_editable(meeting)
    if not items:
        raise MeetingError("There is nothing to import.")
    if len(items) > IMPORT_MAX_ROWS:
        raise MeetingError("The file has more than %(n)s rows: import at most %(n)s items at a time.",
                           n=IMPORT_MAX_ROWS)
    added = [add_item(actor, meeting, item) for item in items]
    record_change(actor, "agenda.import", meeting, object_type="meeting", object_id=meeting.id,
                  details={"items": len(added)})
    return added
