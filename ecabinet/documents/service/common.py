"""What the documents services share: their error, settings, the blob store and the reader's watermark."""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.core.errors import DomainError
from ecabinet.documents.models import Document, DocumentCopy
from ecabinet.extensions import db
from ecabinet.pdf.limits import IntakeLimits, MiB
from ecabinet.pdf.storage import BlobStore

if TYPE_CHECKING:
    from ecabinet.pdf.stamping import Watermark


class DocumentError(DomainError):
    """A document request that breaks a rule."""


# --- settings ------------------------------------------------------------------------------------

DEFAULTS: dict[str, int | None] = {
    "DOCUMENT_MAX_MB": None,                 # default: MAX_UPLOAD_MB
    "DOCUMENT_MAX_PAGES": 2000,
    "DOCUMENT_INTAKE_TIMEOUT_S": 20,
    "DOCUMENT_INTAKE_MEMORY_MB": 512,
    "DOCUMENT_COPY_CACHE_MINUTES": 60,
}


def setting(name: str) -> int:
    """A documents setting: app config first, then the environment, then the default."""
    value = current_app.config.get(name) or os.environ.get(name) or DEFAULTS.get(name)
    if value is None and name == "DOCUMENT_MAX_MB":
        return int(current_app.config.get("MAX_CONTENT_LENGTH") or 100 * MiB) // MiB
    return int(value)


def intake_limits() -> IntakeLimits:
    return IntakeLimits(max_bytes=setting("DOCUMENT_MAX_MB") * MiB, max_pages=setting("DOCUMENT_MAX_PAGES"),
                        timeout_s=float(setting("DOCUMENT_INTAKE_TIMEOUT_S")),
                        memory_bytes=setting("DOCUMENT_INTAKE_MEMORY_MB") * MiB)


def child_timeout() -> float:
    """How long a child process may work on one PDF (intake, preparing, measuring text)."""
    return float(setting("DOCUMENT_INTAKE_TIMEOUT_S"))


# --- files ---------------------------------------------------------------------------------------

def storage_dir() -> Path:
    return Path(current_app.config["STORAGE_DIR"])


def blobs() -> BlobStore:
    return BlobStore(storage_dir())


def storage_subdir(name: str) -> Path:
    """A folder of the storage directory (incoming uploads, readers' copies, board books), made on demand."""
    path = storage_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- copy codes and the watermark ----------------------------------------------------------------

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_copy_code() -> str:
    while True:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        if db.session.scalar(select(DocumentCopy.id).where(DocumentCopy.copy_code == code)) is None:
            return code


def watermark_for(user: User, copy_code: str) -> Watermark:
    # Imported here: the stamping module loads the font machinery, which only copies need.
    from ecabinet.pdf.stamping import Watermark

    now = datetime.now(ZoneInfo(current_app.config["DEFAULT_TIMEZONE"]))
    return Watermark(name=user.name, organisation=user.organisation or "", time_text=now.strftime("%d/%m/%Y %H:%M"),
                     copy_code=copy_code)


def participants_of(document: Document) -> list[User]:
    """The active participants of the document's meeting (readers to tell of a new version)."""
    return [p.user for p in document.item.meeting.participants if p.user.active]
