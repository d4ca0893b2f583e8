"""The architecture's rules that import-linter does not check: private names stay in their domain,
services never commit, and no service module grows past what one can read in a sitting.

The layers themselves are import-linter's (``make test`` runs ``lint-imports``; contracts in
pyproject.toml)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ecabinet"
MAX_SERVICE_LINES = 500


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "translations" not in p.parts)


def _domain(dotted: str) -> str:
    """``ecabinet.voting.service.batch`` -> ``voting``; top-level modules are their own domain."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _dotted(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _cross_domain_private_uses(path: Path) -> list[str]:
    here = _dotted(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    aliases: dict[str, str] = {}  # local name -> the ecabinet module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ecabinet"):
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                if _domain(node.module) != _domain(here) and _private(alias.name):
                    found.append(f"{here}:{node.lineno} imports {target}")
                aliases[alias.asname or alias.name] = target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ecabinet") and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and _private(node.attr):
            target = aliases.get(node.value.id)
            if target and _domain(target) != _domain(here):
                found.append(f"{here}:{node.lineno} uses {target}.{node.attr}")
    return found


def test_no_module_uses_another_domains_private_names():
    found = [use for path in _modules() for use in _cross_domain_private_uses(path)]
    assert found == []


def _service_modules() -> list[Path]:
    return sorted({*PACKAGE.glob("*/service.py"), *PACKAGE.glob("*/service/*.py")})


def _commit_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"]


@pytest.mark.parametrize("path", _service_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_services_only_stage_and_flush(path):
    """Commits belong to the boundaries (views, socket handlers, jobs, CLI). The voting batch is the one
    service that is a boundary of its own: it commits a group of votes before acknowledging them."""
    if path.relative_to(PACKAGE).as_posix() == "voting/service/batch.py":
        assert _commit_calls(path), "the vote batch is the group-commit boundary"
        return
    assert _commit_calls(path) == []


@pytest.mark.parametrize("path", _service_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_service_modules_are_small_enough_to_read_at_once(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_SERVICE_LINES


def test_the_pdf_engine_is_its_own_package():
    """Intake, the sandboxed worker, stamping and the rest live in ecabinet/pdf, not in a domain."""
    assert (PACKAGE / "pdf" / "__init__.py").exists()
    for engine_module in ("intake", "stamping", "pdfworker", "fastcopy", "ttfsubset", "boardbook"):
        assert not (PACKAGE / "documents" / f"{engine_module}.py").exists()


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*/policy.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_policies_import_no_service(path):
    """Policies read through their domain's queries; services ask the policy, never the other way round."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [f"{node.module}.{alias.name}" for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module for alias in node.names]
    assert [m for m in imported if m.startswith("ecabinet.") and ".service" in m] == []


def _lazy_calls_with_values(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_l"
            and node.keywords]


def test_no_lazy_translation_carries_values():
    """Flask-Babel's lazy strings count as safe markup in templates (they have ``__html__``), so a value
    put into one (a time zone someone typed, an organisation's name) would reach the page unescaped.
    Strings with values are translated when they are used, with ``gettext``."""
    found = {str(p.relative_to(PACKAGE)): lines for p in sorted(PACKAGE.rglob("*.py"))
             if (lines := _lazy_calls_with_values(p))}
    assert found == {}
