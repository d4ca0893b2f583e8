"""The signed minutes are an archival file: PDF/A-2b, checked as far as it can be here (no veraPDF:
ecabinet/pdf/pdfa.py says which checks), before and after the signature."""

from __future__ import annotations

import io

import pikepdf
import pytest

from ecabinet.extensions import db
from ecabinet.minutes import service
from ecabinet.pdf.pdfa import pdfa_problems, to_pdfa2b
from tests.meetings.conftest import actor
from tests.minutes.test_workflow import SOON


def test_the_signed_minutes_pass_the_archival_checks(closed_meeting, cabinet):
    minutes = service.create_draft(actor(cabinet["secretary"]), closed_meeting)
    service.circulate(actor(cabinet["secretary"]), minutes, SOON)
    service.approve(actor(cabinet["chair"]), minutes)
    db.session.commit()
    db.session.refresh(minutes)
    assert minutes.signed
    document = service.final_pdf(minutes)
    assert pdfa_problems(document) == []
    with pikepdf.open(io.BytesIO(document)) as pdf:
        meta = pdf.open_metadata()
        assert meta["dc:title"] == f"Biên bản: {closed_meeting.title}"
        assert str(pdf.Root.Lang) == "vi"
    assert service.signature_report(minutes).intact  # the conversion came before the signature

    # An official document in Vietnamese: none of the app's English messages, no raw state code.
    from pypdf import PdfReader

    from tests.core.test_every_word import PAIRS, RAW_CODES

    words = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(document)).pages)
    assert RAW_CODES.findall(words) == []
    assert [english for english, _vietnamese in PAIRS if english in words] == []


def _plain_pdf() -> bytes:
    """One page in the app's embedded font, as reportlab writes it."""
    from reportlab.pdfgen import canvas

    from ecabinet.pdf.fonts import register_fonts

    regular, _bold = register_fonts()
    out = io.BytesIO()
    page = canvas.Canvas(out, initialFontName=regular)
    page.drawString(72, 720, "Biên bản phiên họp")
    page.showPage()
    page.save()
    return out.getvalue()


def test_the_checks_find_what_breaks_pdf_a():
    plain = _plain_pdf()
    found = " ".join(pdfa_problems(plain))
    assert "PDF/A-2b" in found and "output intent" in found

    archival = to_pdfa2b(plain, title="Biên bản", author="Văn phòng Chính phủ")
    assert pdfa_problems(archival) == []

    # A font that is not embedded, and JavaScript run at opening.
    with pikepdf.open(io.BytesIO(archival)) as pdf:
        page = pdf.pages[0]
        page.obj.Resources.Font = pikepdf.Dictionary(
            Bare=pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                    BaseFont=pikepdf.Name.Helvetica))
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
        out = io.BytesIO()
        pdf.save(out)
    found = " ".join(pdfa_problems(out.getvalue()))
    assert "Helvetica is not embedded" in found and "JavaScript" in found


@pytest.mark.parametrize("version", [b"\x05", b"\x01"])
def test_an_odd_output_profile_is_found(version):
    archival = to_pdfa2b(_plain_pdf(), title="Biên bản", author="Văn phòng Chính phủ")
    with pikepdf.open(io.BytesIO(archival)) as pdf:
        profile = pdf.Root.OutputIntents[0].DestOutputProfile
        icc = bytearray(profile.read_bytes())
        icc[8:9] = version
        profile.write(bytes(icc))
        out = io.BytesIO()
        pdf.save(out)
    problems = pdfa_problems(out.getvalue())
    assert any("ICC profile" in p for p in problems) == (version == b"\x05")
