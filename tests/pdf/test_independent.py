"""The engine stands alone: no Flask, nothing of the application, and its layers import only downwards."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import ecabinet.pdf
from tests.pdf.conftest import REPO

PACKAGE = Path(ecabinet.pdf.__file__).parent
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE)]))

# The order of ecabinet/pdf/__init__.py's docstring: a module imports only from lower layers.
LAYERS = {
    "errors": 1, "limits": 1, "geometry": 1, "textfold": 1, "pdfa": 1,
    "ttfsubset": 2, "fonts": 2, "typeset": 2.5,
    "sandbox": 3, "storage": 3, "pool": 3.5,
    "stamping": 4,
    "copies": 5, "annotate": 5,
    "intake": 6, "boardbook": 6, "textpos": 6,
    "worker": 7,
}

# What the worker's child process does, as run_in_child runs it: ``ecabinet`` is a bare package
# object (ecabinet/__init__.py builds the web app), then every engine module is imported.
IMPORT_ALL = """
import importlib, json, os, sys, types
package = types.ModuleType("ecabinet")
package.__path__ = [os.path.join(sys.argv[1], "ecabinet")]
sys.modules["ecabinet"] = package
for name in sys.argv[2:]:
    importlib.import_module("ecabinet.pdf." + name)
print(json.dumps(sorted(sys.modules)))
"""


def test_every_module_imports_without_flask_or_the_application():
    done = subprocess.run([sys.executable, "-P", "-c", IMPORT_ALL, str(REPO), *MODULES], capture_output=True,
                          text=True, timeout=60, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert not [name for name in loaded if name == "flask" or name.startswith(("flask.", "flask_"))]
    outside = [name for name in loaded if name.startswith("ecabinet.") and not name.startswith("ecabinet.pdf")]
    assert outside == []
    # Nor the heavy libraries: they are imported where they are used, so a child starts fast.
    assert "pypdf" not in loaded and "reportlab" not in loaded and "pikepdf" not in loaded


def imports_of(module: str) -> list[tuple[str, list[str]]]:
    """(imported module, names) of every import in ``module``, at any depth (functions included)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
    return found


def test_the_layers_are_the_ones_documented_and_import_only_downwards():
    assert set(LAYERS) == set(MODULES)
    for module in MODULES:
        for imported, names in imports_of(module):
            assert imported.split(".")[0] != "flask", f"{module} imports {imported}"
            if imported == "ecabinet.pdf":
                targets = names
            elif imported.startswith("ecabinet.pdf."):
                targets = [imported.removeprefix("ecabinet.pdf.")]
            else:
                assert not imported.startswith("ecabinet"), f"{module} imports {imported}"
                continue
            for target in targets:
                assert LAYERS[target] < LAYERS[module], f"{module} (layer {LAYERS[module]}) imports {target}"
            private = [n for n in names if n.startswith("_")]
            assert not private, f"{module} imports private names {private} from {imported}"


def test_the_worker_is_started_by_its_path_in_the_engine():
    from ecabinet.pdf import sandbox

    assert Path(sandbox.WORKER_SCRIPT) == PACKAGE / "worker.py"
