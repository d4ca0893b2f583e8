"""The unit of work: services stage and flush; the boundary commits, once.

A boundary is the code that owns a request: the view (through ``@guard``/``@public``), the Socket.IO
handler (through ``@guarded_event``), the job, the CLI command. Services never call ``commit()``, so
two services compose into one transaction, and a failure in the second rolls back the first.

Work that must follow the commit (broadcasts, tallies, email, queued jobs) is registered here with
:func:`after_commit`. It runs only after the transaction has committed, never after a rollback, each
callback in an app context of its own: the committed session refuses SQL while it finishes its commit.

A :class:`~ecabinet.core.errors.DomainError` raised during a unit of work dooms it: a boundary that
catches the error to show it to the user still rolls back, so a half-done change is never committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from ecabinet.extensions import db

log = logging.getLogger(__name__)

_AFTER_COMMIT = "uow_after_commit"
_BEFORE_COMMIT = "uow_before_commit"
_DOOMED = "uow_doomed"
_READY = "uow_after_commit_ready"  # committed, waiting for the transaction to end
_WRITTEN = "uow_written"  # the open transaction holds flushed or executed writes

# Called with the session at every commit, before it is sent to the database, by rank and then in
# registration order (the live domain numbers the meeting changes of the transaction here; the audit
# domain appends the transaction's entries to its chain last, so the chain's lock is the last it takes).
_before_commit_hooks: list[tuple[int, Callable[[Session], None]]] = []
LAST = 100  # the rank of the audit chain's append: after every other hook


def before_commit_hook(fn: Callable[[Session], None] | None = None, *, rank: int = 0) -> Any:
    """Register ``fn(session)`` to run inside every commit, before it is sent; hooks of a lower rank
    run first. Usable as a decorator, with or without ``rank``."""
    def register(f: Callable[[Session], None]) -> Callable[[Session], None]:
        if all(f is not g for _, g in _before_commit_hooks):
            _before_commit_hooks.append((rank, f))
            _before_commit_hooks.sort(key=lambda pair: pair[0])  # stable: registration order within a rank
        return f

    return register if fn is None else register(fn)


def after_commit(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``fn(*args, **kwargs)`` once the current transaction has committed; forget it on rollback."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append((fn, args, kwargs))


def doom() -> None:
    """Mark the current unit of work as failed: the boundary rolls it back instead of committing."""
    if has_app_context():
        db.session.info[_DOOMED] = True


def doomed() -> bool:
    return bool(db.session.info.get(_DOOMED))


def commit() -> bool:
    """The boundary's one commit. Returns False (and rolls back) when the unit of work was doomed."""
    if db.session.info.get(_DOOMED):
        db.session.rollback()
        return False
    db.session.commit()
    return True


def rollback() -> None:
    db.session.rollback()


def release() -> None:
    """Give the session's database connection back to the pool before a boundary waits (on a child
    process, the disk, the network), so that the wait holds up no other request: with SQLite's pool of
    one it would hold up every request of the process.

    Only between reads and writes: ending the transaction keeps nothing, so anything staged, written
    or waiting for the commit is refused (RuntimeError) rather than lost. A doomed unit of work stays
    doomed. The loaded objects are expired: read again after the wait, they show what was committed
    meanwhile (a boundary that needs a row again looks it up again).
    """
    session = db.session
    staged = (session.new or session.deleted or any(session.is_modified(o) for o in session.dirty)
              or session.info.get(_WRITTEN) or session.info.get(_AFTER_COMMIT)
              or any(v for k, v in session.info.items() if isinstance(k, str) and k.startswith("uow_pending_")))
    if staged:
        raise RuntimeError("the unit of work has staged changes: commit or roll back before releasing")
    doomed_ = bool(session.info.get(_DOOMED))
    session.rollback()
    if doomed_:
        session.info[_DOOMED] = True


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    for _rank, hook in list(_before_commit_hooks):
        hook(session)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context) -> None:  # noqa: ANN001
    session.info[_WRITTEN] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state) -> None:  # noqa: ANN001
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WRITTEN] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    pending = session.info.pop(_AFTER_COMMIT, None)
    session.info.pop(_DOOMED, None)
    if pending:
        session.info.setdefault(_READY, []).extend(pending)


@event.listens_for(Session, "after_transaction_end")
def _run_after_commit(session: Session, transaction) -> None:  # noqa: ANN001
    # Run once the outermost transaction has given its connection back: with a pool of one (SQLite),
    # work that reads or writes would otherwise wait for the connection its own commit still holds.
    if transaction.parent is not None:
        return
    pending = session.info.pop(_READY, None)
    if not pending:
        return
    app = current_app._get_current_object() if has_app_context() else None
    for fn, args, kwargs in pending:
        try:
            if app is None:
                fn(*args, **kwargs)
            else:
                with app.app_context():
                    fn(*args, **kwargs)
        except Exception:  # noqa: BLE001 - the change is committed; one failed follow-up must not hide the rest
            log.exception("after-commit work %s failed", getattr(fn, "__qualname__", fn))


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction) -> None:  # noqa: ANN001
    if previous_transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_WRITTEN, None)
        session.info.pop(_AFTER_COMMIT, None)
        session.info.pop(_READY, None)
        session.info.pop(_DOOMED, None)
        for key in [k for k in session.info if isinstance(k, str) and k.startswith("uow_pending_")]:
            session.info.pop(key, None)


def pending(session: Session, key: str) -> list[Any]:
    """A list kept on the unit of work until it commits or rolls back (for the domain events)."""
    return session.info.setdefault(f"uow_pending_{key}", [])


def take_pending(session: Session, key: str) -> list[Any]:
    return session.info.pop(f"uow_pending_{key}", [])
