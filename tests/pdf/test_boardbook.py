"""Board books: cover, agenda, documents in agenda order, outline, page labels, watermark everywhere."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from ecabinet.documents.demo_pdf import SAMPLE_PARAGRAPHS, make_demo_pdf
from ecabinet.pdf.boardbook import BoardBookSpec, build_board_book, build_board_book_isolated
from ecabinet.pdf.stamping import Watermark

pytestmark = pytest.mark.timeout(180)

WM = Watermark("Trần Văn Bình", "Bộ Tư pháp", "27/11/2026 07:30", "BB-4471")


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> BoardBookSpec:
    folder = tmp_path_factory.mktemp("book")
    docs = {}
    for name, pages in (("a", 3), ("b", 2), ("c", 4)):
        path = folder / f"{name}.pdf"
        assert make_demo_pdf(f"Tài liệu {name}", SAMPLE_PARAGRAPHS[:pages], path, one_page_per_paragraph=True) == pages
        docs[name] = str(path)
    return BoardBookSpec(
        meeting_title="Phiên họp Chính phủ thường kỳ tháng 11 năm 2026", date_text="Thứ Năm, ngày 27/11/2026",
        reader="Trần Văn Bình — Bộ Tư pháp",
        items=[("1", "Dự thảo Nghị định về đầu tư công", [("Tờ trình", docs["a"]), ("Dự thảo Nghị định", docs["b"])]),
               ("2", "Tình hình kinh tế - xã hội", [("Báo cáo", docs["c"])]),
               ("3", "Các vấn đề khác", [])])


def outline_tree(reader: PdfReader) -> list:
    def walk(items):
        out = []
        for item in items:
            if isinstance(item, list):
                out[-1] = (out[-1][0], out[-1][1], walk(item))
            else:
                out.append((item.title, reader.get_destination_page_number(item), []))
        return out

    return walk(reader.outline)


def check_book(path) -> None:
    reader = PdfReader(path)
    assert len(reader.pages) == 1 + 1 + 3 + 2 + 4
    assert reader.page_labels == ["Bìa", "Chương trình", "M1-1", "M1-2", "M1-3", "M1-4", "M1-5",
                                  "M2-1", "M2-2", "M2-3", "M2-4"]
    assert outline_tree(reader) == [
        ("Bìa", 0, []), ("Chương trình", 1, []),
        ("1. Dự thảo Nghị định về đầu tư công", 2, [("Tờ trình", 2, []), ("Dự thảo Nghị định", 5, [])]),
        ("2. Tình hình kinh tế - xã hội", 7, [("Báo cáo", 7, [])]),
        ("3. Các vấn đề khác", 1, []),
    ]
    cover = reader.pages[0].extract_text()
    assert "Phiên họp Chính phủ thường kỳ" in cover and "27/11/2026" in cover and "Trần Văn Bình" in cover
    agenda = reader.pages[1].extract_text()
    assert "Tờ trình — trang M1-1" in agenda and "Dự thảo Nghị định — trang M1-4" in agenda
    assert "Báo cáo — trang M2-1" in agenda
    assert "Tài liệu a" in reader.pages[2].extract_text() and "Tài liệu c" in reader.pages[7].extract_text()
    for page in reader.pages:
        text = page.extract_text()
        assert WM.name in text and WM.organisation in text and WM.copy_code in text


def test_board_book(tmp_path, spec):
    calls: list[tuple[int, int]] = []
    out = tmp_path / "book.pdf"
    assert build_board_book(spec, out, WM, progress=lambda done, total: calls.append((done, total))) == 11
    check_book(out)
    assert calls[-1] == (11, 11)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert all(total == 11 for _, total in calls) and (11, 11) not in calls[:-1]


def test_board_book_in_a_child_process_reports_progress(tmp_path, spec):
    calls: list[tuple[int, int]] = []
    out = tmp_path / "book.pdf"
    assert build_board_book_isolated(spec, out, WM, progress=lambda d, t: calls.append((d, t))) == 11
    check_book(out)
    assert calls and calls[-1] == (11, 11)


def test_spec_round_trips_through_json(spec):
    assert BoardBookSpec.from_json(spec.to_json()) == spec
