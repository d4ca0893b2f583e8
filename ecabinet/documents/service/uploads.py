"""Taking documents in: uploads, new versions, confidentiality.

Every upload is validated in a limited child process before its bytes are kept (once, by content hash).
The prepared copy that readers' copies are made from is queued as a job once the upload commits.

The waits (receiving the file, its intake, measuring moved highlights) need no database, so a
boundary can do them with its connection given back (``uow.release``) and only then record:

- ``receive(stream, filename) -> Received``: spool, validate, store the bytes; no database
- ``receive_all([(stream, filename), ...])``: the same for files that go together (a submission's):
  nothing is stored unless every one is accepted
- ``record_upload(actor, item, received, ...)``: the new document (or the audited refusal)
- ``highlights_to_measure(document, received)`` (reads), ``measure_highlights(received, targets)``
  (no database), ``record_version(actor, document, received, measured)``: a new version
- ``upload`` and ``replace`` do the steps in one go, for callers that may wait holding a connection
  (the demo data, jobs, tests)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select

from ecabinet.audit import service as audit
from ecabinet.core import domain_events
from ecabinet.core.actor import Actor
from ecabinet.core.policy import Denied
from ecabinet.documents import jobs, policy, search
from ecabinet.documents.models import Document, DocumentVersion
from ecabinet.documents.service.annotations import Locate, moving_highlights, reanchor_annotations
from ecabinet.documents.service.common import (
    DocumentError,
    blobs,
    child_timeout,
    intake_limits,
    participants_of,
    storage_subdir,
)
from ecabinet.extensions import db
from ecabinet.meetings.models import MeetingItem
from ecabinet.notifications.service import notify
from ecabinet.pdf.errors import IntakeError
from ecabinet.pdf.intake import PdfInfo, inspect_pdf
from ecabinet.pdf.limits import IntakeLimits, MiB
from ecabinet.pdf.textpos import locate_quotes_isolated

NEW_VERSION_NOTICE = "A new version of “%(title)s” (version %(version)s) is available."


# --- intake --------------------------------------------------------------------------------------

def _receive(stream: BinaryIO, limits: IntakeLimits) -> Path:
    """Copy the upload to a private temporary file (bounded in size), yielding between chunks."""
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=".pdf", dir=storage_subdir("incoming"))
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > limits.max_bytes:
                    raise IntakeError.of("too_large", max_mb=limits.max_bytes // MiB)
                out.write(chunk)
                time.sleep(0)  # cooperative under gevent
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def _intake(stream: BinaryIO) -> PdfInfo:
    """Validate in the limited child process; only then store the bytes, once, by content hash."""
    limits = intake_limits()
    tmp = _receive(stream, limits)
    try:
        info = inspect_pdf(tmp, limits)  # raises IntakeError with a specific message
        sha256, _size, _path = blobs().put_file(tmp, limits.max_bytes)
        if sha256 != info.sha256:  # the file changed under us: never trust it
            raise IntakeError.of("failed")
        return _clean_texts(info)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class Received:
    """An uploaded file after intake: what it holds, or why it was refused. Made without the database."""

    filename: str
    info: PdfInfo | None = None
    refusal: IntakeError | None = None


def receive(stream: BinaryIO, filename: str = "") -> Received:
    """Spool, validate and store an upload. Needs no database: a boundary calls it with its connection
    released, since it waits on the disk and on the intake's child process for up to its time limit."""
    try:
        return Received(filename, info=_intake(stream))
    except IntakeError as exc:
        return Received(filename, refusal=exc)


def receive_all(uploads: Sequence[tuple[BinaryIO, str]]) -> list[Received]:
    """Take several files in as one: each is spooled and validated first, and their bytes are stored only
    once every one was accepted, so a refused file leaves nothing of the others in the store. On a
    refusal the answer is that file alone (those after it are not read). Needs no database, as ``receive``."""
    limits = intake_limits()
    checked: list[tuple[str, Path, PdfInfo]] = []
    spooled: list[Path] = []
    try:
        for stream, filename in uploads:
            try:
                tmp = _receive(stream, limits)
                spooled.append(tmp)
                checked.append((filename, tmp, inspect_pdf(tmp, limits)))
            except IntakeError as exc:
                return [Received(filename, refusal=exc)]
        for filename, tmp, info in checked:
            if _spooled_digest(tmp) != info.sha256:  # the file changed under us: never trust it
                return [Received(filename, refusal=IntakeError.of("failed"))]
        for _name, tmp, _info in checked:
            blobs().put_file(tmp, limits.max_bytes)
        return [Received(filename, info=_clean_texts(info)) for filename, _tmp, info in checked]
    finally:
        for tmp in spooled:
            tmp.unlink(missing_ok=True)


def _spooled_digest(path: Path) -> str:
    """The private spooled file's digest, checked against the intake's before anything is stored."""
    digest = hashlib.sha256()
    with path.open("rb") as spooled:
        while chunk := spooled.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _accepted(actor: Actor, item: MeetingItem, received: Received) -> PdfInfo:
    """The intake's description of the file; a refusal is audited (in the caller's unit of work) and raised."""
    if received.refusal is not None:
        _refused(actor, item, received.filename, received.refusal)
        raise received.refusal
    assert received.info is not None
    return received.info


def prepare_version(sha256: str) -> bool:
    """Make the prepared copy that readers' copies of this stored file are made from (a job, after intake)."""
    from ecabinet.pdf.copies import prepare_isolated

    return prepare_isolated(blobs().path(sha256), timeout_s=child_timeout())


def _queue_preparation(sha256: str) -> None:
    """Best effort: without it the first reader's copy of the version makes the prepared copy itself."""
    jobs.enqueue_after_commit(jobs.PREPARE_COPIES, sha256)


TITLE_MAX = 300


def _clean_title(title: str | None, info: PdfInfo, filename: str) -> str:
    """The title the secretariat typed; else the PDF's own /Title; else the file's name without its
    extension. Never the first line of the text (a letter's "Kính gửi…", a draft's header)."""
    for candidate in (title, info.metadata_title, Path(os.path.basename(filename or "")).stem):
        candidate = re.sub(r"\s+", " ", candidate or "").strip()
        if candidate:
            return candidate[:TITLE_MAX]
    return "Tài liệu"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _clean_texts(info: PdfInfo) -> PdfInfo:
    """Extracted text may hold NUL and other control bytes (PostgreSQL refuses NUL in text)."""
    info.page_texts = [_CONTROL.sub(" ", t) for t in info.page_texts]
    info.title = _CONTROL.sub(" ", info.title or "")
    info.metadata_title = _CONTROL.sub(" ", info.metadata_title or "")
    return info


def _new_version(actor: Actor, document: Document, info: PdfInfo, filename: str, number: int) -> DocumentVersion:
    version = DocumentVersion(document=document, number=number, sha256=info.sha256, size=info.size,
                              page_count=info.page_count, pdf_title=(info.title or "")[:300],
                              filename=os.path.basename(filename or "")[:300],
                              page_texts=json.dumps(info.page_texts, ensure_ascii=False),
                              text_truncated=info.text_truncated, active_content=",".join(info.active_content)[:300],
                              uploaded_by_id=actor.user_id)
    db.session.add(version)
    return version


def _require_editor(actor: Actor, item: MeetingItem) -> None:
    if actor.user is not None and not policy.can_upload(actor.user, meeting_id=item.meeting_id, item_id=item.id):
        raise Denied()


def _refused(actor: Actor, item: MeetingItem, filename: str, exc: IntakeError) -> None:
    # Staged in the caller's unit of work, which commits it: the refusal is not a broken rule of the
    # domain (the engine's errors do not doom it), and nothing of the upload was staged before intake.
    audit.record(actor, "document.upload_refused", object_type="meeting_item", object_id=item.id,
                 details={"meeting": item.meeting_id, "filename": os.path.basename(filename or "")[:200],
                          "code": exc.code})


# --- uploads and versions ------------------------------------------------------------------------

def upload(actor: Actor, item: MeetingItem, stream: BinaryIO, filename: str = "", *, title: str | None = None,
           confidential: bool = False) -> Document:
    """Attach a new document (version 1) to an agenda item. Raises IntakeError for a refused file.

    Waits on the intake holding the caller's connection: a request uses ``receive`` then ``record_upload``."""
    _require_editor(actor, item)
    return _record_upload(actor, item, receive(stream, filename), title=title, confidential=confidential)


def record_upload(actor: Actor, item: MeetingItem, received: Received, *, title: str | None = None,
                  confidential: bool = False) -> Document:
    """Attach a received file as a new document (version 1). Raises IntakeError for a refused file."""
    _require_editor(actor, item)
    return _record_upload(actor, item, received, title=title, confidential=confidential)


def _record_upload(actor: Actor, item: MeetingItem, received: Received, *, title: str | None,
                   confidential: bool) -> Document:
    if title is not None and len(" ".join(title.split())) > TITLE_MAX:
        raise DocumentError("The title is longer than %(n)s characters.", n=TITLE_MAX)
    info = _accepted(actor, item, received)
    filename = received.filename
    position = (db.session.scalar(select(func.max(Document.position)).where(Document.item_id == item.id)) or 0) + 1
    document = Document(meeting_id=item.meeting_id, item_id=item.id, title=_clean_title(title, info, filename),
                        position=position, confidential=confidential, current_version=1,
                        created_by_id=actor.user_id)
    db.session.add(document)
    _new_version(actor, document, info, filename, 1)
    db.session.flush()
    search.index_document(db.session, document, info.page_texts)
    audit.record(actor, "document.upload", object_type="document", object_id=document.id,
                 meeting_id=document.meeting_id,
                 details={"item": item.id, "title": document.title, "version": 1, "sha256": info.sha256,
                          "pages": info.page_count, "size": info.size, "active_content": info.active_content})
    domain_events.publish(document.meeting_id, "document.upload", item_id=item.id, item=item.id,
                          document_id=document.id)
    _queue_preparation(info.sha256)
    return document


@dataclass(frozen=True)
class Measured:
    """Highlights measured in a new version's file: (page, quote) -> rectangles, or None where not found."""

    rects: dict[tuple[int, str], list[list[float]] | None] = field(default_factory=dict)

    def locate(self, targets: list[tuple[int, str]]) -> list[list[list[float]] | None]:
        # A highlight added while the file was measured has no entry: it is placed without rectangles.
        return [self.rects.get((page, quote)) for page, quote in targets]


def highlights_to_measure(document: Document, received: Received) -> list[tuple[int, str]]:
    """(page, quote) of each highlight that the received version moves to another page (reads only)."""
    if received.info is None:
        return []
    return moving_highlights(document, received.info.page_texts)


def measure_highlights(received: Received, targets: list[tuple[int, str]]) -> Measured:
    """Measure the highlights in the received file, in a limited child process. Needs no database.

    A child that fails or overruns leaves them unmeasured (placed, without rectangles), as before."""
    if received.info is None or not targets:
        return Measured()
    try:
        found = _locate_in(received.info.sha256)(targets)
    except IntakeError:
        return Measured()
    return Measured(dict(zip(targets, found, strict=False)))


def _locate_in(sha256: str) -> Locate:
    return lambda targets: locate_quotes_isolated(blobs().path(sha256), targets, timeout_s=child_timeout())


def replace(actor: Actor, document: Document, stream: BinaryIO, filename: str = "") -> DocumentVersion:
    """Upload version n+1. Old versions stay; annotations carry over; readers are notified.

    Waits on the intake holding the caller's connection: a request uses ``receive``,
    ``highlights_to_measure``, ``measure_highlights`` and ``record_version``."""
    _require_editor(actor, document.item)
    return _record_version(actor, document, receive(stream, filename), None)


def record_version(actor: Actor, document: Document, received: Received,
                   measured: Measured | None = None) -> DocumentVersion:
    """Record a received file as version n+1, its highlights placed with ``measured`` (measured now,
    in a child process, without it)."""
    _require_editor(actor, document.item)
    return _record_version(actor, document, received, measured)


def _record_version(actor: Actor, document: Document, received: Received,
                    measured: Measured | None) -> DocumentVersion:
    info = _accepted(actor, document.item, received)
    number = document.current_version + 1
    version = _new_version(actor, document, info, received.filename, number)
    document.current_version = number
    db.session.flush()
    locate = measured.locate if measured is not None else _locate_in(info.sha256)
    moved = reanchor_annotations(document, info.page_texts, number, locate=locate)
    search.index_document(db.session, document, info.page_texts)
    readers = [u.id for u in participants_of(document) if u.id != actor.user_id and policy.may_view(u, document)]
    notify(readers, NEW_VERSION_NOTICE, params={"title": document.title, "version": number},
           meeting_id=document.meeting_id)
    audit.record(actor, "document.new_version", object_type="document", object_id=document.id,
                 meeting_id=document.meeting_id,
                 details={"item": document.item_id, "version": number, "sha256": info.sha256,
                          "pages": info.page_count, "annotations_placed": moved[0], "annotations_unplaced": moved[1]})
    domain_events.publish(document.meeting_id, "document.new_version", item_id=document.item_id,
                          item=document.item_id, document_id=document.id, version=number)
    _queue_preparation(info.sha256)
    return version


def rename(actor: Actor, document: Document, title: str) -> None:
    """Give the document another title (the secretariat)."""
    _require_editor(actor, document.item)
    cleaned = re.sub(r"\s+", " ", _CONTROL.sub(" ", title or "")).strip()
    if not cleaned:
        raise DocumentError("The document needs a title.")
    if len(cleaned) > TITLE_MAX:
        raise DocumentError("The title is longer than %(n)s characters.", n=TITLE_MAX)
    if cleaned == document.title:
        return
    old, document.title = document.title, cleaned
    search.index_document(db.session, document, document.latest.texts())
    audit.record(actor, "document.rename", object_type="document", object_id=document.id,
                 meeting_id=document.meeting_id, details={"item": document.item_id, "from": old, "title": cleaned})
    domain_events.publish(document.meeting_id, "document.rename", item_id=document.item_id, item=document.item_id,
                          document_id=document.id)


def set_confidential(actor: Actor, document: Document, confidential: bool) -> None:
    _require_editor(actor, document.item)
    if document.confidential == confidential:
        return
    document.confidential = confidential
    action = "document.confidential" if confidential else "document.not_confidential"
    audit.record(actor, action, object_type="document", object_id=document.id, meeting_id=document.meeting_id,
                 details={"item": document.item_id})
    domain_events.publish(document.meeting_id, action, item_id=document.item_id, item=document.item_id,
                          document_id=document.id)
