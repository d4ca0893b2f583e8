"""Known vulnerabilities in our Python dependencies, by pip-audit against PyPI's vulnerability data.

Three passes: the pins of requirements.txt and requirements-dev.txt as written (``--no-deps``), every
distribution installed in the virtualenv (``--local``), which adds the dependencies we do not pin, and the
pins of the media load generator's own virtualenv (bench/media_load/requirements.txt, ``--no-deps``).

pip-audit asks PyPI per release (``/pypi/<name>/<version>/json``). Some networks reach PyPI through a front
that serves only the project documents (``/pypi/<name>/json``) and answers 404 for the per-release ones, and
pip-audit then skips every package as "not found on PyPI". The project document carries the vulnerability
list of the latest release, so when the pinned version *is* the latest release that document answers the
same question, and this script lets pip-audit read it. A pin behind the latest release cannot be checked
through such a front: it is named, with the release that would make it checkable.

Exit status: 1 on any known vulnerability. A package that could not be checked is named but does not fail
the audit: a new upstream release must not stop every build. PyPI unreachable: a clear message and exit 0,
but exit 1 under CI=true (the same rule as the PostgreSQL and Redis fixtures).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import requests
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
PYPI = "https://pypi.org/pypi"
PER_RELEASE = re.compile(re.escape(PYPI) + r"/([^/]+)/([^/]+)/json$")
TIMEOUT = 30


def _same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _read_project_document_too(session):  # noqa: ANN001, ANN202 - a requests session
    """Answer a per-release 404 with the project document when that release is the latest one."""
    get = session.get

    def patched(url, **kwargs):  # noqa: ANN001, ANN202
        response = get(url, **kwargs)
        match = PER_RELEASE.match(url)
        if response.status_code == 404 and match:
            project = get(f"{PYPI}/{match[1]}/json", **kwargs)
            if project.ok and _same_version(project.json()["info"]["version"], match[2]):
                return project
        return response

    session.get = patched
    return session


def run_pip_audit(argv: list[str]) -> None:
    """The child process: pip-audit's own command line, with the fallback above in its PyPI session."""
    from pip_audit import _cli
    from pip_audit._service import pypi

    make_session = pypi.caching_session
    pypi.caching_session = lambda *a, **kw: _read_project_document_too(make_session(*a, **kw))
    sys.argv = ["pip-audit", *argv]
    _cli.audit()


def _audit(args: list[str]) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        done = subprocess.run([sys.executable, __file__, "--pip-audit", *args, "--vulnerability-service", "pypi",  # noqa: S603
                               "--progress-spinner", "off", "--format", "json", "--output", str(out)],
                              cwd=ROOT, capture_output=True, text=True, timeout=900)
        if not out.exists():
            sys.exit(f"pip-audit failed:\n{done.stderr[-3000:]}")
        return json.loads(out.read_text())["dependencies"]


def _latest(name: str) -> str | None:
    try:
        return requests.get(f"{PYPI}/{name}/json", timeout=TIMEOUT).json()["info"]["version"]
    except (requests.RequestException, ValueError, KeyError):
        return None


def main() -> int:
    try:
        requests.get(f"{PYPI}/pip/json", timeout=TIMEOUT).raise_for_status()
    except requests.RequestException as exc:
        message = f"PyPI is not reachable ({type(exc).__name__}); the dependency audit did not run."
        print(("CI=true: " if IN_CI else "") + message, file=sys.stderr)
        return 1 if IN_CI else 0

    passes = {"pinned": ["-r", "requirements.txt", "-r", "requirements-dev.txt", "--no-deps", "--disable-pip"],
              "installed": ["--local", "--skip-editable"],
              "media load generator": ["-r", "bench/media_load/requirements.txt", "--no-deps", "--disable-pip"]}
    vulnerable, unchecked, checked = {}, {}, set()
    for label, args in passes.items():
        for dep in _audit(args):
            key = (dep["name"].lower(), dep.get("version", ""))
            if "skip_reason" in dep:
                unchecked.setdefault(key[0], (label, dep["skip_reason"]))
                continue
            checked.add(key)
            if dep["vulns"]:
                vulnerable[key] = dep["vulns"]
    for name in [n for n in unchecked if any(n == c[0] for c in checked)]:
        del unchecked[name]  # the other pass checked it

    for (name, version), vulns in sorted(vulnerable.items()):
        for v in vulns:
            fix = ", ".join(v["fix_versions"]) or "no fixed release yet"
            print(f"VULNERABLE {name} {version}: {v['id']} ({', '.join(v['aliases'])}) fixed in {fix}\n"
                  f"    {v['description'][:300]}")
    for name, (label, reason) in sorted(unchecked.items()):
        pinned = "pinned" if label == "pinned" else "installed"
        latest = _latest(name)
        hint = f"; {latest} is the latest release and would be checked" if latest else ""
        print(f"not checked from this network: {name} ({pinned}): {reason}{hint}", file=sys.stderr)
    print(f"Dependency audit: {len(checked)} distributions checked against PyPI's vulnerability data, "
          f"{len(vulnerable)} vulnerable, {len(unchecked)} not checked.")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--pip-audit"]:
        run_pip_audit(sys.argv[2:])
    else:
        sys.exit(main())
