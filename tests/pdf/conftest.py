"""Shared inputs for the PDF engine tests: the real-world corpus and generated briefings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# shared/ sits beside the repository's checkout (in CI too): <repo>/../shared/pdf-corpus.
CORPUS = REPO / ".." / "shared" / "pdf-corpus"


def corpus_pages() -> dict[str, int]:
    """Base name -> page count, from the corpus's own files.json (its paths carry folder prefixes)."""
    if not (CORPUS / "files.json").is_file():
        return {}
    data = json.loads((CORPUS / "files.json").read_text())
    return {Path(entry["path"]).name: int(entry["pages"]) for entry in data["data"]}


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.suffix.lower() == ".pdf")


def require_corpus() -> None:
    if not corpus_files():
        pytest.skip(f"the shared PDF corpus is absent (looked in {CORPUS.resolve()}); "
                    "it is the project's shared/pdf-corpus beside the checkout")


@pytest.fixture(scope="session")
def demo_pdf(tmp_path_factory) -> Path:
    from ecabinet.documents.demo_pdf import SAMPLE_PARAGRAPHS, make_demo_pdf

    path = tmp_path_factory.mktemp("demo") / "to-trinh.pdf"
    make_demo_pdf("Tờ trình dự thảo Nghị định về đầu tư công", SAMPLE_PARAGRAPHS * 2, path)
    return path


@pytest.fixture(scope="session")
def big_demo_pdf(tmp_path_factory) -> Path:
    """A valid 150-page briefing: enough work for the child to take a noticeable while."""
    from ecabinet.documents.demo_pdf import SAMPLE_PARAGRAPHS, make_demo_pdf

    path = tmp_path_factory.mktemp("demo") / "bao-cao-dai.pdf"
    make_demo_pdf("Báo cáo tổng hợp ý kiến góp ý", SAMPLE_PARAGRAPHS * 25, path, one_page_per_paragraph=True)
    return path
