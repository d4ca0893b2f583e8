"""Intake: every hostile input is refused with its own message, fast, without harming the caller."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ecabinet.pdf.errors import MESSAGES, IntakeError
from ecabinet.pdf.intake import inspect_pdf
from ecabinet.pdf.limits import IntakeLimits
from tests.pdf import crafted
from tests.pdf.conftest import corpus_files, corpus_pages, require_corpus

pytestmark = pytest.mark.timeout(120)


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


def test_accepts_a_generated_briefing(demo_pdf):
    info = inspect_pdf(demo_pdf)
    assert info.page_count >= 1
    assert info.title == "Tờ trình dự thảo Nghị định về đầu tư công"
    assert "Nghị định" in info.text and "đầu tư công" in info.text
    assert len(info.sha256) == 64 and info.size == demo_pdf.stat().st_size
    assert info.active_content == [] and not info.text_truncated


def test_title_falls_back_to_the_first_line_of_text(tmp_path):
    info = inspect_pdf(write(tmp_path, "simple.pdf", crafted.simple_pdf()))
    assert info.page_count == 1 and info.title == "Hello crafted page"


def test_text_is_bounded(big_demo_pdf):
    info = inspect_pdf(big_demo_pdf, IntakeLimits(max_text_chars=1000, max_text_chars_per_page=300))
    assert info.page_count == 150
    assert len(info.text.replace("\f", "")) <= 1000
    assert all(len(t) <= 300 for t in info.page_texts)
    assert info.text_truncated


def test_empty_file(tmp_path):
    assert refused(write(tmp_path, "empty.pdf", b"")).code == "empty"


def test_type_is_decided_by_content_not_name(tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 2000
    assert refused(write(tmp_path, "photo.pdf", png)).code == "not_pdf"
    # The other way round: a real PDF with another name is accepted.
    assert inspect_pdf(write(tmp_path, "upload.bin", crafted.simple_pdf())).page_count == 1


def test_magic_may_sit_within_the_first_1024_bytes(tmp_path):
    data = b"%" + b"x" * 900 + b"\n" + crafted.simple_pdf()
    info = inspect_pdf(write(tmp_path, "late-header.pdf", data))
    assert info.page_count == 1
    assert "Polyglot" in info.active_content  # bytes before the header are flagged
    assert refused(write(tmp_path, "too-late.pdf", b" " * 1100 + crafted.simple_pdf())).code == "not_pdf"


def test_truncated(tmp_path, demo_pdf):
    data = demo_pdf.read_bytes()
    assert refused(write(tmp_path, "cut.pdf", data[: len(data) // 2])).code == "truncated"


def test_broken_xref(tmp_path):
    assert refused(write(tmp_path, "xref.pdf", crafted.broken_xref_pdf())).code == "damaged_xref"


def test_looping_xref_terminates(tmp_path):
    # pypdf notices the /Prev loop and rebuilds the table, as PDF readers do: accepted or refused, never a hang.
    path = write(tmp_path, "loop-xref.pdf", crafted.looping_xref_pdf())
    try:
        assert inspect_pdf(path).page_count == 1
    except IntakeError as error:
        assert error.code in {"damaged_xref", "damaged"}


def test_looping_page_tree(tmp_path):
    error = refused(write(tmp_path, "loop-pages.pdf", crafted.looping_pages_pdf()))
    assert error.code == "damaged" and "loops" in str(error)


def test_decompression_bomb(tmp_path):
    path = write(tmp_path, "bomb.pdf", crafted.bomb_pdf(gigabytes=2))
    assert path.stat().st_size < 4 * 1024 * 1024
    error = refused(path)
    assert error.code == "decompression_bomb"
    assert "64 MB" in str(error)


def test_memory_limit_catches_what_the_stream_limits_let_through(tmp_path):
    path = write(tmp_path, "bomb.pdf", crafted.bomb_pdf(gigabytes=2))
    lax = IntakeLimits(memory_bytes=200 * 1024 * 1024, max_stream_bytes=8 << 30, max_decoded_bytes=16 << 30)
    error = refused(path, lax)
    assert error.code == "memory"
    assert "200 MB" in str(error)


def test_100000_pages_refused_without_parsing_them(tmp_path):
    path = write(tmp_path, "many.pdf", crafted.many_pages_pdf(100_000))
    error = refused(path, IntakeLimits(timeout_s=10))
    assert error.code == "too_many_pages"
    assert "2000" in str(error)


def test_page_limit_is_configurable(tmp_path, demo_pdf):
    pages = inspect_pdf(demo_pdf).page_count
    assert refused(demo_pdf, IntakeLimits(max_pages=pages - 1)).code == "too_many_pages" if pages > 1 else True
    small = write(tmp_path, "ten.pdf", crafted.many_pages_pdf(10, fanout=5))
    assert inspect_pdf(small).page_count == 10


def test_oversized(tmp_path, demo_pdf):
    limits = IntakeLimits(max_bytes=demo_pdf.stat().st_size - 1)
    error = refused(demo_pdf, limits)
    assert error.code == "too_large"


def test_encrypted(tmp_path, demo_pdf):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(demo_pdf))
    writer.encrypt("mật-khẩu", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with open(path, "wb") as fh:
        writer.write(fh)
    error = refused(path)
    assert error.code == "encrypted" and "password" in str(error)


def test_took_too_long(demo_pdf):
    assert refused(demo_pdf, IntakeLimits(timeout_s=0.01)).code == "timeout"


def test_javascript_and_launch_are_accepted_but_flagged(tmp_path):
    info = inspect_pdf(write(tmp_path, "active.pdf", crafted.active_content_pdf()))
    assert info.page_count == 1
    assert {"JavaScript", "Launch", "OpenAction"} <= set(info.active_content)


def test_html_pdf_polyglot_is_flagged_consistently(tmp_path):
    path = write(tmp_path, "polyglot.pdf", crafted.html_polyglot_pdf())
    outcomes = []
    for _ in range(2):
        try:
            outcomes.append(("accepted", tuple(inspect_pdf(path).active_content)))
        except IntakeError as error:
            outcomes.append(("refused", error.code))
    assert outcomes[0] == outcomes[1]
    if outcomes[0][0] == "accepted":
        assert "Polyglot" in outcomes[0][1]
    # HTML hidden in a comment after a clean header is flagged too.
    inner = crafted.simple_pdf(extra_catalog=b"\n%<script>alert(1)</script>\n")
    assert "Polyglot" in inspect_pdf(write(tmp_path, "inner.pdf", inner)).active_content


@pytest.mark.parametrize("path", corpus_files() or [None], ids=lambda p: p.name if p else "absent")
def test_real_world_corpus(path, tmp_path):
    require_corpus()
    expected = corpus_pages()
    # Copy under another name: intake must not care what the file is called.
    copy = tmp_path / "upload"
    shutil.copyfile(path, copy)
    try:
        info = inspect_pdf(copy)
    except IntakeError as error:
        assert error.code != "failed", f"{path.name}: unspecific refusal {error!r}"
        if "password" in path.name:
            assert error.code == "encrypted"
        return
    assert "password" not in path.name, "the password-protected file was accepted"
    assert info.page_count == expected[path.name], path.name
