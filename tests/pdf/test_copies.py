"""A reader's copy of a stored document, made from its prepared copy through pikepdf: valid, complete, without
active content, and made through pypdf instead when the prepared copy cannot be trusted."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader, PdfWriter

from ecabinet.pdf import copies
from ecabinet.pdf.copies import prepare_isolated, stamp_copy, stamp_pdf_isolated
from ecabinet.pdf.errors import IntakeError
from ecabinet.pdf.intake import inspect_pdf
from ecabinet.pdf.stamping import Watermark, page_geometry, stamp_face, write_file_atomically
from ecabinet.pdf.ttfsubset import TrueTypeFace
from tests.pdf.conftest import corpus_files, corpus_pages, require_corpus
from tests.pdf.test_stamping import WM, assert_stamped, stored

pytestmark = pytest.mark.timeout(180)


def assert_valid(path: Path, pages: int) -> PdfReader:
    """Opens in strict mode, and every object of the xref reads back without a repair."""
    reader = PdfReader(path, strict=True)
    assert len(reader.pages) == pages
    for number in reader.xref[0]:
        reader.get_object(number)
    return reader


def page_objects(path: Path) -> int:
    """How many page dictionaries the file holds, referenced or not: an unstamped one left behind would count."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", path.read_bytes()))


def labelled_briefing(tmp_path: Path, source: Path) -> Path:
    writer = PdfWriter(clone_from=str(source))
    writer.set_page_label(0, 0, prefix="Bìa")
    writer.set_page_label(1, len(writer.pages) - 1, style="/D", start=1)
    parent = writer.add_outline_item("Phần 1", 0)
    writer.add_outline_item("Mục 1.1", 1, parent=parent)
    path = tmp_path / "labelled.pdf"
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


@pytest.mark.parametrize("fast", [True, False], ids=["from the prepared copy", "through pypdf"])
def test_a_copy_keeps_pages_outline_and_labels(tmp_path, big_demo_pdf, fast):
    source = labelled_briefing(tmp_path, big_demo_pdf)
    out = tmp_path / "copy.pdf"
    made = stamp_copy(stored(tmp_path, source) if fast else source, out, WM)
    assert made.fast is fast, made.note
    reader = assert_valid(out, 150)
    for page in reader.pages:
        assert_stamped(page.extract_text())
    assert reader.page_labels[:3] == ["Bìa", "1", "2"]
    assert [item.title for item in reader.outline if not isinstance(item, list)] == ["Phần 1"]
    assert reader.metadata["/ECabinetCopy"] == WM.copy_code and reader.metadata["/Producer"] == "e-Cabinet"
    # The copy is a new file: one page dictionary per page (no unstamped one behind), no prepared marker.
    assert page_objects(out) == 150
    assert copies.PREPARED_KEY.encode() not in out.read_bytes()
    assert out.stat().st_size <= 1.2 * source.stat().st_size


def test_every_accepted_corpus_file_is_copied_from_its_prepared_copy(tmp_path, capsys):
    require_corpus()
    expected = corpus_pages()
    total_in = total_out = 0
    slow = {}
    for path in corpus_files():
        try:
            info = inspect_pdf(path)
        except IntakeError:
            continue  # refused at intake: never stamped
        assert info.page_count == expected.get(path.name, info.page_count)
        blob = stored(tmp_path, path)
        out = tmp_path / f"copy-{path.name}"
        made = stamp_copy(blob, out, WM)
        if not made.fast:
            slow[path.name] = made.note
        reader = assert_valid(out, info.page_count)
        for number in {0, len(reader.pages) - 1}:
            assert_stamped(reader.pages[number].extract_text())
        assert page_objects(out) == info.page_count
        # Where the stamp goes comes from the same geometry pypdf sees on the prepared copy.
        prepared = copies.prepared_location(blob)[1]
        with pikepdf.open(prepared) as pdf:
            ours = [copies.qpdf_geometry(page) for page in pdf.pages]
        assert ours == [page_geometry(page) for page in PdfReader(prepared).pages], path.name
        total_in += path.stat().st_size
        total_out += out.stat().st_size
    with capsys.disabled():
        print(f"\ncorpus copies from prepared copies: size ratio {total_out / total_in:.3f}; "
              f"through pypdf: {slow or 'none'}")
    assert slow == {}, f"copied through pypdf instead: {slow}"
    assert total_out / total_in <= 1.2


def test_a_prepared_copy_is_made_once_and_reused(tmp_path, demo_pdf):
    blob = stored(tmp_path, demo_pdf)
    prepared = copies.prepared_location(blob)[1]
    assert not prepared.exists()
    assert stamp_copy(blob, tmp_path / "first.pdf", WM).fast
    made = prepared.stat()
    assert prepared.parent.parent.name == copies.FORMAT and prepared.parent.parent.parent.name == "prepared"
    second = Watermark(WM.name, WM.organisation, WM.time_text, "Z9Z9-000")
    assert stamp_copy(blob, tmp_path / "second.pdf", second).fast
    assert (prepared.stat().st_ino, prepared.stat().st_mtime_ns) == (made.st_ino, made.st_mtime_ns)
    assert PdfReader(tmp_path / "second.pdf").metadata["/ECabinetCopy"] == "Z9Z9-000"
    # Nothing but finished files: the temporary names are gone.
    assert os.listdir(prepared.parent) == [prepared.name]
    assert not [name for _, _, names in os.walk(tmp_path) for name in names if name.endswith(".part")]


def test_a_file_outside_the_store_or_several_sources_go_through_pypdf(tmp_path, demo_pdf):
    made = stamp_copy(demo_pdf, tmp_path / "copy.pdf", WM)
    assert not made.fast and made.note == "not a file of the blob store"
    blob = stored(tmp_path, demo_pdf)
    made = stamp_copy([blob, blob], tmp_path / "two.pdf", WM)
    assert not made.fast and made.note == "several sources"
    assert not copies.prepared_location(blob)[1].exists()


def odd_prepared_copies(prepared: Path, other: Path) -> dict[str, bytes]:
    good = prepared.read_bytes()
    xref = good.rindex(b"\nxref\n") + 1
    return {
        "garbage": b"%PDF-1.7\nnot really a pdf\n%%EOF\n",
        "truncated": good[: len(good) // 2],
        "an object moved": good.replace(b"\n2 0 obj\n", b"\n 2 0 obj\n", 1),
        "an xref stream": good[:xref] + b"startxref\n%d\n%%%%EOF\n" % (xref - 20),
        "made from another blob": other.read_bytes(),
        "an incremental update": good + b"trailer\n<< /Size 3 /Root 1 0 R /Prev 9 >>\nstartxref\n%d\n%%%%EOF\n" % xref,
    }


# A prepared copy that is not what it should be is never stamped as it is: qpdf refuses to read it (no
# recovery), reads it only with warnings, or it carries another blob's marker. The copy is then made
# through pypdf from the original. Two changes qpdf reads exactly as written (an object one byte off
# its xref offset, bytes appended after %%EOF) still give the whole document, stamped.
REFUSED = ["garbage", "truncated", "an xref stream", "made from another blob"]
READ_AS_WRITTEN = ["an object moved", "an incremental update"]


@pytest.mark.parametrize("case", REFUSED + READ_AS_WRITTEN)
def test_an_odd_prepared_copy_falls_back_to_pypdf_or_reads_whole(tmp_path, demo_pdf, big_demo_pdf, case):
    blob = stored(tmp_path, demo_pdf)
    other = stored(tmp_path, big_demo_pdf)
    for path in (blob, other):
        copies.ensure_prepared(path)
    prepared = copies.prepared_location(blob)[1]
    prepared.write_bytes(odd_prepared_copies(prepared, copies.prepared_location(other)[1])[case])
    out = tmp_path / "copy.pdf"
    made = stamp_copy(blob, out, WM)
    if case in REFUSED:
        assert not made.fast and made.note, case
    reader = assert_valid(out, len(PdfReader(demo_pdf).pages))
    assert made.page_count == len(reader.pages)
    for page in reader.pages:
        assert_stamped(page.extract_text())
    assert page_objects(out) == len(reader.pages)


def test_a_copy_carries_no_action_that_runs_code_or_opens_a_file(tmp_path):
    from tests.pdf import crafted

    source = tmp_path / "active.pdf"
    source.write_bytes(crafted.active_content_pdf())
    assert {"JavaScript", "Launch", "OpenAction"} <= set(inspect_pdf(source).active_content)
    out = tmp_path / "copy.pdf"
    made = stamp_copy(stored(tmp_path, source), out, WM)
    assert made.fast, made.note
    assert inspect_pdf(out).active_content == []
    reader = assert_valid(out, 1)
    assert_stamped(reader.pages[0].extract_text())
    assert [annot.get_object()["/Subtype"] for annot in reader.pages[0]["/Annots"]] == ["/Link"]  # kept, inert


def test_a_copy_is_a_new_complete_file(tmp_path, big_demo_pdf):
    blob = stored(tmp_path, big_demo_pdf)
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    stamp_copy(blob, first, WM)
    stamp_copy(blob, second, Watermark(WM.name, WM.organisation, WM.time_text, "Z9Z9-000"))
    prepared = copies.prepared_location(blob)[1].read_bytes()
    for out in (first, second):
        data = out.read_bytes()
        # One header, one end, no /Prev: not the prepared copy with an update appended (truncating would undo it).
        assert data.count(b"%PDF-") == 1 and data.rstrip().endswith(b"%%EOF") and data.count(b"%%EOF") == 1
        assert b"/Prev" not in data and not data.startswith(prepared[:-64])
    ids = [PdfReader(out).trailer["/ID"][0] for out in (first, second)]
    assert ids[0] != ids[1]  # a fresh /ID per copy


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    out = tmp_path / "copy.pdf"

    def fail(fh: io.BufferedWriter) -> None:
        fh.write(b"%PDF-1.7\nhalf a file")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_file_atomically(out, fail)
    assert os.listdir(tmp_path) == []


def test_copies_and_preparation_in_the_child_process(tmp_path, big_demo_pdf):
    blob = stored(tmp_path, big_demo_pdf)
    prepared = copies.prepared_location(blob)[1]
    # The first copy of a document stored before prepared copies existed makes it, under the child's limits.
    out = tmp_path / "copy.pdf"
    assert stamp_pdf_isolated([blob], out, WM, memory_bytes=512 * 1024 * 1024) == 150
    assert prepared.is_file()
    reader = assert_valid(out, 150)
    assert_stamped(reader.pages[-1].extract_text())
    prepared.unlink()
    assert prepare_isolated(blob) and prepared.is_file()
    assert not prepare_isolated(tmp_path / "storage" / "objects" / "00" / ("0" * 62))  # no such blob: logged, False


def test_the_font_subset_is_a_valid_font_with_the_watermark_characters():
    from reportlab.pdfbase.ttfonts import TTFontFile

    face = stamp_face()
    text = WM.footer_text() + "ĐđƯươ" + "\u4e2d"  # a character the font lacks is drawn as .notdef
    subset = face.subset(text)
    TTFontFile(io.BytesIO(subset.program), validate=1)  # table and file checksums
    again = TrueTypeFace(subset.program)
    assert again.num_glyphs < 120
    for char in dict.fromkeys(text):
        assert again.glyph(char) == subset.gids[char]
        assert again.width(char) == face.width(char)


def shared_resources_pdf(tmp_path: Path) -> Path:
    """Pages whose resources are shared (one indirect /Resources, one indirect /XObject dictionary),
    absent, or direct; contents as one stream, an indirect array of streams, or none."""
    from tests.pdf import crafted

    text = crafted.stream(b"BT /F1 12 Tf 72 720 Td (Shared page) Tj ET")
    image = crafted.stream(b"q 10 0 0 10 0 0 cm /Im0 Do Q")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R 6 0 R 7 0 R] /Count 5 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources 8 0 R /Contents 10 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources 8 0 R /Contents 13 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 9 0 R >>"
        b" /XObject 11 0 R >> /Contents [10 0 R 14 0 R] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Resources << /XObject 11 0 R >> /Contents 14 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        b"<< /Font << /F1 9 0 R >> /ProcSet [/PDF /Text] >>",
        crafted.FONT,
        text,
        b"<< /Im0 12 0 R >>",
        crafted.stream(b"\xff\x00\x00", b"/Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceRGB"
                       b" /BitsPerComponent 8 "),
        b"[10 0 R]",
        image,
    ]
    path = tmp_path / "shared.pdf"
    path.write_bytes(crafted.build(objects))
    return path


def test_shared_and_absent_resources_and_indirect_content_arrays(tmp_path):
    source = shared_resources_pdf(tmp_path)
    out = tmp_path / "copy.pdf"
    made = stamp_copy(stored(tmp_path, source), out, WM)
    assert made.fast, made.note
    reader = assert_valid(out, 5)
    names = None
    for number, page in enumerate(reader.pages):
        assert_stamped(page.extract_text())
        xobjects = page["/Resources"]["/XObject"]
        marks = sorted(name for name in xobjects if name.startswith("/ECabWm"))
        assert len(marks) == 2 and (names is None or marks == names), number
        names = marks
        contents = page["/Contents"]
        assert contents[0].get_object().get_data() == b"q\n" and len(contents) >= 2
    assert "Shared page" in reader.pages[0].extract_text() and "Shared page" in reader.pages[1].extract_text()
    # Pages 3 and 4 still draw their image through the shared XObject dictionary.
    assert "/Im0" in reader.pages[2]["/Resources"]["/XObject"] and "/Im0" in reader.pages[3]["/Resources"]["/XObject"]
    assert page_objects(out) == 5
