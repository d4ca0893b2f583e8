"""Benchmark of the briefing-documents PDF engine. Prints numbers next to their targets; asserts nothing.

    .venv/bin/python bench/bench_pdf.py           # human-readable
    .venv/bin/python bench/bench_pdf.py --json    # one JSON object (for `make bench` to aggregate)

Measures, for generated text pages (20 documents of 50 pages) and for the real-world corpus in
../shared/pdf-corpus:

- the download path: each document stored in a BlobStore and prepared once (as after intake; the
  preparation is timed apart), then one reader's copy of each document at a time with ``stamp_pdf``,
  each with its own copy code, as readers download them. Several passes; the median pass is reported;
- the same copies through a limited worker of the pool (``stamp_pdf_isolated``, what the web process
  calls: the workers are started before the timing, as in a running server), and through a fresh
  child per copy (``run_in_child``, what every download paid before the pool);
- a board book of the 20 generated documents (1,000 pages) with the reader's watermark, and one of the
  corpus; the pypdf path on all 20 generated documents concatenated, and its stamping step alone;
- output size against inputs.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ecabinet.documents.demo_pdf import SAMPLE_PARAGRAPHS, make_demo_pdf  # noqa: E402
from ecabinet.pdf.boardbook import BoardBookSpec, build_board_book  # noqa: E402
from ecabinet.pdf.copies import ensure_prepared, stamp_copy, stamp_pdf, stamp_pdf_isolated  # noqa: E402
from ecabinet.pdf.errors import IntakeError  # noqa: E402
from ecabinet.pdf.intake import inspect_pdf  # noqa: E402
from ecabinet.pdf.stamping import Watermark, apply_watermark  # noqa: E402
from ecabinet.pdf.storage import BlobStore  # noqa: E402

CORPUS = REPO / ".." / "shared" / "pdf-corpus"
WM = Watermark("Nguyễn Thị Hường", "Bộ Kế hoạch và Đầu tư", "27/11/2026 08:15", "K7Q2-9XF")
TARGETS = {"board_book_1000_s": "<= 2.0", "stamp_pages_per_s": ">= 2000", "size_ratio": "<= 1.2"}


def fresh() -> None:
    """Collect the garbage of earlier phases (board books, pypdf writers: ~350,000 objects, ~0.25 s a
    full pass) before a timed phase, so that a collection it would trigger does not land in this
    phase's time; what the phase itself allocates is still collected, and counted, as it goes."""
    gc.collect()


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def reader_watermark(index: int) -> Watermark:
    """Every copy has its own code and time, as real downloads do (nothing about one copy helps the next)."""
    code = f"K{index:03d}-{index * 7919 % 9973:04X}"
    return Watermark(WM.name, WM.organisation, f"27/11/2026 08:{index % 60:02d}", code)


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
    """The pypdf path's watermarking step alone, on pages already appended to a writer."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for path in paths:
        writer.append(str(path), import_outline=False)
    fresh()
    return timed(apply_watermark, writer, WM)


def _one_child(sources: list[Path], out: Path, watermark: Watermark) -> int:
    """A reader's copy in a fresh limited child (``sandbox.run_in_child``): every download before the pool."""
    from ecabinet.pdf.sandbox import run_in_child

    return run_in_child({"op": "stamp", "sources": [str(s) for s in sources], "out_path": str(out),
                         "watermark": watermark.to_json()}, timeout_s=60, memory_bytes=1024 * 1024 * 1024)["page_count"]


def download_path(paths: list[Path], folder: Path, passes: int, isolated: bool) -> dict:
    """Store and prepare each document (timed apart), then stamp one copy of each at a time, ``passes`` times."""
    store = BlobStore(folder / "storage")
    blobs = [store.put_file(path, 1 << 30)[2] for path in paths]
    inputs = sum(path.stat().st_size for path in paths)
    prepare_s = 0.0
    fresh()
    for blob in blobs:
        prepare_s += timed(ensure_prepared, blob)[1]
    out_dir = folder / "copies"
    out_dir.mkdir(exist_ok=True)
    pass_seconds, pages, fallbacks, out_total, copy = [], 0, {}, 0, 0
    for _ in range(passes):
        fresh()
        pages = out_total = 0
        seconds = 0.0
        for blob, path in zip(blobs, paths, strict=True):
            copy += 1
            out = out_dir / f"{path.stem}-{copy}.pdf"
            made, elapsed = timed(stamp_copy, blob, out, reader_watermark(copy))
            seconds += elapsed
            pages += made.page_count
            out_total += out.stat().st_size
            if not made.fast:
                fallbacks[path.name] = made.note
            out.unlink()
        pass_seconds.append(seconds)
    typical, best = statistics.median(pass_seconds), min(pass_seconds)
    result = {
        "prepare_s_total": round(prepare_s, 3), "prepare_pages_per_s": round(pages / prepare_s),
        "stamp_pdf_pages": pages, "stamp_pdf_s": round(typical, 3),
        "stamp_pdf_pages_per_s": round(pages / typical), "stamp_pdf_pages_per_s_best": round(pages / best),
        "stamp_pdf_ms_per_copy": round(1000 * typical / len(blobs), 2),
        "stamp_passes": passes, "fast_copies": len(blobs) - len(fallbacks), "fallbacks": fallbacks,
        "stamp_size_ratio": round(out_total / inputs, 3),
    }
    if isolated:
        # What a download costs through the web process: a pooled worker per copy (warm), and, for
        # comparison, the fresh limited child per copy that downloads used before.
        stamp_pdf_isolated([blobs[0]], out_dir / "warm.pdf", WM)
        for key, run in (("isolated", stamp_pdf_isolated), ("one_child", _one_child)):
            per_copy = []
            fresh()
            for blob, path in zip(blobs, paths, strict=True):
                copy += 1
                out = out_dir / f"{path.stem}-{key}.pdf"
                per_copy.append(timed(run, [blob], out, reader_watermark(copy))[1])
                out.unlink()
            result.update({f"{key}_s_total": round(sum(per_copy), 3),
                           f"{key}_pages_per_s": round(pages / sum(per_copy)),
                           f"{key}_ms_per_copy_median": round(1000 * statistics.median(per_copy), 1)})
    return result


def bench_generated(folder: Path, passes: int, isolated: bool) -> dict:
    (docs, gen_s) = timed(generated_documents, folder)
    inputs = sum(p.stat().st_size for p in docs)
    spec = BoardBookSpec("Phiên họp Chính phủ thường kỳ tháng 11", "Thứ Năm, 27/11/2026", "Nguyễn Thị Hường",
                         [(str(i + 1), f"Nội dung {i + 1}", [(f"Tài liệu {i + 1}", str(p))])
                          for i, p in enumerate(docs)])
    book = folder / "book.pdf"
    fresh()
    pages, book_s = timed(build_board_book, spec, book, WM)
    stamped = folder / "stamped.pdf"
    fresh()
    concat_pages, concat_s = timed(stamp_pdf, docs, stamped, WM)
    only_pages, only_s = stamping_only(docs)
    return {
        "documents": len(docs), "generate_s": round(gen_s, 2),
        "board_book_pages": pages, "board_book_s": round(book_s, 3),
        "board_book_size_ratio": round(book.stat().st_size / inputs, 3),
        **download_path(docs, folder, passes, isolated),
        "concat_pages": concat_pages, "concat_s": round(concat_s, 3),
        "concat_pages_per_s": round(concat_pages / concat_s),
        "concat_size_ratio": round(stamped.stat().st_size / inputs, 3),
        "stamp_only_pages_per_s": round(only_pages / only_s),
        "inputs_bytes": inputs, "board_book_bytes": book.stat().st_size,
    }


def bench_corpus(folder: Path, passes: int, isolated: bool) -> dict | None:
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
    spec = BoardBookSpec("Corpus", "—", "Bench", [("1", "Corpus", [(p.stem, str(p)) for p in accepted])])
    book = folder / "corpus-book.pdf"
    fresh()
    book_pages, book_s = timed(build_board_book, spec, book, WM)
    only_pages, only_s = stamping_only(accepted)
    corpus_folder = folder / "corpus"
    corpus_folder.mkdir()
    copies = download_path(accepted, corpus_folder, passes, isolated)
    return {
        "files": len(files), "accepted": len(accepted), "refused": refused,
        "intake_s_total": round(intake_s, 2), "pages": copies["stamp_pdf_pages"], **copies,
        "stamp_only_pages_per_s": round(only_pages / only_s),
        "board_book_pages": book_pages, "board_book_s": round(book_s, 3),
        "board_book_size_ratio": round(book.stat().st_size / inputs, 3),
    }


def main() -> None:
    # pypdf logs a warning for every quirk of real-world files; the numbers are what matter here.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--passes", type=int, default=5, help="passes over the documents' copies (median reported)")
    parser.add_argument("--no-child", action="store_true", help="skip the copies through the child process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {"targets": TARGETS,
                   "generated": bench_generated(Path(tmp), args.passes, not args.no_child),
                   "corpus": bench_corpus(Path(tmp), args.passes, not args.no_child)}
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return
    for key, title in (("generated", "Generated briefings (20 documents of 50 text pages)"),
                       ("corpus", "Real-world corpus")):
        d = results[key]
        if d is None:
            print(f"{title}: absent ({CORPUS.resolve()})")
            continue
        if key == "corpus":
            title += f" ({d['accepted']} of {d['files']} files accepted, {d['pages']} pages; refused: {d['refused']})"
        print(f"{title}:")
        print(f"  reader's copy of one document (stamp_pdf: prepared copy, pikepdf), median of {d['stamp_passes']}"
              f" passes: {d['stamp_pdf_pages_per_s']} pages/s (best {d['stamp_pdf_pages_per_s_best']}), "
              f"{d['stamp_pdf_ms_per_copy']} ms per copy   (target >= 2000 pages/s)")
        print(f"    from the prepared copy: {d['fast_copies']} documents; through pypdf: {d['fallbacks'] or 'none'}")
        print(f"  preparation, once per document version: {d['prepare_s_total']:.2f} s = "
              f"{d['prepare_pages_per_s']} pages/s")
        if "isolated_s_total" in d:
            print(f"  through a pooled worker (stamp_pdf_isolated): {d['isolated_ms_per_copy_median']} ms per copy "
                  f"(median), {d['isolated_pages_per_s']} pages/s; through a fresh child per copy: "
                  f"{d['one_child_ms_per_copy_median']} ms, {d['one_child_pages_per_s']} pages/s")
        print(f"  size: stamped copies {d['stamp_size_ratio']} x inputs, board book {d['board_book_size_ratio']} x "
              "inputs   (target <= 1.2)")
        print(f"  board book, {d['board_book_pages']} pages, watermarked: {d['board_book_s']:.2f} s"
              + ("   (target <= 2 s)" if key == "generated" else ""))
        if key == "generated":
            print(f"  pypdf path, all 20 documents in one stamp_pdf: {d['concat_pages_per_s']} pages/s "
                  f"(size {d['concat_size_ratio']} x); its stamping step alone: {d['stamp_only_pages_per_s']} pages/s")
        else:
            print(f"  intake, all files: {d['intake_s_total']:.2f} s; pypdf stamping step alone: "
                  f"{d['stamp_only_pages_per_s']} pages/s")


if __name__ == "__main__":
    main()
