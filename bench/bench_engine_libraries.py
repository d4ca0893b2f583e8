"""The engine's hand-written parts against the libraries that do the same job, and the way a reader's copy
is made. Prints each figure beside the other; asserts nothing.

    .venv/bin/python bench/bench_engine_libraries.py            # human-readable
    .venv/bin/python bench/bench_engine_libraries.py --json     # one JSON object

fontTools comes with requirements-dev.txt (``make setup``): it is not a requirement of the application
(pikepdf is: readers' copies are made with it).

- **a reader's copy** (``ecabinet.pdf.copies``: the prepared copy stamped through pikepdf, which replaced
  the hand-written byte-level copier) against pikepdf stamping the original directly (the catalog cut
  down to what a copy keeps): whether the prepared copy per version still pays. On the real-world
  corpus in ../shared/pdf-corpus, every accepted file, several passes (median pass), and on a
  generated 300-page briefing;
- **ttfsubset** against ``fontTools.subset`` for the watermark's characters: the subset of one copy
  with the face already loaded (what a long-lived process pays), with the face loaded first (what a
  fresh child process pays on top of its imports), the imports themselves, and the output sizes;
- **the download a reader waits for**: one reader's copy through the real path (``stamp_pdf_isolated``:
  a worker of the pool), through a fresh limited child per copy (``run_in_child``: the path before
  the pool), and in the calling process, for the corpus's typical document and a generated 50-page
  briefing; and the bare start of a child.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ecabinet.documents.demo_pdf import SAMPLE_PARAGRAPHS, make_demo_pdf  # noqa: E402
from ecabinet.pdf.copies import ensure_prepared, prepared_location, stamp_copy, stamp_pdf_isolated  # noqa: E402
from ecabinet.pdf.errors import IntakeError  # noqa: E402
from ecabinet.pdf.intake import inspect_pdf  # noqa: E402
from ecabinet.pdf.sandbox import run_in_child  # noqa: E402
from ecabinet.pdf.stamping import (  # noqa: E402
    PUSH_OPS,
    Watermark,
    build_overlay,
    placement_ops,
    stamp_face,
    stamp_names,
    write_file_atomically,
)
from ecabinet.pdf.storage import BlobStore  # noqa: E402
from ecabinet.pdf.ttfsubset import TrueTypeFace  # noqa: E402

CORPUS = REPO / ".." / "shared" / "pdf-corpus"
WM = Watermark("Nguyễn Thị Hường", "Bộ Kế hoạch và Đầu tư", "27/11/2026 08:15", "K7Q2-9XF")
# The project's rule: a hand-written part stays only where it wins by at least this much.
KEEP_FACTOR = 2.0


def reader_watermark(index: int) -> Watermark:
    code = f"K{index:03d}-{index * 7919 % 9973:04X}"
    return Watermark(WM.name, WM.organisation, f"27/11/2026 08:{index % 60:02d}", code)


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


# --- a reader's copy: from the prepared copy (the engine) or from the original ----------------------

def pikepdf_from_original(original: Path, out: Path, watermark: Watermark) -> int:
    """A reader's copy stamped by pikepdf straight from the original: no prepared copy. The catalog is
    cut down to what a copy keeps and the pages lose the keys pypdf's append leaves out."""
    import pikepdf

    from ecabinet.pdf.copies import qpdf_geometry

    overlay = build_overlay(watermark)
    footer_name, diagonal_name = stamp_names()
    with pikepdf.open(original) as pdf, pikepdf.open(io.BytesIO(overlay.as_pdf())) as forms:
        root = pdf.Root
        kept = pikepdf.Dictionary(Type=pikepdf.Name.Catalog, Pages=root.Pages)
        for key in ("/Outlines", "/PageLabels"):
            if key in root:
                kept[key] = root[key]
        pdf.trailer.Root = pdf.make_indirect(kept)
        footer = pdf.copy_foreign(forms.get_object(overlay.footer, 0))
        diagonal = pdf.copy_foreign(forms.get_object(overlay.diagonal, 0))
        push = pdf.make_stream(PUSH_OPS)
        placements: dict[tuple, Any] = {}
        for page in pdf.pages:
            for key in ("/PieceInfo", "/Thumb", "/AA"):
                if key in page.obj:
                    del page.obj[key]
            geometry = qpdf_geometry(page)
            if geometry not in placements:
                placements[geometry] = pdf.make_stream(placement_ops(geometry, overlay, footer_name, diagonal_name))
            page.add_resource(footer, pikepdf.Name.XObject, pikepdf.Name(footer_name))
            page.add_resource(diagonal, pikepdf.Name.XObject, pikepdf.Name(diagonal_name))
            page.contents_add(push, prepend=True)
            page.contents_add(placements[geometry], prepend=False)
        pdf.trailer.Info = pdf.make_indirect(pikepdf.Dictionary(Producer="e-Cabinet", ECabinetCopy=watermark.copy_code))
        count = len(pdf.pages)
        write_file_atomically(out, lambda fh: pdf.save(fh, compress_streams=False, fix_metadata_version=False,
                                                       stream_decode_level=pikepdf.StreamDecodeLevel.none))
    return count


def stored_blobs(folder: Path, sources: list[Path]) -> list[tuple[Path, Path, int]]:
    """(blob, prepared copy, pages) of every source intake accepts, stored and prepared."""
    store = BlobStore(folder / "storage")
    found = []
    for path in sources:
        try:
            info = inspect_pdf(path)
        except IntakeError:
            continue
        blob = store.put_file(path, 1 << 30)[2]
        found.append((blob, ensure_prepared(blob), info.page_count))
    return found


def bench_copy(folder: Path, passes: int, sources: list[Path]) -> dict[str, Any] | None:
    if not sources:
        return None
    blobs = stored_blobs(folder, sources)
    out = folder / "copy.pdf"
    pages = sum(p for _, _, p in blobs)
    results: dict[str, Any] = {"documents": len(blobs), "pages": pages}
    copy = 0

    def ours(blob: Path, prepared: Path, index: int) -> None:
        made = stamp_copy(blob, out, reader_watermark(index))
        assert made.fast, made.note

    def theirs(blob: Path, prepared: Path, index: int) -> None:
        pikepdf_from_original(blob, out, reader_watermark(index))

    for name, job in (("prepared", ours), ("original", theirs)):
        job(*blobs[0][:2], 0)  # first use: imports, the font face
        pass_s, per_doc = [], {blob.name: [] for blob, _, _ in blobs}
        for _ in range(passes):
            gc.collect()
            total = 0.0
            for blob, prepared, _pages in blobs:
                copy += 1
                elapsed = timed(job, blob, prepared, copy)[1]
                per_doc[blob.name].append(elapsed)
                total += elapsed
            pass_s.append(total)
        typical = statistics.median(pass_s)
        medians = [statistics.median(times) for times in per_doc.values()]
        results[name] = {"pages_per_s": round(pages / typical), "s_per_pass": round(typical, 3),
                         "ms_per_document_median": round(1000 * statistics.median(medians), 2),
                         "ms_per_document_mean": round(1000 * typical / len(blobs), 2),
                         "ms_per_document_max": round(1000 * max(medians), 1),
                         "bytes_out_example": out.stat().st_size}
        results[name]["per_document_ms"] = {n: round(1000 * statistics.median(t), 2) for n, t in per_doc.items()}
    results["prepared_vs_original"] = round(results["prepared"]["pages_per_s"] / results["original"]["pages_per_s"], 2)
    return results


# --- ttfsubset against fontTools.subset --------------------------------------------------------------

def import_ms(statement: str, runs: int = 5) -> float:
    """Median cost of ``statement`` in a fresh interpreter, above the interpreter's own start."""
    def run(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-P", "-c", code], check=True, cwd=REPO,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
        return time.perf_counter() - started

    bare = statistics.median(run("pass") for _ in range(runs))
    bootstrap = ("import sys, types, os; p = types.ModuleType('ecabinet'); "
                 "p.__path__ = [os.path.join(os.getcwd(), 'ecabinet')]; sys.modules['ecabinet'] = p; ")
    return round(1000 * (statistics.median(run(bootstrap + statement) for _ in range(runs)) - bare), 1)


def fonttools_subset(data: bytes, text: str) -> bytes:
    """fontTools' subsetter set up as the watermark needs: no hinting, no glyph names, .notdef kept."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.hinting = False
    options.glyph_names = False
    options.notdef_outline = True
    options.name_IDs = [1, 2, 3, 4, 6]
    options.layout_features = []  # a watermark is drawn glyph by glyph: no OpenType layout
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern"]
    font = TTFont(io.BytesIO(data), lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def bench_subset(rounds: int) -> dict[str, Any]:
    text = WM.footer_text() + WM.diagonal_text()
    path = _face_path()
    data = path.read_bytes()
    face = TrueTypeFace(data, name=str(path))

    def median_ms(fn: Any) -> float:
        fn()
        samples = []
        for _ in range(rounds):
            samples.append(timed(fn)[1])
        return round(1000 * statistics.median(samples), 3)

    ours_warm = median_ms(lambda: face.subset(text))
    ours_cold = median_ms(lambda: TrueTypeFace(path.read_bytes(), name=str(path)).subset(text))
    theirs = median_ms(lambda: fonttools_subset(path.read_bytes(), text))
    ours_bytes, theirs_bytes = len(face.subset(text).program), len(fonttools_subset(data, text))
    ours_import = import_ms("import ecabinet.pdf.ttfsubset")
    theirs_import = import_ms("import fontTools.subset, fontTools.ttLib")
    return {
        "font": path.name, "characters": len(set(text)),
        "ttfsubset": {"subset_ms_warm": ours_warm, "load_and_subset_ms": ours_cold, "import_ms": ours_import,
                      "bytes": ours_bytes},
        # fontTools changes the font it subsets: every copy parses the font again (lazily), so warm = cold.
        "fonttools": {"subset_ms_warm": theirs, "load_and_subset_ms": theirs, "import_ms": theirs_import,
                      "bytes": theirs_bytes},
        "warm_factor": round(theirs / ours_warm, 1),
        "fresh_child_factor": round((theirs + theirs_import) / (ours_cold + ours_import), 1),
    }


def _face_path() -> Path:
    """The font file the watermark uses (the one ``stamp_face`` loads)."""
    from ecabinet.pdf.fonts import candidate_paths, find_unicode_font

    face = stamp_face()
    for path in [*candidate_paths("regular"), find_unicode_font("regular")]:
        if path.is_file() and path.read_bytes() == face.data:
            return path
    raise RuntimeError("the watermark's font file was not found again")


# --- the download a reader waits for ---------------------------------------------------------------

def bench_download(folder: Path, rounds: int) -> dict[str, Any]:
    store = BlobStore(folder / "download")
    generated = folder / "briefing-50.pdf"
    paragraphs = (SAMPLE_PARAGRAPHS * 8)[:50]
    make_demo_pdf("Tờ trình dự thảo Nghị định", paragraphs, generated, one_page_per_paragraph=True)
    documents = {"generated_50_pages": generated}
    corpus = sorted(CORPUS.glob("*.pdf")) if CORPUS.is_dir() else []
    if corpus:
        # The corpus's typical document: the median by size among those intake accepts.
        accepted = []
        for path in corpus:
            try:
                accepted.append((inspect_pdf(path).page_count, path.stat().st_size, path))
            except IntakeError:
                continue
        accepted.sort(key=lambda entry: entry[1])
        documents["corpus_median_size"] = accepted[len(accepted) // 2][2]
    out = folder / "copy.pdf"
    results: dict[str, Any] = {}
    copy = 1000
    for label, source in documents.items():
        blob = store.put_file(source, 1 << 30)[2]
        ensure_prepared(blob)
        assert prepared_location(blob) is not None
        child, pooled, warm = [], [], []
        stamp_pdf_isolated([blob], out, reader_watermark(copy))  # the pool's workers started, as in a server
        stamp_copy(blob, out, reader_watermark(copy))
        for _ in range(rounds):
            copy += 1
            child.append(timed(one_child, blob, out, reader_watermark(copy))[1])
            copy += 1
            pooled.append(timed(stamp_pdf_isolated, [blob], out, reader_watermark(copy))[1])
            copy += 1
            warm.append(timed(stamp_copy, blob, out, reader_watermark(copy))[1])
        child_ms, pooled_ms = 1000 * statistics.median(child), 1000 * statistics.median(pooled)
        warm_ms = 1000 * statistics.median(warm)
        results[label] = {"document": source.name, "pages": stamp_copy(blob, out, WM).page_count,
                          "child_process_ms": round(child_ms, 1), "pooled_ms": round(pooled_ms, 2),
                          "in_process_ms": round(warm_ms, 2), "saved_by_the_pool_ms": round(child_ms - pooled_ms, 1),
                          "share_saved": round(1 - pooled_ms / child_ms, 3)}
    results["child_start_ms"] = {
        "python_bare": _bare_ms(),
        "worker_imports_above_bare": import_ms("import ecabinet.pdf.worker"),
        "pikepdf_import_above_bare": import_ms("import pikepdf"),
    }
    return results


def one_child(blob: Path, out: Path, watermark: Watermark) -> int:
    """A reader's copy in a fresh limited child per copy: the path every download took before the pool."""
    return run_in_child({"op": "stamp", "sources": [str(blob)], "out_path": str(out),
                         "watermark": watermark.to_json()}, timeout_s=60, memory_bytes=1024 * 1024 * 1024)["page_count"]


def _bare_ms(runs: int = 7) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-P", "-c", "pass"], check=True)
        samples.append(time.perf_counter() - started)
    return round(1000 * statistics.median(samples), 1)


# --- output ----------------------------------------------------------------------------------------

def verdict(factor: float) -> str:
    return "keep (wins by >= 2x)" if factor >= KEEP_FACTOR else "replace by the library (wins by < 2x)"


def print_report(result: dict[str, Any]) -> None:
    for key, what in (("copy", "the corpus"), ("copy_long", "a generated briefing")):
        print_copy(result.get(key), what)
    print_rest(result)


def print_copy(copy: dict[str, Any] | None, what: str) -> None:
    if copy:
        ours, theirs = copy["prepared"], copy["original"]
        print(f"Reader's copy through pikepdf: {what}, {copy['documents']} documents, "
              f"{copy['pages']} pages (median of passes)")
        print(f"  {'':28}{'prepared':>12}{'original':>12}")
        for key, label in (("pages_per_s", "pages/s"), ("ms_per_document_median", "ms/document (median)"),
                           ("ms_per_document_mean", "ms/document (mean)"),
                           ("ms_per_document_max", "ms/document (slowest)")):
            print(f"  {label:28}{ours[key]:>12}{theirs[key]:>12}")
        print(f"  from the prepared copy / from the original: {copy['prepared_vs_original']}x")
    else:
        print(f"Reader's copy: {what} is absent, not measured")
    print()


def print_rest(result: dict[str, Any]) -> None:
    sub = result["subset"]
    ours, theirs = sub["ttfsubset"], sub["fonttools"]
    print(f"Font subset of one watermark ({sub['characters']} distinct characters of {sub['font']})")
    print(f"  {'':28}{'ttfsubset':>12}{'fontTools':>12}")
    for key, label in (("subset_ms_warm", "ms, face loaded"), ("load_and_subset_ms", "ms, load + subset"),
                       ("import_ms", "ms, import"), ("bytes", "bytes")):
        print(f"  {label:28}{ours[key]:>12}{theirs[key]:>12}")
    print(f"  fontTools / ttfsubset: {sub['warm_factor']}x warm, {sub['fresh_child_factor']}x in a fresh child "
          f"-> {verdict(min(sub['warm_factor'], sub['fresh_child_factor']))}")
    print("\nOne reader's download (median)")
    print(f"  {'':28}{'fresh child':>14}{'pooled':>12}{'in process':>12}{'the pool saves':>16}")
    for label, entry in result["download"].items():
        if label == "child_start_ms":
            continue
        print(f"  {label + ' (' + str(entry['pages']) + ' p.)':28}{entry['child_process_ms']:>11} ms"
              f"{entry['pooled_ms']:>9} ms{entry['in_process_ms']:>9} ms{entry['saved_by_the_pool_ms']:>13} ms")
    start = result["download"]["child_start_ms"]
    print(f"  the child's start: interpreter {start['python_bare']} ms, + worker imports "
          f"{start['worker_imports_above_bare']} ms (pikepdf's import alone: {start['pikepdf_import_above_bare']} ms)")


def main() -> None:
    # pypdf warns about every quirk of real files, fontTools about every table it drops: the numbers matter here.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--passes", type=int, default=5, help="passes over the corpus (median reported)")
    parser.add_argument("--rounds", type=int, default=30, help="repetitions of the subset and download timings")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        folder = Path(tmp)
        for name in ("copy", "long"):
            (folder / name).mkdir()
        long_briefing = folder / "long" / "briefing-300.pdf"
        make_demo_pdf("Báo cáo tổng hợp ý kiến góp ý", (SAMPLE_PARAGRAPHS * 50)[:300], long_briefing,
                      one_page_per_paragraph=True)
        corpus = sorted(CORPUS.glob("*.pdf")) if CORPUS.is_dir() else []
        result = {"copy": bench_copy(folder / "copy", args.passes, corpus),
                  "copy_long": bench_copy(folder / "long", args.passes, [long_briefing]),
                  "subset": bench_subset(args.rounds * 10),
                  "download": bench_download(folder, args.rounds)}
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print_report(result)


if __name__ == "__main__":
    main()
