"""Per-reader watermarks: present on every page, extractable, placed upright, cheap in size."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from ecabinet.pdf.copies import stamp_copy, stamp_pdf, stamp_pdf_isolated
from ecabinet.pdf.errors import IntakeError
from ecabinet.pdf.intake import inspect_pdf
from ecabinet.pdf.stamping import Watermark
from ecabinet.pdf.storage import BlobStore
from tests.pdf import crafted
from tests.pdf.conftest import corpus_files, require_corpus

pytestmark = pytest.mark.timeout(180)

WM = Watermark(name="Nguyễn Thị Hường", organisation="Bộ Kế hoạch và Đầu tư", time_text="27/11/2026 08:15",
               copy_code="K7Q2-9XF")


def assert_stamped(text: str) -> None:
    for part in (WM.name, WM.organisation, WM.time_text, WM.copy_code):
        assert part in text, f"{part!r} missing from {text[-300:]!r}"


def stored(tmp_path: Path, source: Path) -> Path:
    """``source`` as a blob of a BlobStore: the way a reader's copy of a stored document is made."""
    return BlobStore(tmp_path / "storage").put_file(source, 1 << 30)[2]


def test_every_page_carries_the_readers_watermark(tmp_path, big_demo_pdf):
    out = tmp_path / "copy.pdf"
    assert stamp_pdf(big_demo_pdf, out, WM) == 150
    reader = PdfReader(out)
    assert len(reader.pages) == 150
    for page in reader.pages:
        assert_stamped(page.extract_text())
    # One shared stamp: the output grows by the embedded font subset, not per page.
    assert out.stat().st_size <= 1.2 * big_demo_pdf.stat().st_size + 40_000


def test_stamp_in_a_child_process(tmp_path, demo_pdf):
    out = tmp_path / "copy.pdf"
    pages = stamp_pdf_isolated([demo_pdf], out, WM)
    reader = PdfReader(out)
    assert pages == len(reader.pages) >= 1
    assert_stamped(reader.pages[0].extract_text())


def test_downloaded_copy_passes_intake_and_searches_as_text(tmp_path, demo_pdf):
    out = tmp_path / "copy.pdf"
    stamp_pdf(demo_pdf, out, WM)
    info = inspect_pdf(out)
    assert WM.copy_code in info.text and info.active_content == []


def rotated_pdf(tmp_path: Path) -> Path:
    """Four pages with /Rotate 0, 90, 180, 270, a crop box away from the origin inside a larger media box."""
    pages = []
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    for index, rotation in enumerate((0, 90, 180, 270)):
        number = 3 + index
        pages.append(b"%d 0 R" % number)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [-50 -50 700 900] /CropBox [100 200 500 800] "
                       b"/Rotate %d /Resources << /Font << /F1 7 0 R >> >> /Contents 8 0 R >>" % rotation)
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(pages) + b"] /Count 4 >>"
    objects.append(crafted.FONT)
    objects.append(crafted.stream(b"BT /F1 12 Tf 150 700 Td (Original text) Tj ET"))
    path = tmp_path / "rotated.pdf"
    path.write_bytes(crafted.build(objects))
    return path


def footer_position(page) -> tuple[float, float]:
    """User-space origin of the footer form, from the placement stream appended to the page.

    (pypdf's text visitor reports positions inside form XObjects without the page's matrices, so the
    matrices are read from the stream and composed here; to_visible below is independent of the
    stamping code's own geometry.)
    """
    placement = page["/Contents"].get_object()[-1].get_object().get_data().decode()
    matrices = [[float(v) for v in line.split()[:6]] for line in placement.splitlines() if line.endswith(" cm")]
    (a, b, c, d, e, f), footer = matrices[0], matrices[-1]
    px, py = footer[4], footer[5]  # the form's origin after its own placement
    return a * px + c * py + e, b * px + d * py + f


def to_visible(rotation: int, x: float, y: float, box=(100, 200, 500, 800)) -> tuple[float, float]:
    x0, y0, x1, y1 = box
    return {0: (x - x0, y - y0), 90: (y - y0, x1 - x), 180: (x1 - x, y1 - y), 270: (y1 - y, x - x0)}[rotation]


@pytest.mark.parametrize("fast", [True, False], ids=["from the prepared copy", "through pypdf"])
def test_rotated_pages_and_offset_crop_boxes(tmp_path, fast):
    out = tmp_path / "copy.pdf"
    source = rotated_pdf(tmp_path)
    made = stamp_copy(stored(tmp_path, source) if fast else source, out, WM)
    assert made.fast is fast, made.note
    reader = PdfReader(out, strict=True)
    for page, rotation in zip(reader.pages, (0, 90, 180, 270), strict=True):
        assert page.get("/Rotate", 0) == rotation
        assert_stamped(page.extract_text())
        width, height = (400, 600) if rotation in (0, 180) else (600, 400)
        u, v = to_visible(rotation, *footer_position(page))
        # Upright along the bottom edge of what the viewer shows, inside the crop box.
        assert 0 <= u < width / 2, (rotation, u, v)
        assert 0 <= v < 15, (rotation, u, v)
        assert "Original text" in page.extract_text()


def test_real_world_corpus_size_and_text(tmp_path, capsys):
    require_corpus()
    total_in = total_out = 0
    for path in corpus_files():
        try:
            info = inspect_pdf(path)
        except IntakeError:
            continue  # refused at intake: never stamped
        out = tmp_path / path.name
        assert stamp_pdf(path, out, WM) == info.page_count
        reader = PdfReader(out)
        assert len(reader.pages) == info.page_count
        for page in {0, len(reader.pages) - 1}:
            assert_stamped(reader.pages[page].extract_text())
        total_in += path.stat().st_size
        total_out += out.stat().st_size
    ratio = total_out / total_in
    with capsys.disabled():
        print(f"\ncorpus watermark size ratio: {ratio:.3f} ({total_out} / {total_in} bytes)")
    assert ratio <= 1.2
