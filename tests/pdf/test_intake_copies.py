"""Intake accepts what common readers read, refuses only with the true reason, and accepts nothing that a
reader's copy cannot be made of: every accepted file yields a valid watermarked copy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from ecabinet.pdf import geometry, intake
from ecabinet.pdf.copies import stamp_copy, stamp_pdf_isolated
from ecabinet.pdf.errors import MESSAGES, IntakeError
from ecabinet.pdf.intake import inspect_pdf
from ecabinet.pdf.limits import IntakeLimits
from tests.pdf import crafted
from tests.pdf.conftest import corpus_files, require_corpus
from tests.pdf.test_stamping import WM, assert_stamped, stored

pytestmark = pytest.mark.timeout(180)

POPPLER = shutil.which("pdftotext") is not None


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(path: Path, limits: IntakeLimits | None = None) -> IntakeError:
    with pytest.raises(IntakeError) as info:
        inspect_pdf(path, limits)
    error = info.value
    assert error.code in MESSAGES and error.code != "failed", repr(error)
    assert str(error) and "%(" not in str(error)
    return error


def poppler_text(path: Path) -> str | None:
    """What poppler (a common reader) extracts from ``path``; None if poppler is not installed."""
    if not POPPLER:
        return None
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode("utf-8", "replace")


def assert_valid_copy(path: Path, pages: int) -> None:
    """What ``qpdf --check`` checks (through pikepdf), without any repair, and the page count."""
    if shutil.which("qpdf"):
        done = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, timeout=60, check=False)
        assert done.returncode == 0, done.stdout[-2000:]
    with pikepdf.open(path, attempt_recovery=False) as pdf:
        assert len(pdf.pages) == pages
        assert pdf.check_pdf_syntax() == []


def copy_of(tmp_path: Path, source: Path, pages: int) -> Path:
    """A reader's copy made the way a download makes it: from the stored blob's prepared copy."""
    out = tmp_path / f"copy-of-{source.name}"
    made = stamp_copy(stored(tmp_path, source), out, WM)
    assert made.fast, made.note
    assert made.page_count == pages
    assert_valid_copy(out, pages)
    return out


def boxes(path: Path) -> list[dict[str, list[float]]]:
    with pikepdf.open(path) as pdf:
        return [{key: [float(v) for v in page.obj[key]] for key in ("/MediaBox", *geometry.INNER_BOXES)
                 if key in page.obj} for page in pdf.pages]


# --- page boxes ---------------------------------------------------------------------------------------

def test_huge_mediabox_with_a_null_cropbox_is_accepted_and_copied(tmp_path):
    path = write(tmp_path, "12-huge-mediabox.pdf", crafted.huge_mediabox_pdf())
    assert inspect_pdf(path).page_count == 1
    copy = copy_of(tmp_path, path, 1)
    # Clamped to the largest page the PDF format allows; the null crop box dropped.
    assert boxes(copy) == [{"/MediaBox": [0, 0, 14400, 14400]}]
    assert_stamped(PdfReader(copy).pages[0].extract_text())
    # The same through the pool of workers, as the download route makes it.
    pooled = tmp_path / "pooled.pdf"
    assert stamp_pdf_isolated([stored(tmp_path, path)], pooled, WM) == 1
    assert_valid_copy(pooled, 1)
    # And through pypdf (a file outside the store), which is where a prepared copy that fails falls back.
    fallback = tmp_path / "fallback.pdf"
    assert not stamp_copy(path, fallback, WM).fast
    assert_valid_copy(fallback, 1)
    # (pypdf writes the crop box it defaulted to the media box when stamping.)
    assert {tuple(box) for box in boxes(fallback)[0].values()} == {(0, 0, 14400, 14400)}


BOX_CASES = {
    "null crop box": (b"/MediaBox [0 0 612 792] /CropBox null", {"/MediaBox": [0, 0, 612, 792]}),
    "malformed crop box": (b"/MediaBox [0 0 612 792] /CropBox [0 0 /Foo]", {"/MediaBox": [0, 0, 612, 792]}),
    "crop box of no area": (b"/MediaBox [0 0 612 792] /CropBox [0 0 0 0]", {"/MediaBox": [0, 0, 612, 792]}),
    "inverted media box": (b"/MediaBox [612 792 0 0]", {"/MediaBox": [0, 0, 612, 792]}),
    "null media box": (b"/MediaBox null", {"/MediaBox": [0, 0, 612, 792]}),
    "missing media box": (b"", {"/MediaBox": [0, 0, 612, 792]}),
    "short media box": (b"/MediaBox [0 0 612]", {"/MediaBox": [0, 0, 612, 792]}),
    "inverted boxes": (b"/MediaBox [0 0 612 792] /TrimBox [600 780 12 12] /BleedBox [612 792 0 0]",
                       {"/MediaBox": [0, 0, 612, 792], "/TrimBox": [12, 12, 600, 780], "/BleedBox": [0, 0, 612, 792]}),
    "boxes outside the media box": (b"/MediaBox [0 0 612 792] /CropBox [-100 -100 400 5000] /ArtBox [700 800 900 1000]",
                                    {"/MediaBox": [0, 0, 612, 792], "/CropBox": [0, 0, 400, 792]}),
    "huge media box, null art box": (b"/MediaBox [-10 -10 99999999 99999999] /ArtBox null /CropBox [0 0 612 792]",
                                     {"/MediaBox": [-10, -10, 14390, 14390], "/CropBox": [0, 0, 612, 792]}),
    "names and strings": (b"/MediaBox [0 0 612 792] /CropBox /None /TrimBox (text)", {"/MediaBox": [0, 0, 612, 792]}),
}


@pytest.mark.parametrize("case", sorted(BOX_CASES))
def test_unusable_boxes_are_repaired_in_every_readers_copy(case, tmp_path):
    syntax, expected = BOX_CASES[case]
    path = write(tmp_path, "boxes.pdf", crafted.boxed_pdf(syntax, pages=3))
    assert inspect_pdf(path).page_count == 3
    copy = copy_of(tmp_path, path, 3)
    assert boxes(copy) == [expected] * 3
    reader = PdfReader(copy)
    for page in reader.pages:
        assert_stamped(page.extract_text())
    if (text := poppler_text(copy)) is not None:
        assert text.count("Hello crafted page") == 3 and text.count(WM.copy_code) == 3


def test_good_boxes_are_left_as_they_are(tmp_path):
    syntax = b"/MediaBox [-50 -50 700 900] /CropBox [100 200 500 800] /TrimBox [110 210 490 790.5]"
    copy = copy_of(tmp_path, write(tmp_path, "fine.pdf", crafted.boxed_pdf(syntax)), 1)
    assert boxes(copy) == [{"/MediaBox": [-50, -50, 700, 900], "/CropBox": [100, 200, 500, 800],
                            "/TrimBox": [110, 210, 490, 790.5]}]


def test_inherited_boxes_are_kept(tmp_path):
    data = crafted.build([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 300 400] /CropBox [10 10 200 300] >>",
        b"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        crafted.FONT, crafted.stream(crafted.PAGE_TEXT)])
    copy = copy_of(tmp_path, write(tmp_path, "inherited.pdf", data), 1)
    assert boxes(copy) == [{"/MediaBox": [0, 0, 300, 400], "/CropBox": [10, 10, 200, 300]}]


def test_box_repairs():
    assert geometry.repair_media_box([0, 0, 1e12, 1e12]) == (0, 0, 14400, 14400)
    assert geometry.repair_media_box([612, 792, 0, 0]) == (0, 0, 612, 792)
    assert geometry.repair_media_box([0, 0, 1, 1]) == (0, 0, 3, 3)  # the smallest page
    assert geometry.repair_media_box([0, 0, float("inf"), 5]) == geometry.DEFAULT_MEDIA_BOX
    assert geometry.repair_media_box(None) == geometry.DEFAULT_MEDIA_BOX
    assert geometry.repair_media_box("0 0 612 792") == geometry.DEFAULT_MEDIA_BOX
    media = (0.0, 0.0, 612.0, 792.0)
    assert geometry.repair_inner_box(None, media) is None
    assert geometry.repair_inner_box([0, 0, 612], media) is None
    assert geometry.repair_inner_box([float("nan"), 0, 1, 1], media) is None
    assert geometry.repair_inner_box([1000, 1000, 2000, 2000], media) is None
    assert geometry.repair_inner_box([500, 700, 100, 100], media) == (100, 100, 500, 700)
    assert geometry.repair_inner_box([-5, -5, 700, 900], media) == media


# --- refusals that name their true cause -------------------------------------------------------------

def test_garbage_after_eof_is_accepted(tmp_path):
    path = write(tmp_path, "trailing.pdf", crafted.garbage_after_eof_pdf(5000))
    assert len(PdfReader(path).pages) == 1  # as pypdf reads it
    if (text := poppler_text(path)) is not None:
        assert "Hello crafted page" in text
    info = inspect_pdf(path)
    assert info.page_count == 1 and "Hello crafted page" in info.text
    copy_of(tmp_path, path, 1)


@pytest.mark.parametrize("declared", [5, 37, 5000, 70 * 1024 * 1024, 10**9, 10**15])
def test_wrong_stream_length_is_accepted_when_readers_read_it(declared, tmp_path):
    path = write(tmp_path, "length.pdf", crafted.wrong_length_pdf(declared))
    # pypdf finds the page (and its text, where its own 75 MB limit on a declared /Length allows).
    reader = PdfReader(path)
    assert len(reader.pages) == 1
    if declared < 75_000_000:
        assert "Hello crafted page" in reader.pages[0].extract_text()
    if (text := poppler_text(path)) is not None:
        assert "Hello crafted page" in text
    info = inspect_pdf(path)
    assert info.page_count == 1 and "Hello crafted page" in info.text
    out = copy_of(tmp_path, path, 1)
    assert "Hello crafted page" in PdfReader(out).pages[0].extract_text()


def test_a_real_decompression_bomb_is_still_refused_as_one(tmp_path):
    error = refused(write(tmp_path, "bomb.pdf", crafted.bomb_pdf(gigabytes=1)))
    assert error.code == "decompression_bomb"


def test_only_expansion_limits_are_called_a_bomb():
    from pypdf.errors import LimitReachedError

    limits = IntakeLimits()
    for text in ("Limit reached while decompressing.", "Stream decoding exceeded the maximum accumulated work",
                 "Requested image size exceeds total limit."):
        assert intake._classify_read_error(LimitReachedError(text), limits).code == "decompression_bomb"
    for text in ("Declared stream length of 1000000069 exceeds maximum allowed length.",
                 "Reached maximum array element count."):
        assert intake._classify_read_error(LimitReachedError(text), limits).code == "damaged"


@pytest.mark.parametrize("cut", ["half", "before %%EOF", "inside an update"])
def test_truncated_files_are_still_refused_as_truncated(cut, tmp_path, demo_pdf):
    data = demo_pdf.read_bytes()
    made = {"half": data[: len(data) // 2], "before %%EOF": data[: data.rindex(b"%%EOF")],
            "inside an update": crafted.cut_update_pdf()}[cut]
    assert refused(write(tmp_path, "cut.pdf", made)).code == "truncated"


def test_an_uncopyable_file_is_refused_with_that_reason(monkeypatch, tmp_path):
    from ecabinet.pdf import copies

    def fails(reader, sha256):
        raise ValueError("Expected an array of four values for /CropBox")

    monkeypatch.setattr(copies, "prove_copy", fails)
    with pytest.raises(IntakeError) as info:
        intake._prove_copy(object(), "0" * 64, IntakeLimits())
    assert info.value.code == "uncopyable"
    assert "/CropBox" in str(info.value) and "%(" not in str(info.value)


# --- every accepted corpus file: a valid reader's copy ------------------------------------------------

@pytest.mark.parametrize("path", corpus_files() or [None], ids=lambda p: p.name if p else "absent")
def test_every_accepted_corpus_file_yields_a_valid_readers_copy(path, tmp_path):
    require_corpus()
    try:
        info = inspect_pdf(path)
    except IntakeError as error:
        assert error.code not in ("failed", "uncopyable"), f"{path.name}: {error!r}"
        return
    out = copy_of(tmp_path, path, info.page_count)
    assert_stamped(PdfReader(out).pages[0].extract_text())


def test_a_board_book_takes_what_intake_accepted(tmp_path):
    from ecabinet.pdf.boardbook import BoardBookSpec, build_board_book_isolated

    files = {"huge": crafted.huge_mediabox_pdf(), "length": crafted.wrong_length_pdf(10**9),
             "trailing": crafted.garbage_after_eof_pdf()}
    paths = {name: write(tmp_path, f"{name}.pdf", data) for name, data in files.items()}
    for path in paths.values():
        assert inspect_pdf(path).page_count == 1
    spec = BoardBookSpec(meeting_title="Phiên họp", date_text="27/11/2026", reader=WM.name,
                         items=[("1", "Mục một", [(name, str(path)) for name, path in paths.items()])])
    out = tmp_path / "book.pdf"
    pages = build_board_book_isolated(spec, out, WM)
    assert_valid_copy(out, pages)
    texts = [page.extract_text() for page in PdfReader(out).pages]
    assert sum("Hello crafted page" in text for text in texts) == 3
    assert all(WM.copy_code in text for text in texts)
