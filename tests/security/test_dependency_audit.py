"""The dependency audit (.ci/audit.py, run by `make test`): without the network, the parts that decide.

A pinned release that is the latest one is checked through PyPI's project document when the per-release
document is not served; a vulnerability found there fails the audit; PyPI out of reach skips the audit
with a message, except under CI=true, where it fails.
"""

from __future__ import annotations

import importlib.util

import pytest
import requests

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def audit():
    spec = importlib.util.spec_from_file_location("dependency_audit", ROOT / ".ci" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VULNERABILITY = {"id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001"], "summary": "Remote code execution",
                 "fixed_in": ["1.0.1"], "withdrawn": None, "published": "2099-01-01T00:00:00Z"}


class Front(requests.Session):
    """A PyPI front that serves project documents only (latest release 1.0.0, with one vulnerability)."""

    def __init__(self, vulnerable: bool = True) -> None:
        super().__init__()
        self.vulnerable = vulnerable

    def get(self, url, **kwargs):  # noqa: ANN001, ANN201
        response = requests.Response()
        response.url = url
        if url == "https://pypi.org/pypi/sample/json":
            response.status_code = 200
            response._content = requests.compat.json.dumps({
                "info": {"version": "1.0.0"}, "vulnerabilities": [VULNERABILITY] if self.vulnerable else []}).encode()
        else:
            response.status_code = 404
            response._content = b""
        return response


def test_the_latest_pin_is_answered_by_the_project_document(audit):
    session = audit._read_project_document_too(Front())
    assert session.get("https://pypi.org/pypi/sample/1.0.0/json").json()["info"]["version"] == "1.0.0"
    # An older pin is not: the project document's vulnerabilities are the latest release's.
    assert session.get("https://pypi.org/pypi/sample/0.9/json").status_code == 404


def test_pip_audit_reads_the_vulnerability_through_it(audit, monkeypatch):
    from packaging.version import Version
    from pip_audit._service import pypi
    from pip_audit._service.interface import ResolvedDependency

    monkeypatch.setattr(pypi, "caching_session", lambda *a, **kw: audit._read_project_document_too(Front()))
    _dep, found = pypi.PyPIService().query(ResolvedDependency(name="sample", version=Version("1.0.0")))
    assert [v.id for v in found] == ["PYSEC-2099-1"]


def test_a_vulnerability_fails_the_audit(audit, monkeypatch, capsys):
    monkeypatch.setattr(audit.requests, "get", lambda *a, **kw: Front(vulnerable=False).get(
        "https://pypi.org/pypi/sample/json"))
    monkeypatch.setattr(audit, "_audit", lambda args: [{"name": "sample", "version": "1.0.0", "vulns": [
        {"id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001"], "fix_versions": ["1.0.1"],
         "description": "Remote code execution"}]}])
    assert audit.main() == 1
    assert "VULNERABLE sample 1.0.0: PYSEC-2099-1" in capsys.readouterr().out


def test_a_clean_audit_passes(audit, monkeypatch):
    monkeypatch.setattr(audit.requests, "get", lambda *a, **kw: Front().get("https://pypi.org/pypi/sample/json"))
    monkeypatch.setattr(audit, "_audit", lambda args: [{"name": "sample", "version": "1.0.0", "vulns": []}])
    assert audit.main() == 0


@pytest.mark.parametrize(("in_ci", "status"), [(False, 0), (True, 1)])
def test_pypi_out_of_reach(audit, monkeypatch, capsys, in_ci, status):
    def unreachable(*args, **kwargs):
        raise requests.ConnectionError("no route")

    monkeypatch.setattr(audit.requests, "get", unreachable)
    monkeypatch.setattr(audit, "IN_CI", in_ci)
    assert audit.main() == status
    assert "PyPI is not reachable" in capsys.readouterr().err
