"""Annotations: a reader's highlights, notes, pinned notes and ink on a document, private unless shared
with the meeting, carried over to each new version by the quoted text they are anchored to, or (pins,
ink, notes without a quote) by their page, flagged when the new version changed that page's text."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable

from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.audit import service as audit
from ecabinet.core.actor import Actor
from ecabinet.core.policy import Denied
from ecabinet.core.types import utcnow
from ecabinet.documents import policy
from ecabinet.documents.models import Annotation, Document, DocumentVersion
from ecabinet.documents.queries import version_of
from ecabinet.documents.schemas import MAX_STROKE_POINTS, MAX_STROKE_WIDTH, MAX_STROKES
from ecabinet.documents.service.common import DocumentError
from ecabinet.extensions import db
from ecabinet.pdf.errors import IntakeError
from ecabinet.pdf.textfold import fold_vietnamese

ANNOTATION_KINDS = ("note", "highlight", "pin", "ink")
# The viewer draws each as a translucent fill with a darker edge (highlights) or in a dark shade (ink),
# both at least 3:1 against the white page (WCAG 1.4.11).
COLORS = ("yellow", "green", "blue", "pink")
INK_WIDTH = 0.004  # of the page's width, when the viewer sends none
COORDINATE_DIGITS = 4  # 1/10,000 of the page: well under a pixel on a tablet


def _geometry(annotation: Annotation) -> dict:
    try:
        value = json.loads(annotation.geometry or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def annotation_dict(annotation: Annotation, user: User) -> dict:
    geometry = _geometry(annotation)
    return {"id": annotation.id, "kind": annotation.kind, "color": annotation.color, "page": annotation.page,
            "placed_page": annotation.placed_page, "version": annotation.version_number,
            "quote": annotation.quote, "prefix": annotation.prefix, "suffix": annotation.suffix,
            "rects": json.loads(annotation.rects or "[]"), "point": geometry.get("point"),
            "strokes": geometry.get("strokes"), "page_changed": annotation.page_changed,
            "body": annotation.body, "shared": annotation.shared,
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
            if (isinstance(rect, list | tuple) and len(rect) == 4
                    and all(isinstance(n, int | float) and math.isfinite(n) for n in rect)):
                rects.append([round(min(max(float(n), 0.0), 1.0), 5) for n in rect])
    return json.dumps(rects)


def _fraction(value: float) -> float:
    return round(min(max(float(value), 0.0), 1.0), COORDINATE_DIGITS)


def _point(value: object) -> list[float]:
    """A pin's position, within the page."""
    if not (isinstance(value, list | tuple) and len(value) == 2
            and all(isinstance(n, int | float) and math.isfinite(n) for n in value)):
        raise DocumentError("Tap the page where the note goes.")
    return [_fraction(n) for n in value]


def _strokes(value: object) -> list[dict]:
    """Ink strokes within the page, each without repeated points (the schema bounds their number and size).
    A pressure, when the pen gives one, is kept as a third number of each point."""
    strokes = []
    for stroke in value[:MAX_STROKES] if isinstance(value, list) else []:
        raw_points = stroke.get("points") if isinstance(stroke, dict) else None
        points: list[list[float]] = []
        for raw in raw_points[:MAX_STROKE_POINTS] if isinstance(raw_points, list) else []:
            if not (isinstance(raw, list | tuple) and 2 <= len(raw) <= 3
                    and all(isinstance(n, int | float) and math.isfinite(n) for n in raw)):
                continue
            point = [_fraction(n) for n in raw]
            if not points or point[:2] != points[-1][:2]:
                points.append(point)
        width = stroke.get("width") if isinstance(stroke, dict) else None
        if not (isinstance(width, int | float) and 0 < width <= MAX_STROKE_WIDTH):
            width = INK_WIDTH
        if points:
            strokes.append({"points": points, "width": round(float(width), 5)})
    if not strokes:
        raise DocumentError("Draw on the page first.")
    return strokes


def _color(value: object) -> str:
    color = value or "yellow"
    if color not in COLORS:
        raise DocumentError("Unknown colour.")
    return str(color)


def add_annotation(actor: Actor, document: Document, data: dict) -> Annotation:
    user = actor.user
    if user is None or not policy.may_view(user, document):
        raise Denied()
    kind = data.get("kind") or "note"
    if kind not in ANNOTATION_KINDS:
        raise DocumentError("Unknown kind of annotation.")
    color = _color(data.get("color"))
    version = version_of(document)
    try:
        page = int(data.get("page"))
    except (TypeError, ValueError):
        raise DocumentError("Choose the page of the note.") from None
    if not 1 <= page <= version.page_count:
        raise DocumentError("This page does not exist in the document.")
    body = str(data.get("body") or "").strip()[:5000]
    quote = str(data.get("quote") or "").strip()[:2000]
    if kind in ("note", "pin") and not body:
        raise DocumentError("Write the note first.")
    if kind == "highlight" and not quote:
        raise DocumentError("Select the text to highlight first.")
    geometry = None
    if kind == "pin":
        geometry = {"point": _point(data.get("point"))}
    elif kind == "ink":
        geometry = {"strokes": _strokes(data.get("strokes"))}
    if geometry is not None:  # placed by position, not by text
        quote = ""
    annotation = Annotation(document_id=document.id, user_id=user.id, kind=kind, color=color,
                            version_number=version.number, page=page, placed_page=page, quote=quote,
                            prefix=str(data.get("prefix") or "")[-200:] if quote else "",
                            suffix=str(data.get("suffix") or "")[:200] if quote else "",
                            rects=_clean_rects(data.get("rects")) if geometry is None else "[]",
                            geometry=json.dumps(geometry, separators=(",", ":")) if geometry else None,
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
        if annotation.kind in ("note", "pin") and not body:
            raise DocumentError("Write the note first.")
        annotation.body = body
    if "color" in data and data["color"] is not None:
        annotation.color = _color(data["color"])
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
        annotation.page_changed = False  # placed by the reader on the current version
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


def _page_text(texts: list[str] | None, page: int | None) -> str | None:
    if texts is None or page is None or not 1 <= page <= len(texts):
        return None
    return _squash(texts[page - 1])


def reanchor_annotations(document: Document, page_texts: list[str], number: int,
                         locate: Locate | None = None) -> tuple[int, int]:
    """Carry every annotation of the document over to version ``number``: (placed, unplaced).

    A note with quoted text goes to the page where that text is found again; one without text (a pin,
    ink, a note on the page) keeps its page and position if the new version still has the page, and is
    flagged ``page_changed`` when that page's text is not the same (folded, without white space) as in
    the version it was carried from. Anything else is kept, unplaced, never deleted. A highlight that
    moves to another page gets rectangles measured in the new file by ``locate`` (the pairs (page,
    quote) -> rectangles or None, see ``textpos``), or none when its text cannot be measured there.
    """
    placed = unplaced = 0
    moved: list[Annotation] = []
    texts_of: dict[int, list[str] | None] = {}

    def old_texts(version_number: int) -> list[str] | None:
        if version_number not in texts_of:
            version = db.session.scalar(select(DocumentVersion).where(
                DocumentVersion.document_id == document.id, DocumentVersion.number == version_number))
            texts_of[version_number] = version.texts() if version is not None else None
        return texts_of[version_number]

    for annotation in _annotations_of(document):
        page = _new_page(annotation, page_texts)
        if page is not None and not annotation.quote.strip() and annotation.page is not None:
            before = _page_text(old_texts(annotation.version_number), annotation.page)
            # Sticky: the position was drawn on the page as it was before any of the changes.
            if before is not None and before != _page_text(page_texts, page):
                annotation.page_changed = True
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
