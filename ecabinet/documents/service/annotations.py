"""Annotations: a reader's notes and highlights on a document, private unless shared with the meeting,
carried over to each new version by the quoted text they are anchored to."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.audit import service as audit
from ecabinet.core.actor import Actor
from ecabinet.core.policy import Denied
from ecabinet.core.types import utcnow
from ecabinet.documents import policy
from ecabinet.documents.models import Annotation, Document
from ecabinet.documents.queries import version_of
from ecabinet.documents.service.common import DocumentError
from ecabinet.extensions import db
from ecabinet.pdf.errors import IntakeError
from ecabinet.pdf.textfold import fold_vietnamese

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
    return annotation


def delete_annotation(actor: Actor, document: Document, annotation_id: int) -> None:
    annotation = _own_annotation(actor, document, annotation_id)
    db.session.delete(annotation)
    audit.record(actor, "document.annotation_deleted", object_type="document_annotation", object_id=annotation_id,
                 details={"document": document.id, "meeting": document.meeting_id})


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


def _annotations_of(document: Document) -> list[Annotation]:
    return list(db.session.scalars(select(Annotation).where(Annotation.document_id == document.id)
                                   .order_by(Annotation.id)))


def _new_page(annotation: Annotation, page_texts: list[str]) -> int | None:
    """Where the annotation goes in a version with these pages' texts; None when it cannot be placed."""
    previous = annotation.page or annotation.placed_page
    if annotation.quote.strip():
        return find_anchor(annotation.quote, annotation.prefix, annotation.suffix, page_texts, previous)
    return previous if previous and previous <= len(page_texts) else None


def moving_highlights(document: Document, page_texts: list[str]) -> list[tuple[int, str]]:
    """(new page, quote) of each quoted annotation a version with these texts moves to another page:
    what ``reanchor_annotations`` will ask ``locate`` to measure. Reads only, so that the measuring can
    be done before the version is recorded, without holding a database connection."""
    targets = []
    for annotation in _annotations_of(document):
        page = _new_page(annotation, page_texts)
        if page is not None and page != annotation.page and annotation.quote.strip():
            targets.append((page, annotation.quote))
    return targets


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
    for annotation in _annotations_of(document):
        page = _new_page(annotation, page_texts)
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
