from __future__ import annotations

import pytest

from ecabinet.pdf import fonts
from ecabinet.pdf.textfold import fold_vietnamese


def test_fold_strips_tones_marks_and_d_stroke():
    assert fold_vietnamese("Nghị định") == "nghi dinh"
    assert fold_vietnamese("ĐẦU TƯ CÔNG") == "dau tu cong"
    assert fold_vietnamese("Bộ Kế hoạch và Đầu tư") == "bo ke hoach va dau tu"
    assert "nghi dinh" in fold_vietnamese("Dự thảo Nghị định số 12/2026/NĐ-CP")


def test_fold_handles_decomposed_input_and_leaves_the_rest():
    decomposed = "Nghi\u0323 đi\u0323nh"  # combining dot below, as some PDFs extract it
    assert fold_vietnamese(decomposed) == "nghi dinh"
    assert fold_vietnamese("Điều 5, khoản 2 (a)") == "dieu 5, khoan 2 (a)"


def test_font_has_vietnamese_glyphs():
    path = fonts.find_unicode_font()
    assert path.suffix.lower() == ".ttf"
    assert fonts._covers_vietnamese(path)


def test_missing_font_gives_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(fonts._CANDIDATES, "regular", [str(tmp_path / "none.ttf")])
    monkeypatch.setattr(fonts, "_fc_match", lambda style: None)
    monkeypatch.delenv("ECABINET_PDF_FONT", raising=False)
    fonts.find_unicode_font.cache_clear()
    try:
        with pytest.raises(fonts.FontNotFoundError, match="fonts-dejavu-core"):
            fonts.find_unicode_font("regular")
    finally:
        fonts.find_unicode_font.cache_clear()
