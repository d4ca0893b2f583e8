"""Document pages, the viewer's PDF stream, downloads, the annotations API, board books and search.

Thin: the policy decides (``@guard``), the service acts. Every PDF leaves through ``_pdf_response``:
``application/pdf``, ``nosniff``, a ``sandbox`` CSP and an explicit Content-Disposition, so a file
with JavaScript or an HTML polyglot is only ever a PDF to the browser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ecabinet.core import uow
from ecabinet.core.actor import current_actor
from ecabinet.core.errors import DomainError
from ecabinet.core.policy import Denied, guard
from ecabinet.core.schemas import arg_int, json_body
from ecabinet.documents import policy, search, service
from ecabinet.documents import room as _room  # noqa: F401 - fills the live room's document hooks at app start
from ecabinet.documents.forms import ConfidentialForm, SearchForm, TitleForm
from ecabinet.documents.models import Document
from ecabinet.documents.schemas import AnnotationChange, NewAnnotation
from ecabinet.meetings import queries as meetings
from ecabinet.meetings.models import Meeting, MeetingItem
from ecabinet.pdf.errors import IntakeError, PdfError

bp = Blueprint("documents", __name__)

PDF_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"

T = TypeVar("T")


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"item_documents": item_documents, "meeting_documents": meeting_documents}


def item_documents(meeting: Meeting, item: MeetingItem) -> dict[str, Any]:
    """What ``documents/_item_documents.html`` shows on an item page, as the current user may see it."""
    user = current_user
    documents = [d for d in service.documents_of(item) if policy.may_view(user, d)]
    return {"documents": documents, "states": service.read_states(user, documents),
            "can_upload": policy.can_upload(user, meeting_id=meeting.id, item_id=item.id),
            "is_secretary": policy.is_secretary(user), "title_form": TitleForm(formdata=None)}


def meeting_documents(meeting: Meeting) -> dict[str, Any]:
    """What the meeting page lists under each item (``documents/_meeting_item_documents.html``), as the
    current user may see it. The labels are translated once per page, not once per document: 500
    documents made a thousand gettext calls (profiled)."""
    by_item = service.listed_documents(current_user, meeting)
    counts = {d.page_count for documents in by_item.values() for d in documents}
    return {"by_item": by_item, "pages": {n: _("%(n)s pages", n=n) for n in counts},
            "unread": _("Unread"), "updated": _("Updated since you read it"), "confidential": _("Confidential"),
            # One url_for for the page; each link appends its document id.
            "url": url_for("documents.show", document_id=0).removesuffix("0")}


# --- helpers -------------------------------------------------------------------------------------

def _document(document_id: int) -> Document:
    document = service.get_document(document_id)
    if document is None:
        abort(404)
    return document


def _error_message(exc: Exception) -> str:
    if isinstance(exc, Denied):
        return _(exc.message)
    if isinstance(exc, PdfError):  # the engine's refusals: messages marked in ecabinet/pdf/errors.py
        return _(exc.message, **exc.params)
    assert isinstance(exc, DomainError)
    return exc.translated()


def _json_error(exc: Exception, status: int | None = None):
    if isinstance(exc, Denied):
        return jsonify(error=_error_message(exc)), 403
    body: dict[str, Any] = {"error": _error_message(exc)}
    if isinstance(exc, IntakeError):
        body["code"] = exc.code
    return jsonify(body), status or exc.status


def _pdf_response(served: service.Served, *, attachment: bool):
    response = send_file(served.path, mimetype="application/pdf", as_attachment=attachment,
                         download_name=served.filename, conditional=True, max_age=0)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = PDF_CSP
    response.headers["Cache-Control"] = "private, no-store"
    if served.copy_code:
        response.headers["X-Copy-Code"] = served.copy_code
    return response


def document_dict(document: Document) -> dict[str, Any]:
    version = service.version_of(document)
    return {"id": document.id, "title": document.title, "version": document.current_version,
            "pages": version.page_count, "size": version.size, "confidential": document.confidential,
            "url": url_for("documents.show", document_id=document.id)}


def _uploaded_file():
    upload = request.files.get("file")
    if upload is None:
        raise IntakeError.of("empty")
    return upload


def _item(meeting_id: int, item_id: int) -> MeetingItem:
    item = next((i for i in meetings.meeting_or_404(meeting_id).items if i.id == item_id), None)
    if item is None:
        abort(404)
    return item


def _released(wait: Callable[..., T], *args: Any) -> T:
    """Run ``wait`` (the upload's intake, a reader's copy: child processes and the disk) with the
    request's database connection given back, so that it holds up no other request: SQLite has one
    connection per process, PostgreSQL a pool that a few uploads would empty. What was loaded before is
    expired, and the view looks up again what it needs after the wait."""
    uow.release()
    return wait(*args)


# --- upload and versions ---------------------------------------------------------------------------

@bp.route("/meetings/<int:meeting_id>/items/<int:item_id>/documents", methods=["POST"])
@guard(policy.can_upload)
def upload(meeting_id: int, item_id: int):
    _item(meeting_id, item_id)
    try:
        file = _uploaded_file()
        received = _released(service.receive, file.stream, file.filename or "")
        document = service.record_upload(current_actor(), _item(meeting_id, item_id), received,
                                         title=request.form.get("title") or None,
                                         confidential=request.form.get("confidential") in ("1", "true", "on"))
    except (DomainError, PdfError, Denied) as exc:
        return _json_error(exc)
    return jsonify(ok=True, document=document_dict(document)), 201


@bp.route("/documents/<int:document_id>/versions", methods=["POST"])
@guard(policy.can_manage_document)
def new_version(document_id: int):
    _document(document_id)
    try:
        file = _uploaded_file()
        received = _released(service.receive, file.stream, file.filename or "")
        targets = service.highlights_to_measure(_document(document_id), received)
        # Highlights added while their file is measured are placed without rectangles rather than measured
        # holding the connection.
        measured = _released(service.measure_highlights, received, targets) if targets else service.Measured()
        document = _document(document_id)
        service.record_version(current_actor(), document, received, measured)
    except (DomainError, PdfError, Denied) as exc:
        return _json_error(exc)
    return jsonify(ok=True, document=document_dict(document)), 201


@bp.route("/documents/<int:document_id>/confidential", methods=["POST"])
@guard(policy.can_manage_document)
def confidential(document_id: int):
    document = _document(document_id)
    form = ConfidentialForm()
    if form.validate_on_submit():
        service.set_confidential(current_actor(), document, bool(form.confidential.data))
        flash(_("Saved."), "info")
    return redirect(url_for("documents.show", document_id=document.id))


@bp.route("/documents/<int:document_id>/title", methods=["POST"])
@guard(policy.can_manage_document)
def rename(document_id: int):
    document = _document(document_id)
    form = TitleForm()
    if form.validate_on_submit():
        try:
            service.rename(current_actor(), document, form.title.data or "")
        except DomainError as exc:
            flash(exc.translated(), "error")
        else:
            flash(_("Title saved."), "info")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
    return redirect(url_for("meetings.item", meeting_id=document.meeting_id, item_id=document.item_id)
                    + "#documents-title")


# --- reading -------------------------------------------------------------------------------------

@bp.route("/documents/<int:document_id>")
@guard(policy.can_view_document)
def show(document_id: int):
    document = _document(document_id)
    version = service.version_of(document)
    state = service.read_states(current_user, [document])[document.id]
    return render_template("documents/viewer.html", document=document, version=version, state=state,
                           item=document.item, meeting=document.item.meeting,
                           may_download=policy.may_download(current_user, document),
                           is_secretary=policy.is_secretary(current_user),
                           can_manage=policy.can_manage_document(current_user, document_id=document.id),
                           confidential_form=ConfidentialForm(formdata=None, confidential=document.confidential))


@bp.route("/documents/<int:document_id>/file")
@guard(policy.can_view_document)
def stream(document_id: int):
    """The viewer's copy (inline), watermarked for the reader; Range requests are answered with 206.

    Only the first, whole-file request records the read and the copy code; pdf.js then fetches ranges.
    """
    try:
        served = _served_copy(document_id, purpose="view", record="Range" not in request.headers)
    except (DomainError, PdfError, Denied) as exc:
        return _json_error(exc)
    return _pdf_response(served, attachment=False)


@bp.route("/documents/<int:document_id>/download")
@guard(policy.can_download_document)
def download(document_id: int):
    try:
        served = _served_copy(document_id, purpose="download")
    except (DomainError, PdfError, Denied) as exc:
        return _json_error(exc, 403)
    return _pdf_response(served, attachment=True)


def _served_copy(document_id: int, *, purpose: str, record: bool = True) -> service.Served:
    """``service.open_copy`` with the stamping of a new reader's copy done with the connection released."""
    order = service.order_copy(current_actor(), _document(document_id), purpose=purpose, record=record)
    if order.stamp_pending:
        _released(service.stamp_copy, order)
    return service.record_copy(current_actor(), _document(document_id), order)


@bp.route("/documents/<int:document_id>/annotated")
@guard(policy.can_download_document)
def annotated(document_id: int):
    """The reader's own copy (watermarked, as a download) with their notes, highlights and ink in it."""
    try:
        order = service.order_annotated_copy(current_actor(), _document(document_id))
        if order.pending or order.copy.stamp_pending:
            _released(service.make_annotated_copy, order)
        served = service.record_annotated_copy(current_actor(), _document(document_id), order)
    except (DomainError, PdfError, Denied) as exc:
        if request.accept_mimetypes.best == "application/json":
            return _json_error(exc, 403 if isinstance(exc, Denied) else 409)
        # Followed as a link from the viewer: back to it, with the reason.
        flash(_error_message(exc), "error")
        return redirect(url_for("documents.show", document_id=document_id))
    return _pdf_response(served, attachment=True)


@bp.route("/documents/<int:document_id>/original")
@guard(policy.can_manage_document)
def original(document_id: int):
    document = _document(document_id)
    try:
        served = service.open_original(current_actor(), document, arg_int("version"))
    except (DomainError, Denied) as exc:
        return _json_error(exc, 404)
    return _pdf_response(served, attachment=True)


# --- annotations (JSON; the CSRF token travels in the X-CSRFToken header) ---------------------------

@bp.route("/documents/<int:document_id>/annotations", methods=["GET", "POST"])
@guard(policy.can_view_document)
def annotations(document_id: int):
    document = _document(document_id)
    user = current_user
    if request.method == "POST":
        try:
            annotation = service.add_annotation(current_actor(), document, json_body(NewAnnotation).given())
        except (DomainError, Denied) as exc:
            return _json_error(exc)
        return jsonify(annotation=service.annotation_dict(annotation, user)), 201
    return jsonify(version=document.current_version,
                   annotations=[service.annotation_dict(a, user) for a in service.annotations_for(user, document)])


@bp.route("/documents/<int:document_id>/annotations/<int:annotation_id>", methods=["PATCH", "DELETE"])
@guard(policy.can_view_document)
def annotation(document_id: int, annotation_id: int):
    document = _document(document_id)
    try:
        if request.method == "DELETE":
            service.delete_annotation(current_actor(), document, annotation_id)
            return jsonify(ok=True)
        changed = service.update_annotation(current_actor(), document, annotation_id,
                                            json_body(AnnotationChange).given())
    except (DomainError, Denied) as exc:
        return _json_error(exc, 404 if isinstance(exc, DomainError) else None)
    return jsonify(annotation=service.annotation_dict(changed, current_user))


# --- read receipts -------------------------------------------------------------------------------

@bp.route("/meetings/<int:meeting_id>/documents/receipts")
@guard(policy.can_see_receipts)
def receipts(meeting_id: int):
    meeting = meetings.meeting_or_404(meeting_id)
    return render_template("documents/receipts.html", meeting=meeting, rows=service.receipts_overview(meeting))


# --- board book ----------------------------------------------------------------------------------

@bp.route("/meetings/<int:meeting_id>/board-book", methods=["GET", "POST"])
@guard(policy.can_read_meeting_documents)
def board_book(meeting_id: int):
    meeting = meetings.meeting_or_404(meeting_id)
    if request.method == "POST":
        book = service.request_board_book(current_actor(), meeting)
        # The job is queued once the request commits; the answer says whether the queue took it.
        uow.commit()
        if service.board_book_unqueued(book):
            abort(503)
        return jsonify(service.board_book_state(current_user, meeting)), 202
    return render_template("documents/board_book.html", meeting=meeting,
                           state=service.board_book_state(current_user, meeting),
                           sections=policy.readable_documents(current_user, meeting))


@bp.route("/meetings/<int:meeting_id>/board-book/status")
@guard(policy.can_read_meeting_documents)
def board_book_status(meeting_id: int):
    return jsonify(service.board_book_state(current_user, meetings.meeting_or_404(meeting_id)))


@bp.route("/meetings/<int:meeting_id>/board-book/file")
@guard(policy.can_read_meeting_documents)
def board_book_file(meeting_id: int):
    meeting = meetings.meeting_or_404(meeting_id)
    try:
        path, name, code = service.open_board_book(current_actor(), meeting)
    except DomainError as exc:
        return _json_error(exc, 409)
    from ecabinet.documents.models import DocumentVersion

    served = service.Served(path, name, code, DocumentVersion())
    return _pdf_response(served, attachment=True)


# --- search --------------------------------------------------------------------------------------

@bp.route("/search")
@guard(policy.can_search)
def search_page():
    form = SearchForm(request.args)
    query = (form.q.data or "").strip()[:200]
    hits = search.search(current_user, query) if query else []
    return render_template("documents/search.html", form=form, query=query, hits=hits)
