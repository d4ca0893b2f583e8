"""Real briefing PDFs with Vietnamese text, for demo data, tests and benchmarks."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    from ecabinet.documents.fonts import register_fonts

    regular, bold = register_fonts()
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=16, leading=21, spaceAfter=12, alignment=1),
        "heading": ParagraphStyle("heading", fontName=bold, fontSize=12.5, leading=17, spaceBefore=8, spaceAfter=6),
        "body": ParagraphStyle("body", fontName=regular, fontSize=11, leading=15.5, spaceAfter=7, alignment=4),
        "small": ParagraphStyle("small", fontName=regular, fontSize=9, leading=12, textColor="#555555"),
        "center": ParagraphStyle("center", fontName=regular, fontSize=12, leading=17, alignment=1),
        "cover": ParagraphStyle("cover", fontName=bold, fontSize=22, leading=30, alignment=1, spaceAfter=18),
    }


def escape(text: str) -> str:
    """Paragraph text is reportlab markup: escape what the author typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(flowables: list[Any], *, title: str, author: str = "", footer: str = "") -> bytes:
    """Lay out ``flowables`` on A4 with a page-number footer; return the PDF bytes."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    from ecabinet.documents.fonts import register_fonts

    regular, _bold = register_fonts()
    buf = io.BytesIO()

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 8)
        canvas.setFillGray(0.4)
        canvas.drawRightString(A4[0] - 20 * mm, 12 * mm, f"{footer}  {doc.page}".strip())
        canvas.restoreState()

    doc = SimpleDocTemplate(buf, pagesize=A4, title=title, author=author, creator="e-Cabinet",
                            leftMargin=22 * mm, rightMargin=20 * mm, topMargin=20 * mm, bottomMargin=22 * mm,
                            invariant=1)
    doc.build(flowables, onFirstPage=decorate, onLaterPages=decorate)
    return buf.getvalue()


def make_demo_pdf(title: str, paragraphs: Sequence[str], out_path: str | os.PathLike[str], *,
                  author: str = "Văn phòng Chính phủ", one_page_per_paragraph: bool = False) -> int:
    """Write a briefing paper: a title, then ``paragraphs`` (a paragraph "## text" is a heading).

    With ``one_page_per_paragraph`` every paragraph starts a new page, which gives exact page counts
    for tests and benchmarks. Returns the page count.
    """
    from reportlab.platypus import PageBreak, Paragraph

    styles = _styles()
    flow: list[Any] = [Paragraph(escape(title), styles["title"])]
    for index, text in enumerate(paragraphs):
        if one_page_per_paragraph and index:
            flow.append(PageBreak())
        if text.startswith("## "):
            flow.append(Paragraph(escape(text[3:]), styles["heading"]))
        else:
            flow.append(Paragraph(escape(text), styles["body"]))
    data = render(flow, title=title, author=author, footer=title[:80])
    Path(out_path).write_bytes(data)
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


SAMPLE_PARAGRAPHS = [
    "## Sự cần thiết ban hành Nghị định",
    "Thực hiện Nghị quyết của Quốc hội về kế hoạch phát triển kinh tế - xã hội, Bộ Kế hoạch và Đầu tư "
    "đã chủ trì, phối hợp với các bộ, ngành và địa phương xây dựng dự thảo Nghị định quy định chi tiết "
    "một số điều của Luật Đầu tư công.",
    "Dự thảo đã được gửi lấy ý kiến rộng rãi; các ý kiến góp ý đã được tổng hợp, tiếp thu và giải trình "
    "đầy đủ. Những điểm còn ý kiến khác nhau được báo cáo Chính phủ xem xét, quyết định.",
    "## Nội dung chủ yếu",
    "Quy định rõ trách nhiệm của người đứng đầu trong giải ngân vốn đầu tư công; đơn giản hoá thủ tục "
    "điều chỉnh kế hoạch; tăng cường công khai, minh bạch và kiểm tra, giám sát.",
    "Kính trình Chính phủ xem xét, cho ý kiến.",
]
