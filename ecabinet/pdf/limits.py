"""What one PDF job may cost, and the constants intake checks before any parser runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

MiB = 1024 * 1024
PDF_MAGIC = b"%PDF-"
# PDF readers accept the header anywhere in the first 1024 bytes (Acrobat's implementation note 13).
MAGIC_WINDOW = 1024

# progress(done, total): pages done so far out of the job's total.
Progress = Callable[[int, int], None]


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
