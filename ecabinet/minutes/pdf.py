"""The final minutes as a PDF: Unicode fonts with full Vietnamese diacritics, a header and "page x of y"
on every page, the ballot results tables, and the audit chain's head hash on the last page; PDF/A-2b.

CPU work: called from the job worker (minutes/tasks.py), never in the web process's event loop.
"""

from __future__ import annotations

import io
from html.parser import HTMLParser
from typing import Any

from ecabinet.core.i18n import format_in_zone
from ecabinet.meetings.models import Meeting
from ecabinet.minutes.models import Minutes
from ecabinet.minutes.record import MeetingRecord
from ecabinet.pdf.fonts import register_fonts
from ecabinet.pdf.pdfa import to_pdfa2b
from ecabinet.pdf.typeset import escape, styles

BLOCKS = {"h1": "title", "h2": "heading", "h3": "heading", "h4": "heading", "p": "body", "li": "body",
          "blockquote": "body"}


class _Blocks(HTMLParser):
    """Sanitised minutes HTML → (style, reportlab markup) blocks and table rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, Any]] = []
        self._style: str | None = None
        self._text: list[str] = []
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._bullet = False

    def handle_starttag(self, tag: str, attrs: list) -> None:  # noqa: ANN001
        if tag == "table":
            self._table = []
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in BLOCKS:
            self._flush()
            self._style, self._bullet = BLOCKS[tag], tag == "li"
        elif tag in ("strong", "b"):
            self._put("<b>")
        elif tag in ("em", "i"):
            self._put("<i>")
        elif tag == "br":
            self._put("<br/>")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table" and self._table is not None:
            self.blocks.append(("table", self._table))
            self._table = None
        elif tag in BLOCKS:
            self._flush()
        elif tag in ("strong", "b"):
            self._put("</b>")
        elif tag in ("em", "i"):
            self._put("</i>")

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif data.strip() or self._text:
            self._style = self._style or "body"
            self._text.append(escape(data))

    def _put(self, markup: str) -> None:
        if self._cell is None:
            self._style = self._style or "body"
            self._text.append(markup)

    def _flush(self) -> None:
        text = "".join(self._text).strip()
        if text and self._style:
            self.blocks.append((self._style, ("• " if self._bullet else "") + text))
        self._text, self._style, self._bullet = [], None, False

    def close(self) -> None:
        super().close()
        self._flush()


def _table(rows: list[list[str]], regular: str, bold: str):  # noqa: ANN202
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    width = max(len(r) for r in rows)
    data = [r + [""] * (width - len(r)) for r in rows if r]
    table = Table(data, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), regular, 9.5), ("FONT", (0, 0), (-1, 0), bold, 9.5),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _signature_block(meeting: Meeting, minutes: Minutes, regular: str, bold: str):  # noqa: ANN202
    """The secretary who drafted the minutes and the chair who approved them, side by side, as on a
    signed paper record; the chair's approval is the digital signature applied to this file."""
    from reportlab.platypus import Table, TableStyle

    drafted = min(minutes.revisions, key=lambda r: r.number, default=None)
    secretary = drafted.author.name if drafted is not None and drafted.author is not None else ""
    chair = meeting.chair.name if meeting.chair is not None else ""
    approved = format_in_zone(minutes.approved_at, "short", meeting.timezone, "vi") if minutes.approved_at else ""
    rows = [["THƯ KÝ PHIÊN HỌP", "CHỦ TỌA"],
            ["(đã soạn thảo)", f"(đã phê duyệt và ký số lúc {approved})" if approved else ""],
            ["", ""],
            [secretary, chair]]
    table = Table(rows, colWidths=["50%", "50%"], hAlign="CENTER")
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), regular, 10), ("FONT", (0, 0), (-1, 0), bold, 10.5),
        ("FONT", (0, 3), (-1, 3), bold, 10.5), ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("TOPPADDING", (0, 2), (-1, 2), 18)]))
    return table


def render_minutes(meeting: Meeting, minutes: Minutes, record: MeetingRecord, body: str, audit_head: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas as pdfcanvas
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    regular, bold = register_fonts()
    sheet = styles()
    parser = _Blocks()
    parser.feed(body)
    parser.close()
    flow: list[Any] = []
    for style, content in parser.blocks:
        if style == "table":
            flow.append(_table(content, regular, bold))
            flow.append(Spacer(1, 6))
        else:
            flow.append(Paragraph(content, sheet[style]))
    # The ballot results, always printed from the record (not from the editable text).
    for ballot in record.ballots:
        flow.append(Paragraph(escape(f"Kết quả biểu quyết: {ballot.get('title', '')}"), sheet["heading"]))
        named = ballot.get("counts_named") or list(ballot.get("counts", {}).items())
        rows = [["Phương án", "Số phiếu"]] + [[str(k), str(v)] for k, v in named]
        rows.append(["Quy tắc", str(ballot.get("rule", ""))])
        rows.append(["Kết quả", str(ballot.get("result", ""))])
        flow.append(_table(rows, regular, bold))
    flow.append(Spacer(1, 14))
    approved = format_in_zone(minutes.approved_at, "short", meeting.timezone, "vi") if minutes.approved_at else ""
    flow.append(Paragraph(escape(f"Biên bản được Chủ tọa phê duyệt lúc {approved} (bản sửa đổi số "
                                 f"{minutes.revision})."), sheet["body"]))
    flow.append(Paragraph(escape(f"Mã băm đầu chuỗi nhật ký kiểm toán (SHA-256): {audit_head}"), sheet["small"]))
    flow.append(Spacer(1, 18))
    flow.append(_signature_block(meeting, minutes, regular, bold))

    title = meeting.title

    class NumberedCanvas(pdfcanvas.Canvas):
        """Draws "Trang x/y": the total is known only after the last page, so pages are kept until then."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(regular, 8)
                self.setFillGray(0.35)
                self.drawString(22 * mm, A4[1] - 12 * mm, f"BIÊN BẢN PHIÊN HỌP — {title}"[:110])
                self.drawRightString(A4[0] - 20 * mm, 12 * mm, f"Trang {self._pageNumber}/{total}")
                super().showPage()
            super().save()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=f"Biên bản: {title}", author="Văn phòng Chính phủ",
                            creator="e-Cabinet", initialFontName=regular, leftMargin=22 * mm, rightMargin=20 * mm,
                            topMargin=20 * mm, bottomMargin=22 * mm)
    doc.build(flow, canvasmaker=NumberedCanvas)
    # Archived for good: PDF/A-2b (ecabinet/pdf/pdfa.py), signed afterwards by an incremental update.
    return to_pdfa2b(buf.getvalue(), title=f"Biên bản: {title}", author="Văn phòng Chính phủ", language="vi")
