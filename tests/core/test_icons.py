"""Every icon a template draws is in the Makefile's ICONS list, so `make vendor` puts it in the sprite
(static/vendor/icons.svg), and every name in that list is a Lucide icon."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

LITERAL = re.compile(r"""icon\(\s*["']([a-z0-9-]+)["']""")
MAPPING = re.compile(r"""(?:icon\(\s*|_icons\s*=\s*)\{([^}]*)\}(?:\.get\([^,]+,\s*["']([a-z0-9-]+)["']\))?""")
QUOTED_VALUE = re.compile(r""":\s*["']([a-z0-9-]+)["']""")
# base.html: navlink(endpoint, label, icon, areas)
NAV_LINK = re.compile(r"""navlink\([^\n]*?,\s*["']([a-z0-9-]+)["']\s*,\s*\(""")


def _used() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        names.update(LITERAL.findall(text))
        names.update(NAV_LINK.findall(text))
        for body, default in MAPPING.findall(text):
            names.update(QUOTED_VALUE.findall(body))
            if default:
                names.add(default)
    return names


def _listed() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    block = re.search(r"^ICONS := ((?:.*\\\n)*.*)$", makefile, re.M).group(1)
    return block.replace("\\\n", " ").split()


def test_every_icon_used_is_listed_for_the_sprite():
    used = _used()
    assert {"house", "calendar-days", "vote", "download", "signature", "play", "lock"} <= used  # the scan finds them
    assert sorted(used - set(_listed())) == []


def test_every_listed_icon_is_a_lucide_icon():
    icons = ROOT / "node_modules" / "lucide-static" / "icons"
    if not icons.is_dir():
        pytest.skip("node_modules not installed (make setup)")
    assert [name for name in _listed() if not (icons / f"{name}.svg").is_file()] == []


def test_the_built_sprite_has_every_listed_icon():
    sprite = ROOT / "static" / "vendor" / "icons.svg"
    if not sprite.is_file():
        pytest.skip("static/vendor/icons.svg not built (make vendor)")
    ids = set(re.findall(r'<symbol id="([a-z0-9-]+)"', sprite.read_text()))
    assert sorted(set(_listed()) - ids) == []
