"""Where a quoted passage is drawn on a page (``textpos``), for highlights that move to another page."""

from __future__ import annotations

import pytest

from ecabinet.pdf.textpos import locate_quotes, locate_quotes_isolated

WIDTH, HEIGHT = 612, 792


def _page_with_lines(path, lines, rotate: int = 0) -> None:
    from reportlab.pdfgen import canvas

    from ecabinet.pdf.fonts import register_fonts

    regular, _bold = register_fonts()
    c = canvas.Canvas(str(path), pagesize=(WIDTH, HEIGHT))
    c.drawString(72, 740, "Trang trước")
    c.showPage()
    for x, y, text in lines:
        c.setFont(regular, 12)
        c.drawString(x, y, text)
    if rotate:
        c.setPageRotation(rotate)
    c.showPage()
    c.save()


def test_rectangles_come_from_where_the_text_is_drawn(tmp_path):
    path = tmp_path / "a.pdf"
    _page_with_lines(path, [(72, 700, "Điều 5 quy định về trình tự lập kế hoạch"), (72, 686, "đầu tư công trung hạn")])
    (one_line,), (two_lines,), (missing,) = (locate_quotes(str(path), [target]) for target in (
        (2, "Dieu 5 quy dinh"), (2, "lập kế hoạch đầu tư công"), (2, "không có ở đây")))
    assert missing is None
    assert len(one_line) == 1
    x, y, w, h = one_line[0]
    # Origin at the top left, in page fractions, as the viewer measures a selection.
    assert x == pytest.approx(72 / WIDTH, abs=0.005)
    assert y == pytest.approx((HEIGHT - 700 - 12 * 0.85) / HEIGHT, abs=0.005)
    assert h == pytest.approx(12 * 1.15 / HEIGHT, abs=0.003)
    assert 0.05 < w < 0.3
    assert len(two_lines) == 2  # one rectangle per line
    first, second = two_lines
    assert first[0] > x and second[1] > first[1]  # starts after "Điều 5 ...", the next line is lower
    assert second[0] == pytest.approx(72 / WIDTH, abs=0.005)


def test_rotated_pages_are_not_measured_and_the_child_gives_the_same_answer(tmp_path):
    rotated, upright = tmp_path / "r.pdf", tmp_path / "u.pdf"
    _page_with_lines(rotated, [(72, 700, "Điều 5 quy định")], rotate=90)
    _page_with_lines(upright, [(72, 700, "Điều 5 quy định")])
    assert locate_quotes(str(rotated), [(2, "Điều 5")]) == [None]
    assert locate_quotes_isolated(str(upright), [(2, "Điều 5"), (9, "Điều 5")]) == [
        *locate_quotes(str(upright), [(2, "Điều 5")]), None]
