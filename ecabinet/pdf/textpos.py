"""Where a quoted passage is drawn on a page: rectangles for highlights that moved to another page.

A highlight stores its rectangles in page fractions, measured by the viewer when the reader selected
the text. When a new version puts the quoted text on another page, ``locate_quotes`` finds it again in
the new file and computes the rectangles from the text's position, as pypdf's text extraction reports
it (``visitor_text``: each text run's matrix and font size). The width of a run is not reported: it is
taken from where the next run on the same line starts, else estimated from the font size (half an em
per character), so the rectangles are close but not glyph-exact. Pages turned by ``/Rotate`` are not
measured (None: the viewer shows the note in its list without a rectangle).

This is pypdf work: the web process calls ``locate_quotes_isolated`` (a limited child process).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ecabinet.pdf.limits import MiB
from ecabinet.pdf.sandbox import run_in_child
from ecabinet.pdf.textfold import fold_vietnamese

MAX_RECTS = 50  # as many as the viewer stores for one selection


@dataclass
class _Run:
    text: str
    x: float
    y: float
    size: float
    width: float = 0.0


def _runs(page: Any) -> list[_Run]:
    runs: list[_Run] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: Any, font_size: float) -> None:
        if not text or not text.strip():
            return
        # The run's origin in user space: the text matrix, then the current transformation matrix.
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = math.hypot(tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]) or 1.0
        runs.append(_Run(text, x, y, abs(font_size * scale) or 10.0))

    page.extract_text(visitor_text=visit)
    for run, following in zip(runs, [*runs[1:], None], strict=True):
        estimate = 0.5 * run.size * len(run.text.rstrip("\n"))
        same_line = following is not None and abs(following.y - run.y) < run.size * 0.3 and following.x > run.x
        run.width = min(following.x - run.x, estimate * 2) if same_line else estimate
    return runs


def _squashed(runs: list[_Run]) -> tuple[str, list[tuple[int, int]]]:
    """The page's text folded and without white space, and for each of its characters (run, index in run)."""
    chars: list[str] = []
    where: list[tuple[int, int]] = []
    for r, run in enumerate(runs):
        for i, ch in enumerate(run.text):
            folded = re.sub(r"\s+", "", fold_vietnamese(ch))
            for f in folded:
                chars.append(f)
                where.append((r, i))
    return "".join(chars), where


def _rects_of(page: Any, runs: list[_Run], start: int, end: int, where: list[tuple[int, int]]) -> list[list[float]]:
    box = page.cropbox
    x0, x1 = sorted((float(box.left), float(box.right)))
    y0, y1 = sorted((float(box.bottom), float(box.top)))
    width, height = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    spans: dict[int, list[int]] = {}
    for r, i in where[start:end]:
        spans.setdefault(r, []).append(i)
    # One rectangle per line: runs on the same baseline are joined.
    lines: list[list[float]] = []  # [left, right, baseline, size]
    for r in sorted(spans):
        run = runs[r]
        per_char = run.width / max(len(run.text), 1)
        left, right = run.x + min(spans[r]) * per_char, run.x + (max(spans[r]) + 1) * per_char
        line = next((ln for ln in lines if abs(ln[2] - run.y) < run.size * 0.3), None)
        if line is None:
            lines.append([left, right, run.y, run.size])
        else:
            line[0], line[1], line[3] = min(line[0], left), max(line[1], right), max(line[3], run.size)
    rects = []
    for left, right, baseline, size in lines[:MAX_RECTS]:
        top = baseline + size * 0.85  # ascent above the baseline, descent below it
        rect = [(left - x0) / width, (y1 - top) / height, (right - left) / width, size * 1.15 / height]
        rects.append([round(min(max(v, 0.0), 1.0), 5) for v in rect])
    return rects


def locate_quotes(path: str, targets: list[tuple[int, str]]) -> list[list[list[float]] | None]:
    """For each (1-based page, quote): the quote's rectangles on that page in page fractions (origin at
    the top left of the visible page, as the viewer stores them), or None when it cannot be measured."""
    import pypdf

    reader = pypdf.PdfReader(path, strict=False)
    cache: dict[int, tuple[list[_Run], str, list[tuple[int, int]]] | None] = {}
    found: list[list[list[float]] | None] = []
    for number, quote in targets:
        if number not in cache:
            try:
                page = reader.pages[number - 1]
                if int(page.get("/Rotate", 0) or 0) % 360:
                    raise ValueError("rotated page")
                runs = _runs(page)
                cache[number] = (runs, *_squashed(runs))
            except Exception:  # noqa: BLE001 - positions are best-effort, like the text itself
                cache[number] = None
        entry = cache[number]
        needle = re.sub(r"\s+", "", fold_vietnamese(quote or ""))
        at = entry[1].find(needle) if entry and needle else -1
        if entry is None or at < 0:
            found.append(None)
            continue
        runs, _text, where = entry
        found.append(_rects_of(reader.pages[number - 1], runs, at, at + len(needle), where) or None)
    return found


def locate_quotes_isolated(path: str, targets: list[tuple[int, str]], *, timeout_s: float = 20.0,
                           memory_bytes: int = 512 * MiB) -> list[list[list[float]] | None]:
    """``locate_quotes`` in a limited child process: what the web process calls."""
    result = run_in_child({"op": "locate", "path": str(path), "targets": [list(t) for t in targets]},
                          timeout_s=timeout_s, memory_bytes=memory_bytes)
    return result["rects"]
