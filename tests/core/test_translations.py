"""Each domain keeps its own Vietnamese catalogue and Flask-Babel merges them, so the same English
words must mean the same thing everywhere: otherwise one domain's translation silently replaces
another's (a later catalogue wins). Use a more specific msgid where the meaning differs."""

from __future__ import annotations

from babel.messages.pofile import read_po

from tests.conftest import ROOT


def _catalogues():
    for path in sorted((ROOT / "ecabinet").glob("**/translations/vi/LC_MESSAGES/messages.po")):
        with path.open("rb") as fh:
            yield path.relative_to(ROOT), read_po(fh, locale="vi")


def test_no_msgid_has_two_different_translations():
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for path, catalogue in _catalogues():
        for message in catalogue:
            if not message.id or not message.string:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            text = message.string if isinstance(message.string, str) else message.string[0]
            if key in seen and seen[key][1] != text:
                clashes.append(f"{key!r}: {seen[key][0]} says {seen[key][1]!r}, {path} says {text!r}")
            seen.setdefault(key, (str(path), text))
    assert clashes == []


def test_every_catalogue_is_complete_and_not_fuzzy():
    for path, catalogue in _catalogues():
        assert not catalogue.fuzzy, f"{path} is marked fuzzy and would be skipped by the compiler"
        missing = [m.id for m in catalogue if m.id and not m.string]
        assert missing == [], f"{path}: untranslated {missing[:5]}"
