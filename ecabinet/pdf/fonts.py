"""Find a TrueType font with full Vietnamese coverage at run time, and register it with reportlab.

The PDF base-14 fonts have no glyphs for most Vietnamese letters (ạ, ề, ữ...), so every PDF we
generate (watermarks, board-book covers, demo documents) embeds a subset of a Unicode TTF.
Debian's ``fonts-dejavu-core`` provides DejaVuSans; ``fc-match`` finds an alternative.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

REGULAR = "ECabSans"
BOLD = "ECabSans-Bold"

# Every letter Vietnamese adds to ASCII, both cases; a font must have them all.
VIETNAMESE_LETTERS = (
    "ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
)
VIETNAMESE_LETTERS += VIETNAMESE_LETTERS.upper()

_CANDIDATES = {
    "regular": [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    ],
    "bold": [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ],
}
_ENV = {"regular": "ECABINET_PDF_FONT", "bold": "ECABINET_PDF_FONT_BOLD"}
_FC_PATTERN = {"regular": "sans-serif:lang=vi:style=Regular", "bold": "sans-serif:lang=vi:style=Bold"}


class FontNotFoundError(RuntimeError):
    """No usable Unicode TrueType font: an installation problem, not a user error."""


def _fc_match(style: str) -> Path | None:
    exe = shutil.which("fc-match")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "-f", "%{file}", _FC_PATTERN[style]], capture_output=True, text=True,  # noqa: S603
                             timeout=10, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    # reportlab embeds TrueType outlines only (not CFF .otf nor .ttc collections).
    return Path(out) if out.lower().endswith(".ttf") else None


def _covers_vietnamese(path: Path) -> bool:
    from reportlab.pdfbase.ttfonts import TTFontFile

    try:
        face = TTFontFile(str(path))
    except Exception:  # noqa: BLE001 - any unreadable font is simply not a candidate
        return False
    return all(ord(ch) in face.charToGlyph for ch in VIETNAMESE_LETTERS)


def candidate_paths(style: str = "regular") -> list[Path]:
    """The font files to try first, in order: $ECABINET_PDF_FONT[_BOLD], then the usual install paths.

    They may be missing or lack Vietnamese: a caller with its own font reader checks them itself, then
    falls back to ``find_unicode_font`` (which also asks fc-match and names the package to install).
    """
    if style not in _CANDIDATES:
        raise ValueError(f"unknown font style {style!r}")
    env = os.environ.get(_ENV[style])
    return ([Path(env)] if env else []) + [Path(p) for p in _CANDIDATES[style]]


@lru_cache(maxsize=4)
def find_unicode_font(style: str = "regular") -> Path:
    """Path of a .ttf with every Vietnamese letter: $ECABINET_PDF_FONT[_BOLD], known paths, then fc-match."""
    tried: list[str] = []
    candidates = candidate_paths(style)
    for path in candidates + [p for p in [_fc_match(style)] if p]:
        tried.append(str(path))
        if path.is_file() and _covers_vietnamese(path):
            return path
    if style == "bold":
        # A missing bold face is not worth failing over: headings use the regular face.
        return find_unicode_font("regular")
    raise FontNotFoundError(
        "No TrueType font with Vietnamese glyphs was found (tried: " + ", ".join(tried) + "). "
        "Install Debian's fonts-dejavu-core (apt-get install fonts-dejavu-core) "
        "or set ECABINET_PDF_FONT to a .ttf file that covers Vietnamese.")


@lru_cache(maxsize=1)
def register_fonts() -> tuple[str, str]:
    """Register the regular and bold faces with reportlab once per process; return their names."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(REGULAR, str(find_unicode_font("regular"))))
    pdfmetrics.registerFont(TTFont(BOLD, str(find_unicode_font("bold"))))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)
    return REGULAR, BOLD
