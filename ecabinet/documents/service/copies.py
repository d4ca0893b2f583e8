"""Readers' copies: each member gets a copy watermarked with their name and an audited copy code;
the secretariat gets the original. Copies are cached for a while and pruned by a periodic job."""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from ecabinet.audit import service as audit
from ecabinet.core.actor import Actor
from ecabinet.core.policy import Denied
from ecabinet.core.types import utcnow
from ecabinet.documents import policy
from ecabinet.documents.models import Annotation, Document, DocumentCopy, DocumentVersion
from ecabinet.documents.queries import version_of
from ecabinet.documents.service.common import (
    DocumentError,
    blobs,
    new_copy_code,
    setting,
    storage_subdir,
    watermark_for,
)
from ecabinet.documents.service.receipts import touch_receipt
from ecabinet.extensions import db
from ecabinet.pdf.textfold import fold_vietnamese

if TYPE_CHECKING:
    from ecabinet.pdf.stamping import Watermark


@dataclass
class Served:
    path: Path
    filename: str
    copy_code: str | None   # None: the original (secretariat only)
    version: DocumentVersion


def _download_name(document: Document, version: DocumentVersion, copy_code: str | None) -> str:
    base = re.sub(r"[^\w\- ]+", "", fold_vietnamese(document.title)).strip().replace(" ", "-")[:80] or "tai-lieu"
    return f"{base}-v{version.number}" + (f"-{copy_code}" if copy_code else "") + ".pdf"


@dataclass(frozen=True)
class CopyOrder:
    """What serving a document needs, decided from the database before any file work: the file to
    serve, or the reader's copy still to be stamped (``stamp``), and whether it is a new copy to record."""

    document_id: int
    version_id: int
    path: Path
    filename: str
    copy_code: str | None
    purpose: str
    record: bool
    new_copy: bool = False
    source: Path | None = None
    watermark: Watermark | None = None

    @property
    def stamp_pending(self) -> bool:
        return self.new_copy and not self.path.is_file()


def order_copy(actor: Actor, document: Document, *, purpose: str, record: bool = True) -> CopyOrder:
    """Decide what ``open_copy`` serves (reads only): the policy, the version, a cached reader's copy or the
    code and watermark of a new one. Nothing is staged, so the boundary may then release its connection."""
    user = actor.user
    if user is None or not policy.may_view(user, document):
        raise Denied()
    if purpose == "download" and not policy.may_download(user, document):
        raise DocumentError("This document is confidential: it can be read in the app but not downloaded.")
    version = version_of(document)
    common = {"document_id": document.id, "version_id": version.id, "purpose": purpose, "record": record}
    if policy.is_secretary(user):
        return CopyOrder(path=blobs().path(version.sha256), filename=_download_name(document, version, None),
                         copy_code=None, **common)
    fresh_since = utcnow() - timedelta(minutes=setting("DOCUMENT_COPY_CACHE_MINUTES"))
    cached = db.session.scalars(select(DocumentCopy).where(
        DocumentCopy.version_id == version.id, DocumentCopy.user_id == user.id, DocumentCopy.kind == "document",
        DocumentCopy.created_at >= fresh_since).order_by(DocumentCopy.id.desc())).first()
    if cached is not None:
        path = storage_subdir("copies") / f"{cached.copy_code}.pdf"
        if path.is_file():
            return CopyOrder(path=path, filename=_download_name(document, version, cached.copy_code),
                             copy_code=cached.copy_code, **common)
    code = new_copy_code()
    return CopyOrder(path=storage_subdir("copies") / f"{code}.pdf",
                     filename=_download_name(document, version, code), copy_code=code, new_copy=True,
                     source=blobs().path(version.sha256), watermark=watermark_for(user, code), **common)


def stamp_copy(order: CopyOrder) -> None:
    """Stamp the reader's new copy in the engine's worker pool. Needs no database: a boundary calls it
    with its connection released, since it waits on a worker process and the disk."""
    from ecabinet.pdf.copies import stamp_pdf_isolated

    if order.stamp_pending:
        assert order.source is not None and order.watermark is not None
        stamp_pdf_isolated([order.source], order.path, order.watermark)


def record_copy(actor: Actor, document: Document, order: CopyOrder) -> Served:
    """Record what was served: a new copy's code, and (with ``order.record``) the read receipt and the
    audit entry with the copy code. The copy must have been stamped (``stamp_copy``)."""
    version = db.session.get(DocumentVersion, order.version_id)
    if version is None or version.document_id != document.id:
        raise DocumentError("This version does not exist.")
    user = actor.user
    if order.new_copy:
        db.session.add(DocumentCopy(copy_code=order.copy_code, version_id=version.id, meeting_id=document.meeting_id,
                                    user_id=user.id, kind="document"))
        # Not linked to the meeting's event stream (meeting_id=None): a copy is not a change to the meeting.
        audit.record(actor, "document.copy_made", object_type="document", object_id=document.id,
                     details={"copy_code": order.copy_code, "version": version.number, "meeting": document.meeting_id,
                              "reader": user.name, "organisation": user.organisation})
    if order.record:
        touch_receipt(user, version)
        audit.record(actor, "document.downloaded" if order.purpose == "download" else "document.viewed",
                     object_type="document", object_id=document.id,
                     details={"copy_code": order.copy_code, "version": version.number,
                              "meeting": document.meeting_id, "original": order.copy_code is None})
    return Served(order.path, order.filename, order.copy_code, version)


def open_copy(actor: Actor, document: Document, *, purpose: str, record: bool = True) -> Served:
    """The file a reader gets, for ``purpose`` 'view' (the viewer stream) or 'download'.

    Members get their own watermarked copy; the secretariat gets the original. ``record`` (False for
    the viewer's follow-up Range requests) writes the read receipt and the audit entry with the copy code.
    Stamps holding the caller's connection: a request uses ``order_copy``, ``stamp_copy``, ``record_copy``.
    """
    order = order_copy(actor, document, purpose=purpose, record=record)
    stamp_copy(order)
    return record_copy(actor, document, order)


def open_original(actor: Actor, document: Document, number: int | None = None) -> Served:
    """Any version's original, unwatermarked: the secretariat only."""
    if actor.user is None or not policy.is_secretary(actor.user):
        raise Denied()
    version = version_of(document, number)
    if version is None:
        raise DocumentError("This version does not exist.")
    audit.record(actor, "document.original_downloaded", object_type="document", object_id=document.id,
                 details={"version": version.number, "meeting": document.meeting_id})
    return Served(blobs().path(version.sha256), _download_name(document, version, None), None, version)


@dataclass(frozen=True)
class AnnotatedOrder:
    """A reader's copy with their own annotations: the copy it is made from (``copy``), the marks and the
    file, named after both, so that the same marks on the same copy are made once."""

    copy: CopyOrder
    path: Path
    filename: str
    marks: list[dict]
    author: str

    @property
    def pending(self) -> bool:
        return not self.path.is_file()


def _mark(annotation: Annotation) -> dict:
    geometry = json.loads(annotation.geometry or "{}") if annotation.geometry else {}
    return {"kind": annotation.kind, "color": annotation.color, "page": annotation.page,
            "rects": json.loads(annotation.rects or "[]"), "point": geometry.get("point"),
            "strokes": geometry.get("strokes"), "body": annotation.body, "quote": annotation.quote}


def order_annotated_copy(actor: Actor, document: Document) -> AnnotatedOrder:
    """Decide the annotated copy of the reader's own annotations placed on the current version (reads
    only). Refused where a download is: a confidential document is read in the app, not taken away."""
    copy = order_copy(actor, document, purpose="download")
    user = actor.user
    version = version_of(document)
    marks = [_mark(a) for a in db.session.scalars(select(Annotation).where(
        Annotation.document_id == document.id, Annotation.user_id == user.id, Annotation.page.is_not(None),
        Annotation.version_number == version.number).order_by(Annotation.page, Annotation.id))]
    if not marks:
        raise DocumentError("You have no notes or marks on this version of the document yet.")
    digest = hashlib.sha256(json.dumps([copy.copy_code or version.sha256, marks], sort_keys=True,
                                       ensure_ascii=False).encode()).hexdigest()[:20]
    name = copy.filename.removesuffix(".pdf") + "-ghi-chu.pdf"
    return AnnotatedOrder(copy=copy, path=storage_subdir("copies") / f"annotated-{digest}.pdf", filename=name,
                          marks=marks, author=user.name)


def make_annotated_copy(order: AnnotatedOrder) -> None:
    """Stamp the reader's copy if it is new, then write their marks into it, in the engine's worker pool.
    Needs no database: a boundary calls it with its connection released."""
    from ecabinet.pdf.copies import annotate_isolated

    stamp_copy(order.copy)
    if order.pending:
        annotate_isolated(order.copy.path, order.path, order.marks, order.author)


def record_annotated_copy(actor: Actor, document: Document, order: AnnotatedOrder) -> Served:
    """Record the copy the annotated file was made from (its code is in the watermark) and the export."""
    served = record_copy(actor, document, order.copy)
    audit.record(actor, "document.annotated_copy", object_type="document", object_id=document.id,
                 details={"copy_code": order.copy.copy_code, "version": served.version.number,
                          "meeting": document.meeting_id, "marks": len(order.marks)})
    return Served(order.path, order.filename, order.copy.copy_code, served.version)


def find_copy(copy_code: str) -> DocumentCopy | None:
    """Who a leaked copy was made for."""
    return db.session.scalar(select(DocumentCopy).where(DocumentCopy.copy_code == copy_code.strip().upper()))


def prune_copies(max_age_minutes: int | None = None) -> int:
    """Delete cached reader copies older than the cache time (their records stay)."""
    limit = time.time() - 60 * (max_age_minutes if max_age_minutes is not None
                                else setting("DOCUMENT_COPY_CACHE_MINUTES"))
    removed = 0
    for path in storage_subdir("copies").glob("*.pdf"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed
