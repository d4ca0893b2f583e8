"""Benchmark of the briefing-documents PDF engine. Prints numbers next to their targets; asserts nothing.

    .venv/bin/python bench/bench_pdf.py           # human-readable
    .venv/bin/python bench/bench_pdf.py --json    # one JSON object (for `make bench` to aggregate)

Measures: a board book of 20 generated documents (1,000 pages) with the reader's watermark; watermark
throughput in pages per second (whole stamp_pdf call, and the stamping step alone); output size
against inputs, for generated text pages and for the real-world corpus in ../shared/pdf-corpus.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ecabinet.documents.boardbook import BoardBookSpec, build_board_book  # noqa: E402
from ecabinet.documents.demo_pdf import SAMPLE_PARAGRAPHS, make_demo_pdf  # noqa: E402
from ecabinet.documents.intake import IntakeError, inspect_pdf  # noqa: E402
from ecabinet.documents.stamping import Watermark, apply_watermark, stamp_pdf  # noqa: E402

CORPUS = REPO / ".." / "shared" / "pdf-corpus"
WM = Watermark("Nguyễn Thị Hường", "Bộ Kế hoạch và Đầu tư", "27/11/2026 08:15", "K7Q2-9XF")
TARGETS = {"board_book_1000_s": "<= 2.0", "stamp_pages_per_s": ">= 2000", "size_ratio": "<= 1.2"}


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def generated_documents(folder: Path, count: int = 20, pages_each: int = 50) -> list[Path]:
    paths = []
    paragraphs = (SAMPLE_PARAGRAPHS * (pages_each // len(SAMPLE_PARAGRAPHS) + 1))[:pages_each]
    for index in range(count):
        path = folder / f"doc-{index:02d}.pdf"
        make_demo_pdf(f"Tài liệu số {index + 1}: Tờ trình dự thảo Nghị định", paragraphs, path,
                      one_page_per_paragraph=True)
        paths.append(path)
    return paths


def stamping_only(paths: list[Path]) -> tuple[int, float]:
    """The watermarking step alone, on pages already appended to a writer."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for path in paths:
        writer.append(str(path), import_outline=False)
    return timed(apply_watermark, writer, WM)


def bench_generated(folder: Path) -> dict:
    (docs, gen_s) = timed(generated_documents, folder)
    inputs = sum(p.stat().st_size for p in docs)
    spec = BoardBookSpec("Phiên họp Chính phủ thường kỳ tháng 11", "Thứ Năm, 27/11/2026", "Nguyễn Thị Hường",
                         [(str(i + 1), f"Nội dung {i + 1}", [(f"Tài liệu {i + 1}", str(p))])
                          for i, p in enumerate(docs)])
    book = folder / "book.pdf"
    pages, book_s = timed(build_board_book, spec, book, WM)
    stamped = folder / "stamped.pdf"
    stamped_pages, stamp_s = timed(stamp_pdf, docs, stamped, WM)
    only_pages, only_s = stamping_only(docs)
    return {
        "documents": len(docs), "generate_s": round(gen_s, 2),
        "board_book_pages": pages, "board_book_s": round(book_s, 3),
        "board_book_size_ratio": round(book.stat().st_size / inputs, 3),
        "stamp_pdf_pages": stamped_pages, "stamp_pdf_s": round(stamp_s, 3),
        "stamp_pdf_pages_per_s": round(stamped_pages / stamp_s),
        "stamp_only_pages_per_s": round(only_pages / only_s),
        "stamp_size_ratio": round(stamped.stat().st_size / inputs, 3),
        "inputs_bytes": inputs, "board_book_bytes": book.stat().st_size,
    }


def bench_corpus(folder: Path) -> dict | None:
    files = sorted(CORPUS.glob("*.pdf")) if CORPUS.is_dir() else []
    if not files:
        return None
    accepted, refused, intake_s = [], {}, 0.0
    for path in files:
        try:
            _, seconds = timed(inspect_pdf, path)
            intake_s += seconds
            accepted.append(path)
        except IntakeError as error:
            refused[path.name] = error.code
    inputs = sum(p.stat().st_size for p in accepted)
    out_total, pages, stamp_s = 0, 0, 0.0
    for path in accepted:
        out = folder / f"stamped-{path.name}"
        count, seconds = timed(stamp_pdf, path, out, WM)
        pages += count
        stamp_s += seconds
        out_total += out.stat().st_size
    spec = BoardBookSpec("Corpus", "—", "Bench", [("1", "Corpus", [(p.stem, str(p)) for p in accepted])])
    book = folder / "corpus-book.pdf"
    book_pages, book_s = timed(build_board_book, spec, book, WM)
    only_pages, only_s = stamping_only(accepted)
    return {
        "files": len(files), "accepted": len(accepted), "refused": refused,
        "intake_s_total": round(intake_s, 2), "pages": pages,
        "stamp_s_total": round(stamp_s, 3), "stamp_pdf_pages_per_s": round(pages / stamp_s),
        "stamp_only_pages_per_s": round(only_pages / only_s),
        "stamp_size_ratio": round(out_total / inputs, 3),
        "board_book_pages": book_pages, "board_book_s": round(book_s, 3),
        "board_book_size_ratio": round(book.stat().st_size / inputs, 3),
    }


def main() -> None:
    # pypdf logs a warning for every quirk of real-world files; the numbers are what matter here.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {"targets": TARGETS, "generated": bench_generated(Path(tmp)), "corpus": bench_corpus(Path(tmp))}
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return
    g = results["generated"]
    print("Generated briefings (20 documents, 1,000 text pages):")
    print(f"  board book, {g['board_book_pages']} pages, watermarked: {g['board_book_s']:.2f} s   (target <= 2 s)")
    print(f"  stamp_pdf throughput: {g['stamp_pdf_pages_per_s']} pages/s (append + stamp + write); "
          f"stamping step alone: {g['stamp_only_pages_per_s']} pages/s   (target >= 2000 pages/s)")
    print(f"  size: board book {g['board_book_size_ratio']} x inputs, stamped copy {g['stamp_size_ratio']} x inputs"
          "   (target <= 1.2)")
    c = results["corpus"]
    if c is None:
        print(f"Real-world corpus: absent ({CORPUS.resolve()})")
        return
    print(f"Real-world corpus ({c['accepted']} of {c['files']} files accepted, {c['pages']} pages; "
          f"refused: {c['refused']}):")
    print(f"  intake, all files: {c['intake_s_total']:.2f} s")
    print(f"  stamp_pdf per file: {c['stamp_s_total']:.2f} s in all = {c['stamp_pdf_pages_per_s']} pages/s; "
          f"stamping step alone: {c['stamp_only_pages_per_s']} pages/s")
    print(f"  size: stamped copies {c['stamp_size_ratio']} x inputs, one board book {c['board_book_size_ratio']} x "
          f"inputs   (target <= 1.2)")
    print(f"  board book of the corpus: {c['board_book_pages']} pages in {c['board_book_s']:.2f} s")


if __name__ == "__main__":
    main()
