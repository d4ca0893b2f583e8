"""Form fields whose numbers stay within what the database stores (``MAX_ID``, as for payloads).

WTForms' ``IntegerField`` and ``SelectField(coerce=int)`` take any length of digits (and "1_000", other
scripts' digits); an id past 2^31-1 names nothing and PostgreSQL would refuse to compare it (a 500).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wtforms import IntegerField, SelectField

from ecabinet.core.schemas import whole_number


def id_number(minimum: int = 1) -> Callable[[Any], int]:
    """``coerce`` of an id choice: an id (or ``minimum``, 0 for a "(none)" choice), else ``ValueError``,
    which the field reports as "not a valid choice"."""

    def coerce(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError("not an id")
        number = whole_number(str(value), minimum=minimum)
        if number is None:
            raise ValueError("not an id")
        return number

    return coerce


class IdSelectField(SelectField):
    """A choice of a record by id (a person, an agenda item); ``minimum=0`` admits a "(none)" choice of 0."""

    def __init__(self, label: Any = None, validators: Any = None, minimum: int = 1, **kwargs: Any) -> None:
        kwargs.setdefault("coerce", id_number(minimum))
        super().__init__(label, validators, **kwargs)


class WholeNumberField(IntegerField):
    """A whole number from ``minimum`` to ``MAX_ID``; the field's own validators narrow it further."""

    def __init__(self, label: Any = None, validators: Any = None, minimum: int = 0, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.minimum = minimum

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        self.data = whole_number(valuelist[0], minimum=self.minimum) if isinstance(valuelist[0], str) else None
        if self.data is None and str(valuelist[0]).strip():
            raise ValueError(self.gettext("Not a valid integer value."))
