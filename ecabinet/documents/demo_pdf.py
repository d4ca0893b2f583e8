"""Real briefing PDFs with Vietnamese text, for demo data, tests and benchmarks."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecabinet.pdf.typeset import escape, render, styles


def make_demo_pdf(title: str, paragraphs: Sequence[str], out_path: str | os.PathLike[str], *,
                  author: str = "Văn phòng Chính phủ", one_page_per_paragraph: bool = False) -> int:
    """Write a briefing paper: a title, then ``paragraphs`` (a paragraph "## text" is a heading).

    With ``one_page_per_paragraph`` every paragraph starts a new page, which gives exact page counts
    for tests and benchmarks. Returns the page count.
    """
    from pypdf import PdfReader
    from reportlab.platypus import PageBreak, Paragraph

    style = styles()
    flow: list[Any] = [Paragraph(escape(title), style["title"])]
    for index, text in enumerate(paragraphs):
        if one_page_per_paragraph and index:
            flow.append(PageBreak())
        if text.startswith("## "):
            flow.append(Paragraph(escape(text[3:]), style["heading"]))
        else:
            flow.append(Paragraph(escape(text), style["body"]))
    data = render(flow, title=title, author=author, footer=title[:80])
    Path(out_path).write_bytes(data)
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
