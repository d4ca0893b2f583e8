"""Board books: one PDF per reader with every document of the meeting they may see, watermarked for
them, built by a job in a limited child process, cached until its inputs change."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.audit import service as audit
from ecabinet.core.actor import Actor
from ecabinet.core.policy import Denied
from ecabinet.core.types import utcnow
from ecabinet.documents import jobs
from ecabinet.documents.models import BoardBook, DocumentCopy
from ecabinet.documents.queries import readable_documents, version_of
from ecabinet.documents.service.common import DocumentError, blobs, new_copy_code, storage_subdir, watermark_for
from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting
from ecabinet.pdf.errors import IntakeError

# The error of a book whose job the queue refused (Redis unreachable): the reader's next request queues
# it again, where a book left "queued" would be answered as in progress for ten minutes.
QUEUE_UNAVAILABLE = "job queue unavailable"

# Progress is written (and committed by the job) at most this often, and at the end.
PROGRESS_INTERVAL_S = 0.3


def _book_inputs(user: User, meeting: Meeting) -> tuple[dict[str, Any], list]:
    sections = readable_documents(user, meeting)
    inputs = {
        "meeting": [meeting.id, meeting.title, meeting.starts_at.isoformat(), meeting.agenda_version],
        "reader": [user.id, user.name, user.organisation],
        "items": [[item.id, item.position, item.title,
                   [[d.id, d.title, d.current_version, version_of(d).sha256] for d in docs]]
                  for item, docs in sections],
    }
    return inputs, sections


def _hash(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def book_inputs_hash(user: User, meeting: Meeting) -> str:
    inputs, _sections = _book_inputs(user, meeting)
    return _hash(inputs)


def book_path(book: BoardBook) -> Path:
    return storage_subdir("boardbooks") / f"{book.meeting_id}-{book.user_id}-{book.inputs_hash[:24]}.pdf"


def board_book_of(user: User, meeting: Meeting) -> BoardBook | None:
    return db.session.scalar(select(BoardBook).where(BoardBook.meeting_id == meeting.id, BoardBook.user_id == user.id))


def board_book_state(user: User, meeting: Meeting) -> dict[str, Any]:
    """For the status endpoint: the book's state, 'stale' when its inputs changed since it was built."""
    book = board_book_of(user, meeting)
    if book is None:
        return {"status": "none", "done": 0, "total": 0}
    status = book.status
    if status == "ready" and (book.inputs_hash != book_inputs_hash(user, meeting) or not book_path(book).is_file()):
        status = "stale"
    return {"status": status, "done": book.done, "total": book.total, "pages": book.page_count,
            "error": book.error}


def request_board_book(actor: Actor, meeting: Meeting, *, queue: bool = True) -> BoardBook:
    """The reader's board book: the current one if it exists or is being built, else one marked queued
    and, with ``queue``, its job queued once this unit of work commits (``queue=False``: the caller
    builds it itself, with ``build_board_book_now``)."""
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
    db.session.flush()
    if queue:
        jobs.enqueue_after_commit(jobs.BUILD_BOARD_BOOK, book.id, on_failure=partial(_not_queued, book.id))
    return book


def _not_queued(book_id: int) -> None:
    book = db.session.get(BoardBook, book_id)
    if book is not None and book.status == "queued":
        book.status, book.error, book.updated_at = "failed", QUEUE_UNAVAILABLE, utcnow()


def board_book_unqueued(book: BoardBook) -> bool:
    """After the commit: did the queue refuse the book's job? (The answer to the reader says so.)"""
    db.session.refresh(book)
    return book.status == "failed" and book.error == QUEUE_UNAVAILABLE


def build_board_book_now(book_id: int, *, checkpoint: Callable[[], object] | None = None) -> None:
    """Build one reader's board book in a limited child process, reporting progress.

    ``checkpoint`` is the job's commit: called once the book is marked building and with each step of
    progress, so that the reader's status requests see them. Without it (a book built within a request)
    everything stays in the caller's unit of work.
    """
    from ecabinet.pdf.boardbook import AgendaEntry, BoardBookSpec, BookDocument, build_board_book_isolated

    book = db.session.get(BoardBook, book_id)
    if book is None:
        return
    meeting, user = db.session.get(Meeting, book.meeting_id), db.session.get(User, book.user_id)
    if meeting is None or user is None or not user.active:
        return
    inputs, sections = _book_inputs(user, meeting)
    book.inputs_hash = _hash(inputs)
    code = new_copy_code()
    book.status, book.copy_code, book.updated_at = "building", code, utcnow()
    if checkpoint is not None:
        checkpoint()
    spec = BoardBookSpec(
        meeting_title=meeting.title,
        date_text=meeting.starts_at.astimezone(ZoneInfo(meeting.timezone)).strftime("%d/%m/%Y %H:%M"),
        reader=f"{user.name} — {user.organisation}" if user.organisation else user.name,
        items=[AgendaEntry(str(item.position), item.title,
                           [BookDocument(d.title, str(blobs().path(version_of(d).sha256))) for d in docs])
               for item, docs in sections])
    out_path, watermark = book_path(book), watermark_for(user, code)
    if checkpoint is not None:
        checkpoint()  # nothing staged since: the connection goes back to the pool for the build's wait
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if checkpoint is None or (time.monotonic() - last[0] < PROGRESS_INTERVAL_S and done < total):
            return
        last[0] = time.monotonic()
        book.done, book.total, book.updated_at = done, total, utcnow()
        checkpoint()

    try:
        pages = build_board_book_isolated(spec, out_path, watermark, progress=progress)
    except (IntakeError, OSError) as exc:
        book.status, book.error, book.updated_at = "failed", str(exc)[:500], utcnow()
        return
    book.status, book.page_count, book.done, book.total, book.updated_at = "ready", pages, pages, pages, utcnow()
    db.session.add(DocumentCopy(copy_code=code, meeting_id=meeting.id, user_id=user.id, kind="board_book"))
    audit.record(Actor.system("board-book"), "document.board_book_built", object_type="board_book",
                 object_id=meeting.id, details={"copy_code": code, "reader": user.name, "reader_id": user.id,
                                                "meeting": meeting.id, "pages": pages})


def open_board_book(actor: Actor, meeting: Meeting) -> tuple[Path, str, str]:
    """The ready, current board book of the actor: (path, download name, copy code)."""
    user = actor.user
    book = board_book_of(user, meeting) if user else None
    if book is None or board_book_state(user, meeting)["status"] != "ready":
        raise DocumentError("The board book is not ready yet.")
    audit.record(actor, "document.board_book_downloaded", object_type="board_book", object_id=meeting.id,
                 details={"copy_code": book.copy_code, "meeting": meeting.id})
    return book_path(book), f"tai-lieu-phien-hop-{meeting.id}-{book.copy_code}.pdf", book.copy_code
