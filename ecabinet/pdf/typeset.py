"""Typesetting with reportlab: the paragraph styles, escaping typed text, and a story laid out on A4.

Everything the engine (board-book covers) and the application (final minutes, demo papers) typesets
goes through here, in the Unicode font of ``fonts``. reportlab is imported on first use only: the
child process of a reader's copy never typesets and must start fast.
"""

from __future__ import annotations

import io
from typing import Any

from ecabinet.pdf.fonts import register_fonts


def styles() -> dict[str, Any]:
    """Paragraph styles by role: title, heading, body, small, center, cover."""
    from reportlab.lib.styles import ParagraphStyle

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
