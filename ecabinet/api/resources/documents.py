"""Documents of the items the client may see, and the client's watermarked copy of one.

A copy is made by the documents domain in the name of the client's reader (an account of its
organisation chosen when the client was registered): watermarked with that name and an audited copy
code, under the documents' own rules. Stamping waits on a worker process, so the database connection
is given back meanwhile."""

from __future__ import annotations

from flask import g, send_file

from ecabinet.api import policy, schemas, service
from ecabinet.api.blueprint import bp
from ecabinet.api.http import OPERATION_EXTRAS, ProblemError, operation, responses, spec
from ecabinet.api.resources.common import NOT_FOUND, client, meeting_or_404
from ecabinet.audit import service as audit
from ecabinet.core import uow
from ecabinet.core.actor import Actor
from ecabinet.documents import service as documents
from ecabinet.documents.models import Document


def _row(document: Document) -> schemas.Document:
    version = documents.version_of(document)
    return schemas.Document(id=document.id, meeting_id=document.meeting_id, item_id=document.item_id,
                            title=document.title, version=document.current_version,
                            page_count=version.page_count if version else 0, confidential=document.confidential)


@bp.get("/meetings/<int:meeting_id>/documents")
@operation("documents:read")
@spec.validate(resp=responses(HTTP_200=schemas.DocumentList), tags=["documents"], operation_id="listDocuments")
def list_documents(meeting_id: int):
    """The documents of the items of a meeting the client may see."""
    meeting = meeting_or_404(meeting_id)
    rows = [_row(d) for it in policy.visible_items(client(), meeting) for d in documents.documents_of(it)]
    return schemas.DocumentList(data=rows)


def _document_or_404(document_id: int) -> Document:
    document = documents.get_document(document_id)
    if document is None or not policy.item_visible(client(), document.item):
        raise ProblemError(404, NOT_FOUND)
    return document


@bp.get("/documents/<int:document_id>/copy")
@operation("documents:read")
@spec.validate(skip_validation=True, resp=responses(HTTP_200=None), tags=["documents"], operation_id="getDocumentCopy")
def document_copy(document_id: int):
    """The client's watermarked copy of a document (PDF). Confidential documents are not given out."""
    document = _document_or_404(document_id)
    api_client = client()
    reader = api_client.reader
    if reader is None or not reader.is_active:
        raise ProblemError(403, "This client has no reader account to make copies for.")
    if document.confidential:
        raise ProblemError(403, "This document is confidential: it is read in the app, not given out.")
    actor = Actor(user=reader, ip=g.api_actor.ip)
    order = documents.order_copy(actor, document, purpose="download")
    if order.stamp_pending:
        uow.release()
        documents.stamp_copy(order)
        document = documents.get_document(document_id)
        api_client = service.get_client(api_client.id)
    served = documents.record_copy(actor, document, order)
    audit.record(g.api_actor, "api.document_copy", object_type="document", object_id=document.id,
                 meeting_id=None, details={"client": api_client.name, "copy_code": served.copy_code})
    response = send_file(served.path, mimetype="application/pdf", as_attachment=True, download_name=served.filename)
    # Spectree reads the answer it is given (to check it against the description), so no passthrough.
    response.direct_passthrough = False
    return response


def _binary(operation_: dict) -> None:
    operation_["responses"]["200"] = {"description": "The watermarked PDF", "content": {
        "application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}}}


OPERATION_EXTRAS[("/api/v1/documents/{document_id}/copy", "get")] = _binary
