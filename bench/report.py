"""The result table the benchmarks print: each measured value beside its target and a verdict.

A verdict row is ``{"what", "target", "measured", "unit", "pass"}``; ``pass`` is None for a value
shown without a target. bench/run.py collects the same rows from every benchmark's JSON into one table.
"""

from __future__ import annotations

from typing import Any


def verdict(passed: bool | None) -> str:
    """PASS or MISS against the target; blank where there is no target."""
    return "" if passed is None else ("PASS" if passed else "MISS")


def target_cell(target: str, unit: str) -> str:
    return f"{target} {unit}".strip() if target else ""


def measured_cell(measured: Any, unit: str) -> str:  # noqa: ANN401 - a number, a text or nothing measured
    return "—" if measured is None else f"{measured} {unit}".strip()


def print_verdicts(rows: list[dict[str, Any]], *, what_width: int | None = None, measured_width: int = 14) -> None:
    """The verdict rows as a table; ``what_width`` None fits the longest row (at least 40 characters)."""
    width = what_width or max([len(r["what"]) for r in rows] + [40])
    print(f"{'what':<{width}} {'target':>10} {'measured':>{measured_width}}  verdict")
    for r in rows:
        print(f"{r['what']:<{width}} {target_cell(r['target'], r['unit']):>10} "
              f"{measured_cell(r['measured'], r['unit']):>{measured_width}}  {verdict(r['pass'])}")
