"""Board books: one watermarked PDF per reader with cover, agenda and every document in agenda order.

Layout and labels (what a reader sees in the viewer's page box and bookmarks panel):

- page 1, labelled "Bìa": the cover (meeting title, date, reader);
- the agenda, labelled "Chương trình" (or "Chương trình 1", "Chương trình 2"... when it runs over a page),
  listing each item and, for each document, the label of its first page;
- then each agenda item's documents, in order, labelled "M<item>-1", "M<item>-2"... continuously
  across the item's documents (item 3's second document might start at "M3-5");
- bookmarks: "Bìa", "Chương trình", then one per agenda item ("3. Title") with one child per document;
  an item without documents points at the agenda page. The documents' own bookmarks are dropped so
  the panel stays a table of contents of the meeting.

Every page carries the reader's watermark (see stamping). This is pypdf work: run it in the huey
worker, or ``build_board_book_isolated`` for a limited child process that reports progress.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ecabinet.pdf.copies import normalise_boxes
from ecabinet.pdf.limits import MiB, Progress
from ecabinet.pdf.sandbox import run_in_child
from ecabinet.pdf.stamping import EXCLUDED_PAGE_KEYS, Watermark, apply_watermark, write_atomically
from ecabinet.pdf.typeset import escape, render, styles

COVER_LABEL = "Bìa"
AGENDA_LABEL = "Chương trình"


@dataclass
class BookDocument:
    title: str
    path: str


@dataclass
class AgendaEntry:
    number: str
    title: str
    documents: list[BookDocument] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.number = str(self.number)
        self.documents = [d if isinstance(d, BookDocument) else BookDocument(str(d[0]), str(d[1]))
                          for d in self.documents]


@dataclass
class BoardBookSpec:
    """Plain data: ``items`` may also be given as (number, title, [(document title, path), ...]) tuples."""

    meeting_title: str
    date_text: str
    reader: str
    items: list[AgendaEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.items = [i if isinstance(i, AgendaEntry) else AgendaEntry(i[0], i[1], list(i[2])) for i in self.items]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BoardBookSpec:
        items = [AgendaEntry(i["number"], i["title"], [BookDocument(**d) for d in i["documents"]])
                 for i in data["items"]]
        return cls(data["meeting_title"], data["date_text"], data["reader"], items)


def label_prefix(number: str) -> str:
    """'M3-' for item 3; keeps the item number readable but free of spaces and odd characters."""
    cleaned = re.sub(r"[^0-9A-Za-z.]+", "", number) or "0"
    return f"M{cleaned}-"


def _front_matter(spec: BoardBookSpec, first_labels: list[list[str]]) -> bytes:
    """Cover page, then the agenda, with reportlab; documents are referred to by page label."""
    from reportlab.platypus import KeepTogether, PageBreak, Paragraph, Spacer

    s = styles()
    flow: list[Any] = [
        Spacer(1, 140),
        Paragraph("TÀI LIỆU PHIÊN HỌP", s["center"]),
        Spacer(1, 12),
        Paragraph(escape(spec.meeting_title), s["cover"]),
        Paragraph(escape(spec.date_text), s["center"]),
        Spacer(1, 60),
        Paragraph("Bản của: " + escape(spec.reader), s["center"]),
        PageBreak(),
        Paragraph(AGENDA_LABEL.upper(), s["title"]),
    ]
    for item, labels in zip(spec.items, first_labels, strict=True):
        block = [Paragraph(f"{escape(item.number)}. {escape(item.title)}", s["heading"])]
        for document, label in zip(item.documents, labels, strict=True):
            block.append(Paragraph(f"• {escape(document.title)} — trang {escape(label)}", s["body"]))
        if not item.documents:
            block.append(Paragraph("(không có tài liệu)", s["small"]))
        flow.append(KeepTogether(block))
    return render(flow, title=spec.meeting_title, footer=spec.meeting_title[:80])


def build_board_book(spec: BoardBookSpec, out_path: str | os.PathLike[str], watermark: Watermark,
                     progress: Progress | None = None) -> int:
    """Write the reader's board book to ``out_path`` (atomically); return its page count.

    ``progress(done_pages, total_pages)`` is called as documents are added; ``done == total``
    is reported only once the file is written.
    """
    from pypdf import PdfReader, PdfWriter

    readers = [[PdfReader(d.path) for d in item.documents] for item in spec.items]
    first_labels: list[list[str]] = []
    for item, item_readers in zip(spec.items, readers, strict=True):
        page, labels = 1, []
        for reader in item_readers:
            labels.append(f"{label_prefix(item.number)}{page}")
            page += len(reader.pages)
        first_labels.append(labels)
    front = PdfReader(io.BytesIO(_front_matter(spec, first_labels)))
    agenda_pages = len(front.pages) - 1
    total = len(front.pages) + sum(len(r.pages) for rs in readers for r in rs)

    writer = PdfWriter()
    writer.append(front, import_outline=False)
    writer.set_page_label(0, 0, prefix=COVER_LABEL)
    if agenda_pages == 1:
        writer.set_page_label(1, 1, prefix=AGENDA_LABEL)
    else:
        writer.set_page_label(1, agenda_pages, style="/D", prefix=AGENDA_LABEL + " ", start=1)
    writer.add_outline_item(COVER_LABEL, 0)
    writer.add_outline_item(AGENDA_LABEL, 1)
    done = len(front.pages)
    if progress:
        progress(done, total)
    for item, item_readers in zip(spec.items, readers, strict=True):
        first = done
        starts = []
        for reader in item_readers:
            starts.append(done)
            writer.append(reader, import_outline=False, excluded_fields=EXCLUDED_PAGE_KEYS)
            done += len(reader.pages)
            if progress:
                progress(min(done, total - 1), total)
        parent = writer.add_outline_item(f"{item.number}. {item.title}", first if item_readers else 1)
        for document, start in zip(item.documents, starts, strict=True):
            writer.add_outline_item(document.title, start, parent=parent)
        if done > first:
            writer.set_page_label(first, done - 1, style="/D", prefix=label_prefix(item.number), start=1)

    for page in writer.pages:  # boxes every reader can use, as in a document's prepared copy
        normalise_boxes(page)
    apply_watermark(writer, watermark)
    writer.page_mode = "/UseOutlines"
    writer.add_metadata({"/Title": spec.meeting_title, "/Producer": "e-Cabinet",
                         "/ECabinetCopy": watermark.copy_code})
    write_atomically(writer, out_path)
    if progress:
        progress(total, total)
    return total


def build_board_book_isolated(spec: BoardBookSpec, out_path: str | os.PathLike[str], watermark: Watermark,
                              progress: Progress | None = None, *, timeout_s: float = 300.0,
                              memory_bytes: int = 2048 * MiB) -> int:
    """``build_board_book`` in a limited child process; progress lines come back over its stdout."""
    data = spec.to_json()
    for item in data["items"]:
        for document in item["documents"]:
            document["path"] = str(Path(document["path"]).resolve())
    result = run_in_child({"op": "boardbook", "spec": data, "out_path": str(Path(out_path).resolve()),
                           "watermark": watermark.to_json()},
                          timeout_s=timeout_s, memory_bytes=memory_bytes, progress=progress)
    return int(result["page_count"])
