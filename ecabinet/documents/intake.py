"""Intake of uploaded PDFs: validate in a separate, resource-limited process and describe the file.

pypdf has had a long run of denial-of-service advisories, and the web server is a single gevent
event loop: one CPU-bound parse freezes every socket. So the parse never runs here. ``inspect_pdf``
starts ``python -m ecabinet.documents.pdfworker`` with a memory limit (RLIMIT_AS), a CPU limit
(RLIMIT_CPU) and a wall-clock deadline after which it is killed; waiting for it through
``subprocess`` is cooperative under gevent's monkey-patching.

This module itself imports neither pypdf nor reportlab, so the web process stays lean.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ecabinet.core.errors import DomainError

MiB = 1024 * 1024
PDF_MAGIC = b"%PDF-"
# PDF readers accept the header anywhere in the first 1024 bytes (Acrobat's implementation note 13).
MAGIC_WINDOW = 1024


def N_(message: str) -> str:  # noqa: N802 - the name Babel's extractor looks for by default
    """Mark a message for translation; it is translated where it is shown (DomainError.translated)."""
    return message


# One specific, translatable message per cause; the code is what programs and tests look at.
MESSAGES: dict[str, str] = {
    "empty": N_("The file is empty."),
    "not_pdf": N_("The file is not a PDF document (its content does not start with %%PDF-)."),
    "truncated": N_("The PDF file is incomplete: it was cut off before its end. Upload it again."),
    "damaged": N_("The PDF file is damaged and cannot be read (%(detail)s)."),
    "damaged_xref": N_("The PDF file is damaged: its cross-reference table is broken or loops on itself."),
    "too_many_pages": N_("The PDF has more than %(max_pages)s pages, the most allowed."),
    "decompression_bomb": N_("The PDF contains compressed data that expands to more than %(max_mb)s MB; "
                             "it is refused as a possible decompression bomb."),
    "too_large": N_("The file is larger than %(max_mb)s MB, the most allowed."),
    "encrypted": N_("The PDF is password-protected or encrypted. Remove the password and upload it again."),
    "timeout": N_("Reading the PDF took longer than %(seconds)s seconds; it is refused."),
    "memory": N_("Reading the PDF needed more than %(max_mb)s MB of memory; it is refused."),
    "failed": N_("The PDF could not be processed."),
}


class IntakeError(DomainError):
    """An upload refused by intake; ``code`` names the cause (a key of MESSAGES)."""

    status = 422

    def __init__(self, message: str, *, code: str = "failed", **params: Any) -> None:
        super().__init__(message, **params)
        self.code = code

    @classmethod
    def of(cls, code: str, **params: Any) -> IntakeError:
        return cls(MESSAGES.get(code, MESSAGES["failed"]), code=code if code in MESSAGES else "failed", **params)

    def __repr__(self) -> str:
        return f"IntakeError(code={self.code!r}, {str(self)!r})"


@dataclass(frozen=True)
class IntakeLimits:
    """What one upload may cost. Defaults suit cabinet briefing papers (a few hundred pages at most)."""

    max_bytes: int = 100 * MiB            # matches MAX_UPLOAD_MB's default
    max_pages: int = 2000
    timeout_s: float = 20.0               # wall clock for the whole child; RLIMIT_CPU follows it
    memory_bytes: int = 512 * MiB         # RLIMIT_AS of the child (address space, not RSS)
    max_stream_bytes: int = 64 * MiB      # one decoded stream
    max_decoded_bytes: int = 256 * MiB    # all decoded page content streams together
    max_text_chars: int = 1_000_000       # extracted text kept, all pages together
    max_text_chars_per_page: int = 20_000
    text_time_share: float = 0.5          # share of timeout_s text extraction may use; then text is cut

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IntakeLimits:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class PdfInfo:
    """What intake learned about an accepted PDF."""

    sha256: str
    size: int
    page_count: int
    title: str
    pdf_version: str
    page_texts: list[str] = field(default_factory=list)
    text_truncated: bool = False
    # Accepted but flagged: 'JavaScript', 'Launch', 'OpenAction', 'SubmitForm', 'ImportData', 'GoToR',
    # 'GoToE', 'Rendition', 'RichMedia', 'XFA', 'EmbeddedFile', 'Polyglot' (HTML or junk before %PDF-).
    active_content: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """All extracted text; pages are separated by form feeds so a hit can be mapped to its page."""
        return "\f".join(self.page_texts)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PdfInfo:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def precheck(path: str | os.PathLike[str], limits: IntakeLimits) -> int:
    """The cheap checks (size and magic bytes) that need no parser; returns the file size.

    Done in the caller's process too, so that an empty or non-PDF file costs no child process.
    """
    size = os.stat(path).st_size
    if size == 0:
        raise IntakeError.of("empty")
    if size > limits.max_bytes:
        raise IntakeError.of("too_large", max_mb=limits.max_bytes // MiB)
    with open(path, "rb") as fh:
        head = fh.read(MAGIC_WINDOW + len(PDF_MAGIC))
    if head.find(PDF_MAGIC, 0, MAGIC_WINDOW + len(PDF_MAGIC) - 1) < 0:
        raise IntakeError.of("not_pdf")
    return size


def inspect_pdf(path: str | os.PathLike[str], limits: IntakeLimits | None = None) -> PdfInfo:
    """Validate the PDF at ``path`` in a limited child process; return its PdfInfo or raise IntakeError.

    Cooperative under gevent (the wait is on a pipe and a child process), blocking elsewhere.
    """
    from ecabinet.documents import pdfworker

    limits = limits or IntakeLimits()
    precheck(path, limits)
    result = pdfworker.run_in_child(
        {"op": "inspect", "path": str(Path(path).resolve()), "limits": limits.to_json()},
        timeout_s=limits.timeout_s, memory_bytes=limits.memory_bytes, memory_mb_hint=limits.memory_bytes // MiB)
    return PdfInfo.from_json(result)
