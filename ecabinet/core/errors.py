"""Domain errors carry an untranslated message and its parameters, so each UI can show it in its language."""

from __future__ import annotations

from typing import Any


class DomainError(ValueError):
    """A request that breaks a rule; the message says which, in words a user understands."""

    status = 400
    # Whether raising it dooms the unit of work. A failure that is itself recorded (a refused sign-in, a
    # failed signature) leaves it whole: a subclass sets False, or a service raises ``recorded_refusal``.
    dooms = True

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params
        # A broken rule dooms the unit of work: what the service staged before raising is never committed,
        # even when the boundary catches the error to show it (ecabinet/core/uow.py).
        if self.dooms:
            from ecabinet.core import uow

            uow.doom()

    @classmethod
    def recorded_refusal(cls, message: str, **params: Any) -> DomainError:
        """A refusal whose changes are the record of the refused attempt (a wrong password's audit entry, a
        failed signature's reason): it leaves the unit of work whole, so the boundary commits that record.
        Only for a service that staged nothing else before refusing."""
        error = cls.__new__(cls)
        error.dooms = False
        error.__init__(message, **params)
        return error

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message

    def translated(self) -> str:
        from flask_babel import gettext

        return gettext(self.message, **self.params)


# Said to users when the database cannot be reached; nothing of their request was saved.
DATABASE_UNAVAILABLE = ("The database is unavailable at the moment, so nothing was saved. "
                        "Please try again in a few seconds.")

# PostgreSQL error classes that mean "cannot serve now" rather than "this request is wrong": connection
# exceptions (08), operator intervention such as a shutdown or a cancelled statement (57), insufficient
# resources (53).
_PG_UNAVAILABLE_CLASSES = ("08", "57", "53")
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error")


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means the database cannot be reached or cannot answer in time (down,
    restarting, pool exhausted, statement timeout), as opposed to a bug or a broken constraint."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if type(exc.orig).__module__.startswith("sqlite3"):
        return any(text in str(exc.orig).lower() for text in _SQLITE_UNAVAILABLE)
    # psycopg gives no SQLSTATE when it could not connect at all (refused, timed out, server gone).
    return sqlstate is None or sqlstate.startswith(_PG_UNAVAILABLE_CLASSES)


def disk_full(exc: BaseException) -> bool:
    """True for an OSError saying the file system (or the user's quota) has no space left."""
    import errno

    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def forget_signed_in_user() -> None:
    """Treat the rest of this request as anonymous, so that an error page or message can be rendered
    without loading the user (and their language) from a database that is not answering."""
    from flask import current_app, g

    g._login_user = current_app.login_manager.anonymous_user()


def unavailable_answer() -> dict[str, Any]:
    """The acknowledgement of a socket event that could not run because the database is unavailable."""
    from flask_babel import gettext

    forget_signed_in_user()
    return {"ok": False, "error": "unavailable", "message": gettext(DATABASE_UNAVAILABLE)}
