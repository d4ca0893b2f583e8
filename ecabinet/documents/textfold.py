"""Accent-insensitive matching for Vietnamese: "nghi dinh" must find "Nghị định"."""

from __future__ import annotations

import unicodedata

# đ/Đ are letters of their own, not d plus a combining mark, so NFD does not split them.
_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})


def fold_vietnamese(text: str) -> str:
    """Lower-case ``text`` and strip every diacritic (tones, hats, horns, breves, đ→d).

    Apply the same fold to the indexed text and to the query; the result is NFC and keeps
    everything that is not a combining mark (digits, punctuation, spacing) unchanged.
    """
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped).casefold()
