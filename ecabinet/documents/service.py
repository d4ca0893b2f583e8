"""The rules of briefing documents: intake, versions, reader copies, read receipts, annotations, board books.

Takes an ``Actor``, never a request. All PDF work happens in child processes (intake, stamping,
board books: see the engine modules); the waits are cooperative under gevent, so the web process
never parses or stamps a PDF itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from ecabinet.accounts.models import User
from ecabinet.audit import service as audit
from ecabinet.core.actor import Actor
from ecabinet.core.errors import DomainError
from ecabinet.core.policy import Denied
from ecabinet.core.types import utcnow
from ecabinet.documents import policy, search
from ecabinet.documents.intake import IntakeError, IntakeLimits, MiB, PdfInfo, inspect_pdf
from ecabinet.documents.models import (
    Annotation,
    BoardBook,
    Document,
    DocumentCopy,
    DocumentVersion,
    ReadReceipt,
)
from ecabinet.documents.storage import BlobStore
from ecabinet.documents.textfold import fold_vietnamese
from ecabinet.documents.textpos import locate_quotes_isolated
from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting, MeetingItem


class DocumentError(DomainError):
    """A document request that breaks a rule."""


# --- settings ------------------------------------------------------------------------------------

DEFAULTS = {
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


def storage_dir() -> Path:
    return Path(current_app.config["STORAGE_DIR"])


def blobs() -> BlobStore:
    return BlobStore(storage_dir())


def _dir(name: str) -> Path:
    path = storage_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- queries -------------------------------------------------------------------------------------

def get_document(document_id: int | None) -> Document | None:
    return policy.get_document(document_id)


def documents_of(item: MeetingItem) -> list[Document]:
    return list(db.session.scalars(select(Document).where(Document.item_id == item.id)
                                   .order_by(Document.position, Document.id)))


def version_of(document: Document, number: int | None = None) -> DocumentVersion | None:
    number = number or document.current_version
    return next((v for v in document.versions if v.number == number), None)


# --- intake --------------------------------------------------------------------------------------

def _receive(stream: BinaryIO, limits: IntakeLimits) -> Path:
    """Copy the upload to a private temporary file (bounded in size), yielding between chunks."""
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=".pdf", dir=_dir("incoming"))
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


def prepare_version(sha256: str) -> bool:
    """Make the prepared copy that readers' copies of this stored file are made from (a job, after intake)."""
    from ecabinet.documents.stamping import prepare_isolated

    return prepare_isolated(blobs().path(sha256), timeout_s=setting("DOCUMENT_INTAKE_TIMEOUT_S"))


def _queue_preparation(sha256: str) -> None:
    """Best effort: without it the first reader's copy of the version makes the prepared copy itself."""
    from ecabinet.documents.tasks import prepare_copies_task

    try:
        prepare_copies_task(sha256)
    except Exception:  # noqa: BLE001 - the upload is stored and committed; only the head start is lost
        current_app.logger.warning("prepared copy of %s not queued", sha256, exc_info=True)


def _clean_title(title: str | None, info: PdfInfo, filename: str) -> str:
    for candidate in (title, info.title, Path(filename or "").stem):
        candidate = re.sub(r"\s+", " ", candidate or "").strip()
        if candidate:
            return candidate[:300]
    return "Tài liệu"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _clean_texts(info: PdfInfo) -> PdfInfo:
    """Extracted text may hold NUL and other control bytes (PostgreSQL refuses NUL in text)."""
    info.page_texts = [_CONTROL.sub(" ", t) for t in info.page_texts]
    info.title = _CONTROL.sub(" ", info.title or "")
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


def upload(actor: Actor, item: MeetingItem, stream: BinaryIO, filename: str = "", *, title: str | None = None,
           confidential: bool = False) -> Document:
    """Attach a new document (version 1) to an agenda item. Raises IntakeError for a refused file."""
    _require_editor(actor, item)
    try:
        info = _intake(stream)
    except IntakeError as exc:
        _refused(actor, item, filename, exc)
        raise
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
    db.session.commit()
    _queue_preparation(info.sha256)
    return document


def replace(actor: Actor, document: Document, stream: BinaryIO, filename: str = "") -> DocumentVersion:
    """Upload version n+1. Old versions stay; annotations carry over; readers are notified."""
    _require_editor(actor, document.item)
    try:
        info = _intake(stream)
    except IntakeError as exc:
        _refused(actor, document.item, filename, exc)
        raise
    number = document.current_version + 1
    version = _new_version(actor, document, info, filename, number)
    document.current_version = number
    db.session.flush()
    moved = reanchor_annotations(document, info.page_texts, number, locate=lambda targets: locate_quotes_isolated(
        blobs().path(info.sha256), targets, timeout_s=setting("DOCUMENT_INTAKE_TIMEOUT_S")))
    search.index_document(db.session, document, info.page_texts)
    readers = [u for u in _participants(document) if u.id != actor.user_id and policy.may_view(u, document)]
    from ecabinet.meetings import service as meetings

    meetings._notify(readers, document.item.meeting, "A new version of “%(title)s” (version %(version)s) is available.",
                     title=document.title, version=number)
    audit.record(actor, "document.new_version", object_type="document", object_id=document.id,
                 meeting_id=document.meeting_id,
                 details={"item": document.item_id, "version": number, "sha256": info.sha256,
                          "pages": info.page_count, "annotations_placed": moved[0], "annotations_unplaced": moved[1]})
    db.session.commit()
    _queue_preparation(info.sha256)
    return version


def _refused(actor: Actor, item: MeetingItem, filename: str, exc: IntakeError) -> None:
    db.session.rollback()
    audit.record(actor, "document.upload_refused", object_type="meeting_item", object_id=item.id,
                 details={"meeting": item.meeting_id, "filename": os.path.basename(filename or "")[:200],
                          "code": exc.code})
    db.session.commit()


def set_confidential(actor: Actor, document: Document, confidential: bool) -> None:
    _require_editor(actor, document.item)
    if document.confidential == confidential:
        return
    document.confidential = confidential
    audit.record(actor, "document.confidential" if confidential else "document.not_confidential",
                 object_type="document", object_id=document.id, meeting_id=document.meeting_id,
                 details={"item": document.item_id})
    db.session.commit()


def _participants(document: Document) -> list[User]:
    return [p.user for p in document.item.meeting.participants if p.user.active]


# --- reader copies: the watermark ----------------------------------------------------------------

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_copy_code() -> str:
    while True:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        if db.session.scalar(select(DocumentCopy.id).where(DocumentCopy.copy_code == code)) is None:
            return code


def watermark_for(user: User, copy_code: str):
    from ecabinet.documents.stamping import Watermark

    now = datetime.now(ZoneInfo(current_app.config["DEFAULT_TIMEZONE"]))
    return Watermark(name=user.name, organisation=user.organisation or "", time_text=now.strftime("%d/%m/%Y %H:%M"),
                     copy_code=copy_code)


@dataclass
class Served:
    path: Path
    filename: str
    copy_code: str | None   # None: the original (secretariat only)
    version: DocumentVersion


def _download_name(document: Document, version: DocumentVersion, copy_code: str | None) -> str:
    base = re.sub(r"[^\w\- ]+", "", fold_vietnamese(document.title)).strip().replace(" ", "-")[:80] or "tai-lieu"
    return f"{base}-v{version.number}" + (f"-{copy_code}" if copy_code else "") + ".pdf"


def _reader_copy(actor: Actor, document: Document, version: DocumentVersion) -> tuple[Path, str]:
    """The reader's watermarked copy of a version: reused from the cache for a while, else stamped now."""
    from ecabinet.documents.stamping import stamp_pdf_isolated

    user = actor.user
    fresh_since = utcnow() - timedelta(minutes=setting("DOCUMENT_COPY_CACHE_MINUTES"))
    cached = db.session.scalars(select(DocumentCopy).where(
        DocumentCopy.version_id == version.id, DocumentCopy.user_id == user.id, DocumentCopy.kind == "document",
        DocumentCopy.created_at >= fresh_since).order_by(DocumentCopy.id.desc())).first()
    if cached is not None:
        path = _dir("copies") / f"{cached.copy_code}.pdf"
        if path.is_file():
            return path, cached.copy_code
    code = new_copy_code()
    path = _dir("copies") / f"{code}.pdf"
    stamp_pdf_isolated([blobs().path(version.sha256)], path, watermark_for(user, code))
    db.session.add(DocumentCopy(copy_code=code, version_id=version.id, meeting_id=document.meeting_id,
                                user_id=user.id, kind="document"))
    # Not linked to the meeting's event stream (meeting_id=None): a copy is not a change to the meeting.
    audit.record(actor, "document.copy_made", object_type="document", object_id=document.id,
                 details={"copy_code": code, "version": version.number, "meeting": document.meeting_id,
                          "reader": user.name, "organisation": user.organisation})
    return path, code


def open_copy(actor: Actor, document: Document, *, purpose: str, record: bool = True) -> Served:
    """The file a reader gets, for ``purpose`` 'view' (the viewer stream) or 'download'.

    Members get their own watermarked copy; the secretariat gets the original. ``record`` (False for
    the viewer's follow-up Range requests) writes the read receipt and the audit entry with the copy code.
    """
    user = actor.user
    if user is None or not policy.may_view(user, document):
        raise Denied()
    if purpose == "download" and not policy.may_download(user, document):
        raise DocumentError("This document is confidential: it can be read in the app but not downloaded.")
    version = version_of(document)
    if policy.is_secretary(user):
        path, code = blobs().path(version.sha256), None
    else:
        path, code = _reader_copy(actor, document, version)
    if record:
        touch_receipt(user, version)
        audit.record(actor, "document.downloaded" if purpose == "download" else "document.viewed",
                     object_type="document", object_id=document.id,
                     details={"copy_code": code, "version": version.number, "meeting": document.meeting_id,
                              "original": code is None})
    db.session.commit()
    return Served(path, _download_name(document, version, code), code, version)


def open_original(actor: Actor, document: Document, number: int | None = None) -> Served:
    """Any version's original, unwatermarked: the secretariat only."""
    if actor.user is None or not policy.is_secretary(actor.user):
        raise Denied()
    version = version_of(document, number)
    if version is None:
        raise DocumentError("This version does not exist.")
    audit.record(actor, "document.original_downloaded", object_type="document", object_id=document.id,
                 details={"version": version.number, "meeting": document.meeting_id})
    db.session.commit()
    return Served(blobs().path(version.sha256), _download_name(document, version, None), None, version)


def find_copy(copy_code: str) -> DocumentCopy | None:
    """Who a leaked copy was made for."""
    return db.session.scalar(select(DocumentCopy).where(DocumentCopy.copy_code == copy_code.strip().upper()))


def prune_copies(max_age_minutes: int | None = None) -> int:
    """Delete cached reader copies older than the cache time (their records stay)."""
    limit = time.time() - 60 * (max_age_minutes if max_age_minutes is not None
                                else setting("DOCUMENT_COPY_CACHE_MINUTES"))
    removed = 0
    for path in _dir("copies").glob("*.pdf"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed


# --- read receipts -------------------------------------------------------------------------------

def touch_receipt(user: User, version: DocumentVersion) -> None:
    receipt = db.session.scalar(select(ReadReceipt).where(ReadReceipt.version_id == version.id,
                                                          ReadReceipt.user_id == user.id))
    now = utcnow()
    if receipt is None:
        db.session.add(ReadReceipt(version_id=version.id, user_id=user.id, first_opened_at=now, last_opened_at=now))
    else:
        receipt.last_opened_at, receipt.opens = now, receipt.opens + 1


def _read_versions(user: User, documents: list[Document]) -> dict[int, set[int]]:
    """document id -> version numbers this user has opened."""
    if not documents:
        return {}
    rows = db.session.execute(select(DocumentVersion.document_id, DocumentVersion.number)
                              .join(ReadReceipt, ReadReceipt.version_id == DocumentVersion.id)
                              .where(ReadReceipt.user_id == user.id,
                                     DocumentVersion.document_id.in_([d.id for d in documents]))).all()
    read: dict[int, set[int]] = {}
    for document_id, number in rows:
        read.setdefault(document_id, set()).add(number)
    return read


@dataclass
class ReadState:
    read: bool                 # the current version has been opened
    updated_since_read: bool   # an older version was opened, not the current one


def read_states(user: User, documents: list[Document]) -> dict[int, ReadState]:
    read = _read_versions(user, documents)
    return {d.id: ReadState(read=d.current_version in read.get(d.id, set()),
                            updated_since_read=bool(read.get(d.id)) and d.current_version not in read[d.id])
            for d in documents}


@dataclass(frozen=True)
class ListedDocument:
    """One line of a document list: enough to show it without loading the document and its versions."""

    id: int
    title: str
    confidential: bool
    page_count: int
    read: bool
    updated_since_read: bool


def listed_documents(user: User, meeting: Meeting) -> dict[int, list[ListedDocument]]:
    """For the meeting page: item id -> the documents on it this user may see, in order, with the current
    version's page count and the user's read state. Two queries for the whole meeting, and plain rows:
    loading 500 documents with their versions as objects cost most of the page's time (profiled)."""
    item_ids = policy.readable_item_ids(user, meeting)
    if not item_ids:
        return {}
    rows = db.session.execute(
        select(Document.id, Document.item_id, Document.title, Document.confidential, Document.current_version,
               DocumentVersion.page_count)
        .join(DocumentVersion, (DocumentVersion.document_id == Document.id)
              & (DocumentVersion.number == Document.current_version))
        .where(Document.meeting_id == meeting.id, Document.item_id.in_(item_ids))
        .order_by(Document.position, Document.id)).all()
    read: dict[int, set[int]] = {}
    for document_id, number in db.session.execute(
            select(DocumentVersion.document_id, DocumentVersion.number)
            .join(ReadReceipt, ReadReceipt.version_id == DocumentVersion.id)
            .join(Document, Document.id == DocumentVersion.document_id)
            .where(ReadReceipt.user_id == user.id, Document.meeting_id == meeting.id)):
        read.setdefault(document_id, set()).add(number)
    listed: dict[int, list[ListedDocument]] = {}
    for row in rows:
        seen = read.get(row.id, set())
        listed.setdefault(row.item_id, []).append(ListedDocument(
            row.id, row.title, row.confidential, row.page_count, read=row.current_version in seen,
            updated_since_read=bool(seen) and row.current_version not in seen))
    return listed


def unread_count(user: User, meeting: Meeting) -> int:
    """Documents of the meeting this user may see whose current version they have not opened."""
    documents = [d for _item, docs in policy.readable_documents(user, meeting) for d in docs]
    states = read_states(user, documents)
    return sum(1 for d in documents if not states[d.id].read)


@dataclass
class ReceiptRow:
    document: Document
    readers: list[tuple[User, ReadReceipt | None, int | None]]  # user, receipt of the current version, last read


def receipts_overview(meeting: Meeting) -> list[ReceiptRow]:
    """For the secretariat: per document, who has opened its current version and when."""
    documents = list(db.session.scalars(select(Document).where(Document.meeting_id == meeting.id)
                                        .join(MeetingItem, MeetingItem.id == Document.item_id)
                                        .order_by(MeetingItem.position, Document.position, Document.id)))
    people = [p.user for p in meeting.participants if not policy.is_secretary(p.user)]
    rows = []
    for document in documents:
        versions = {v.id: v.number for v in document.versions}
        receipts = db.session.scalars(select(ReadReceipt).where(ReadReceipt.version_id.in_(list(versions)))).all()
        readers = []
        for user in people:
            if not policy.may_view(user, document):
                continue
            mine = [r for r in receipts if r.user_id == user.id]
            current = next((r for r in mine if versions[r.version_id] == document.current_version), None)
            last = max((versions[r.version_id] for r in mine), default=None)
            readers.append((user, current, last))
        rows.append(ReceiptRow(document, readers))
    return rows


# --- annotations ---------------------------------------------------------------------------------

ANNOTATION_KINDS = ("note", "highlight")


def annotation_dict(annotation: Annotation, user: User) -> dict:
    return {"id": annotation.id, "kind": annotation.kind, "page": annotation.page,
            "placed_page": annotation.placed_page, "version": annotation.version_number,
            "quote": annotation.quote, "prefix": annotation.prefix, "suffix": annotation.suffix,
            "rects": json.loads(annotation.rects or "[]"), "body": annotation.body, "shared": annotation.shared,
            "mine": annotation.user_id == user.id, "author": annotation.user.name if annotation.user else "",
            "updated_at": annotation.updated_at.isoformat()}


def annotations_for(user: User, document: Document) -> list[Annotation]:
    """The user's own annotations (placed or not) and those others shared with the meeting."""
    return list(db.session.scalars(select(Annotation).where(
        Annotation.document_id == document.id,
        (Annotation.user_id == user.id) | Annotation.shared.is_(True)).order_by(Annotation.page, Annotation.id)))


def _clean_rects(value: object) -> str:
    rects = []
    if isinstance(value, list):
        for rect in value[:50]:
            if isinstance(rect, list | tuple) and len(rect) == 4 and all(isinstance(n, int | float) for n in rect):
                rects.append([round(min(max(float(n), 0.0), 1.0), 5) for n in rect])
    return json.dumps(rects)


def add_annotation(actor: Actor, document: Document, data: dict) -> Annotation:
    user = actor.user
    if user is None or not policy.may_view(user, document):
        raise Denied()
    kind = data.get("kind", "note")
    if kind not in ANNOTATION_KINDS:
        raise DocumentError("Unknown kind of annotation.")
    version = version_of(document)
    try:
        page = int(data.get("page"))
    except (TypeError, ValueError):
        raise DocumentError("Choose the page of the note.") from None
    if not 1 <= page <= version.page_count:
        raise DocumentError("This page does not exist in the document.")
    body = str(data.get("body") or "").strip()[:5000]
    quote = str(data.get("quote") or "").strip()[:2000]
    if kind == "note" and not body:
        raise DocumentError("Write the note first.")
    if kind == "highlight" and not quote:
        raise DocumentError("Select the text to highlight first.")
    annotation = Annotation(document_id=document.id, user_id=user.id, kind=kind, version_number=version.number,
                            page=page, placed_page=page, quote=quote, prefix=str(data.get("prefix") or "")[-200:],
                            suffix=str(data.get("suffix") or "")[:200], rects=_clean_rects(data.get("rects")),
                            body=body, shared=bool(data.get("shared")))
    db.session.add(annotation)
    db.session.flush()
    # The note's text stays out of the audit log: annotations are private by default.
    audit.record(actor, "document.annotation_added", object_type="document_annotation", object_id=annotation.id,
                 details={"document": document.id, "meeting": document.meeting_id, "shared": annotation.shared})
    db.session.commit()
    return annotation


def _own_annotation(actor: Actor, document: Document, annotation_id: int) -> Annotation:
    annotation = db.session.get(Annotation, annotation_id)
    if annotation is None or annotation.document_id != document.id:
        raise DocumentError("This note does not exist.")
    if actor.user is None or annotation.user_id != actor.user.id:
        raise Denied("Only the author may change this note.")
    return annotation


def update_annotation(actor: Actor, document: Document, annotation_id: int, data: dict) -> Annotation:
    annotation = _own_annotation(actor, document, annotation_id)
    if "body" in data:
        body = str(data.get("body") or "").strip()[:5000]
        if annotation.kind == "note" and not body:
            raise DocumentError("Write the note first.")
        annotation.body = body
    if "shared" in data:
        annotation.shared = bool(data["shared"])
    if "page" in data and data["page"] is not None:  # placing an unplaced note by hand
        try:
            page = int(data["page"])
        except (TypeError, ValueError):
            raise DocumentError("This page does not exist in the document.") from None
        if not 1 <= page <= version_of(document).page_count:
            raise DocumentError("This page does not exist in the document.")
        annotation.page = annotation.placed_page = page
        annotation.version_number = document.current_version
    annotation.updated_at = utcnow()
    audit.record(actor, "document.annotation_changed", object_type="document_annotation", object_id=annotation.id,
                 details={"document": document.id, "meeting": document.meeting_id, "shared": annotation.shared})
    db.session.commit()
    return annotation


def delete_annotation(actor: Actor, document: Document, annotation_id: int) -> None:
    annotation = _own_annotation(actor, document, annotation_id)
    db.session.delete(annotation)
    audit.record(actor, "document.annotation_deleted", object_type="document_annotation", object_id=annotation_id,
                 details={"document": document.id, "meeting": document.meeting_id})
    db.session.commit()


def _squash(text: str) -> str:
    """Folded (no diacritics, lower case) and without white space: robust to line breaks and accents."""
    return re.sub(r"\s+", "", fold_vietnamese(text or ""))


def find_anchor(quote: str, prefix: str, suffix: str, page_texts: list[str], near_page: int | None) -> int | None:
    """The page (1-based) of the new version where ``quote`` is, best matching its context; None if gone."""
    needle = _squash(quote)
    if not needle:
        return None
    before, after = _squash(prefix)[-40:], _squash(suffix)[:40]
    best: tuple[float, int] | None = None
    for number, page_text in enumerate(page_texts, 1):
        hay = _squash(page_text)
        start = hay.find(needle)
        while start >= 0:
            score = 0.0
            if before and hay[:start].endswith(before[-min(len(before), 20):]):
                score += 2
            if after and hay[start + len(needle):].startswith(after[:min(len(after), 20)]):
                score += 2
            if near_page:
                score -= abs(number - near_page) * 0.01
            if best is None or score > best[0]:
                best = (score, number)
            start = hay.find(needle, start + 1)
    return best[1] if best else None


Locate = Callable[[list[tuple[int, str]]], list[list[list[float]] | None]]


def reanchor_annotations(document: Document, page_texts: list[str], number: int,
                         locate: Locate | None = None) -> tuple[int, int]:
    """Carry every annotation of the document over to version ``number``: (placed, unplaced).

    A note with quoted text goes to the page where that text is found again; one without text keeps
    its page if the new version still has it. Anything else is kept, unplaced, never deleted. A highlight
    that moves to another page gets rectangles measured in the new file by ``locate`` (the pairs (page,
    quote) -> rectangles or None, see ``textpos``), or none when its text cannot be measured there.
    """
    placed = unplaced = 0
    moved: list[Annotation] = []
    annotations = db.session.scalars(select(Annotation).where(Annotation.document_id == document.id)).all()
    for annotation in annotations:
        previous = annotation.page or annotation.placed_page
        if annotation.quote.strip():
            page = find_anchor(annotation.quote, annotation.prefix, annotation.suffix, page_texts, previous)
        else:
            page = previous if previous and previous <= len(page_texts) else None
        if page is not None and page != annotation.page:
            annotation.rects = "[]"  # measured on its new page below, when possible
            if annotation.quote.strip():
                moved.append(annotation)
        annotation.page = page
        if page is not None:
            annotation.placed_page = page
            placed += 1
        else:
            unplaced += 1
        annotation.version_number = number
    if moved and locate is not None:
        try:
            found = locate([(a.page, a.quote) for a in moved])
        except IntakeError:  # the child failed or timed out: the notes stay placed, without rectangles
            found = []
        for annotation, rects in zip(moved, found, strict=False):
            if rects:
                annotation.rects = _clean_rects(rects)
    return placed, unplaced


# --- board books ---------------------------------------------------------------------------------

def _book_inputs(user: User, meeting: Meeting) -> tuple[dict, list]:
    sections = policy.readable_documents(user, meeting)
    inputs = {
        "meeting": [meeting.id, meeting.title, meeting.starts_at.isoformat(), meeting.agenda_version],
        "reader": [user.id, user.name, user.organisation],
        "items": [[item.id, item.position, item.title,
                   [[d.id, d.title, d.current_version, version_of(d).sha256] for d in docs]]
                  for item, docs in sections],
    }
    return inputs, sections


def book_inputs_hash(user: User, meeting: Meeting) -> str:
    inputs, _sections = _book_inputs(user, meeting)
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def book_path(book: BoardBook) -> Path:
    return _dir("boardbooks") / f"{book.meeting_id}-{book.user_id}-{book.inputs_hash[:24]}.pdf"


def board_book_of(user: User, meeting: Meeting) -> BoardBook | None:
    return db.session.scalar(select(BoardBook).where(BoardBook.meeting_id == meeting.id, BoardBook.user_id == user.id))


def board_book_state(user: User, meeting: Meeting) -> dict:
    """For the status endpoint: the book's state, 'stale' when its inputs changed since it was built."""
    book = board_book_of(user, meeting)
    if book is None:
        return {"status": "none", "done": 0, "total": 0}
    status = book.status
    if status == "ready" and (book.inputs_hash != book_inputs_hash(user, meeting) or not book_path(book).is_file()):
        status = "stale"
    return {"status": status, "done": book.done, "total": book.total, "pages": book.page_count,
            "error": book.error}


def request_board_book(actor: Actor, meeting: Meeting) -> BoardBook:
    """Queue the reader's board book unless a current one exists or is being built."""
    user = actor.user
    if user is None:
        raise Denied()
    inputs_hash = book_inputs_hash(user, meeting)
    book = board_book_of(user, meeting)
    if book is not None and book.inputs_hash == inputs_hash:
        if book.status == "ready" and book_path(book).is_file():
            return book
        recent = book.updated_at > utcnow() - timedelta(minutes=10)
        if book.status in ("queued", "building") and recent:
            return book
    if book is None:
        book = BoardBook(meeting_id=meeting.id, user_id=user.id)
        db.session.add(book)
    book.inputs_hash, book.status, book.done, book.total, book.error = inputs_hash, "queued", 0, 0, ""
    book.updated_at = utcnow()
    audit.record(actor, "document.board_book_requested", object_type="board_book", object_id=meeting.id,
                 details={"meeting": meeting.id})
    db.session.commit()
    from ecabinet.documents.tasks import build_board_book_task

    try:
        build_board_book_task(book.id)
    except Exception:
        # The job queue is unreachable: a book left "queued" would be answered as in progress for ten
        # minutes; marked failed, the reader's next request queues it again.
        book.status, book.error = "failed", "job queue unavailable"
        db.session.commit()
        raise
    db.session.refresh(book)
    return book


def build_board_book_now(book_id: int) -> None:
    """The job: build one reader's board book in a limited child process, reporting progress."""
    from ecabinet.documents.boardbook import AgendaEntry, BoardBookSpec, BookDocument, build_board_book_isolated
    from ecabinet.meetings.service import get_meeting

    book = db.session.get(BoardBook, book_id)
    if book is None:
        return
    meeting, user = get_meeting(book.meeting_id), db.session.get(User, book.user_id)
    if meeting is None or user is None or not user.active:
        return
    inputs, sections = _book_inputs(user, meeting)
    book.inputs_hash = hashlib.sha256(json.dumps(inputs, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    code = new_copy_code()
    book.status, book.copy_code, book.updated_at = "building", code, utcnow()
    db.session.commit()
    spec = BoardBookSpec(
        meeting_title=meeting.title,
        date_text=meeting.starts_at.astimezone(ZoneInfo(meeting.timezone)).strftime("%d/%m/%Y %H:%M"),
        reader=f"{user.name} — {user.organisation}" if user.organisation else user.name,
        items=[AgendaEntry(str(item.position), item.title,
                           [BookDocument(d.title, str(blobs().path(version_of(d).sha256))) for d in docs])
               for item, docs in sections])
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - last[0] < 0.3 and done < total:
            return
        last[0] = time.monotonic()
        book.done, book.total, book.updated_at = done, total, utcnow()
        db.session.commit()

    try:
        pages = build_board_book_isolated(spec, book_path(book), watermark_for(user, code), progress=progress)
    except (IntakeError, OSError) as exc:
        book.status, book.error, book.updated_at = "failed", str(exc)[:500], utcnow()
        db.session.commit()
        return
    book.status, book.page_count, book.done, book.total, book.updated_at = "ready", pages, pages, pages, utcnow()
    db.session.add(DocumentCopy(copy_code=code, meeting_id=meeting.id, user_id=user.id, kind="board_book"))
    audit.record(Actor.system("board-book"), "document.board_book_built", object_type="board_book",
                 object_id=meeting.id, details={"copy_code": code, "reader": user.name, "reader_id": user.id,
                                                "meeting": meeting.id, "pages": pages})
    db.session.commit()


def readable_documents_exist(user: User, meeting: Meeting) -> bool:
    from ecabinet.documents.policy import readable_documents

    return any(docs for _item, docs in readable_documents(user, meeting))


def open_board_book(actor: Actor, meeting: Meeting) -> tuple[Path, str, str]:
    """The ready, current board book of the actor: (path, download name, copy code)."""
    user = actor.user
    book = board_book_of(user, meeting) if user else None
    if book is None or board_book_state(user, meeting)["status"] != "ready":
        raise DocumentError("The board book is not ready yet.")
    audit.record(actor, "document.board_book_downloaded", object_type="board_book", object_id=meeting.id,
                 details={"copy_code": book.copy_code, "meeting": meeting.id})
    db.session.commit()
    return book_path(book), f"tai-lieu-phien-hop-{meeting.id}-{book.copy_code}.pdf", book.copy_code
