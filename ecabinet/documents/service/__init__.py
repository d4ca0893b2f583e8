"""The rules of briefing documents: intake, versions, readers' copies, read receipts, annotations, board books.

Services take an ``Actor``, never a request, and never commit: the boundary (the view, the job) does.
All PDF work happens in child processes run by the engine (``ecabinet.pdf``); the waits are cooperative
under gevent, so the web process never parses or stamps a PDF itself. Each wait of a request is a step
of its own that needs no database (``receive``, ``measure_highlights``, ``stamp_copy``), so that the view
does it with its connection released (``uow.release``) between the reads before and the record after.

- ``uploads``: new documents, new versions, confidentiality
- ``copies``: the reader's watermarked copy, originals, copy codes
- ``receipts``: who opened which version; unread marks
- ``annotations``: notes and highlights, carried over to new versions
- ``boardbooks``: one PDF per reader of everything they may see

Beside this package: ``queries`` (lookups the policy shares), ``search`` (the full-text index, kept in
step by a flush listener), ``jobs`` (queueing the jobs of ``tasks`` once a unit of work commits).
"""

from __future__ import annotations

from ecabinet.documents.queries import documents_of, get_document, readable_documents_exist, version_of
from ecabinet.documents.service.annotations import (
    ANNOTATION_KINDS,
    COLORS,
    Locate,
    add_annotation,
    annotation_dict,
    annotations_for,
    delete_annotation,
    find_anchor,
    reanchor_annotations,
    update_annotation,
)
from ecabinet.documents.service.boardbooks import (
    board_book_of,
    board_book_state,
    board_book_unqueued,
    book_inputs_hash,
    book_path,
    build_board_book_now,
    open_board_book,
    request_board_book,
)
from ecabinet.documents.service.common import (
    DEFAULTS,
    DocumentError,
    blobs,
    intake_limits,
    new_copy_code,
    setting,
    storage_dir,
    watermark_for,
)
from ecabinet.documents.service.copies import (
    AnnotatedOrder,
    CopyOrder,
    Served,
    find_copy,
    make_annotated_copy,
    open_copy,
    open_original,
    order_annotated_copy,
    order_copy,
    prune_copies,
    record_annotated_copy,
    record_copy,
    stamp_copy,
)
from ecabinet.documents.service.receipts import (
    ListedDocument,
    ReadState,
    ReceiptRow,
    listed_documents,
    read_states,
    receipts_overview,
    touch_receipt,
    unread_count,
)
from ecabinet.documents.service.uploads import (
    Measured,
    Received,
    highlights_to_measure,
    measure_highlights,
    prepare_version,
    receive,
    receive_all,
    record_upload,
    record_version,
    rename,
    replace,
    set_confidential,
    upload,
)

__all__ = [
    "ANNOTATION_KINDS", "COLORS", "DEFAULTS", "AnnotatedOrder", "CopyOrder", "DocumentError", "ListedDocument",
    "Locate", "Measured", "ReadState",
    "ReceiptRow", "Received", "Served", "highlights_to_measure", "measure_highlights", "order_copy", "receive",
    "receive_all", "record_copy", "record_upload", "record_version", "rename", "stamp_copy", "make_annotated_copy",
    "order_annotated_copy", "record_annotated_copy",
    "add_annotation", "annotation_dict", "annotations_for", "blobs", "board_book_of", "board_book_state",
    "board_book_unqueued", "book_inputs_hash", "book_path", "build_board_book_now", "delete_annotation",
    "documents_of", "find_anchor", "find_copy", "get_document", "intake_limits", "listed_documents",
    "new_copy_code", "open_board_book", "open_copy", "open_original", "prepare_version", "prune_copies",
    "read_states", "readable_documents_exist", "reanchor_annotations", "receipts_overview", "replace",
    "request_board_book", "set_confidential", "setting", "storage_dir", "touch_receipt", "unread_count",
    "update_annotation", "upload", "version_of", "watermark_for",
]
