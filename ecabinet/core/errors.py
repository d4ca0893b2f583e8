"""Domain errors carry an untranslated message and its parameters, so each UI can show it in its language."""

from __future__ import annotations

from typing import Any


class DomainError(ValueError):
    """A request that breaks a rule; the message says which, in words a user understands."""

    status = 400

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message

    def translated(self) -> str:
        from flask_babel import gettext

        return gettext(self.message, **self.params)
