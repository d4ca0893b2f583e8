"""Payload schemas: every Socket.IO payload and JSON body is checked by a pydantic model before any rule runs.

Each domain declares its models in its own ``schemas.py`` on top of the pieces here:

- ``Payload``, the base model: strict types (``"1"`` and ``true`` are not ids), unknown fields ignored;
- ``Id`` (1..2^31-1, what the id columns store), ``WholeNumber``, ``Ids(n)`` and ``Text(n)`` (no lone
  surrogates, a maximum length), each failing with one short message;
- ``validate(schema, data)``: the model, or ``InvalidPayload(fields)`` with one message per field path;
- ``json_body(schema)``: the same for a view's JSON body (a failure is answered with a 400 by the handler
  ``init_payloads`` registers);
- ``PayloadJSON``: the JSON module of the Socket.IO server, whose ``loads`` gives odd packets an answer
  (a nesting too deep or a number too long reaches the guard as a marker instead of failing the packet);
- ``BoundedIntConverter``: ``<int:...>`` in URLs, so an id past the database's range is a 404;
- ``arg_int`` and ``form_int``: whole numbers from a query string or a form, within the same range.

Unknown fields are ignored rather than forbidden: a tablet still running the previous page may send a
field the server no longer reads (or one payload to several events), and a meeting must not stop over it.
Ignoring them is safe because rules and services receive only the declared fields (``Payload.given``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from flask import Flask, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WrapValidator
from pydantic_core import PydanticCustomError
from werkzeug.datastructures import MultiDict
from werkzeug.routing.converters import IntegerConverter

# The ids are INTEGER columns: 2^31-1 on PostgreSQL, the narrower of the two databases (SQLite's INTEGER
# goes to 2^63-1). A larger number can name nothing, and PostgreSQL would refuse to compare it (a 500).
MAX_ID = 2**31 - 1
ID_MESSAGE = f"must be a whole number between 1 and {MAX_ID}"
WHOLE_NUMBER_MESSAGE = f"must be a whole number between 0 and {MAX_ID}"
PAYLOAD = "payload"  # the field path of the payload as a whole
NOT_AN_OBJECT = "must be an object"
TOO_DEEP_MESSAGE = "is nested too deeply"

# Python refuses to turn more than 4,300 digits into an int (and is slow well before): longer literals
# reach the schema as a marker, which no number field accepts.
MAX_NUMBER_DIGITS = 100


class _Unreadable:
    """A part of a JSON payload that was not decoded: too deeply nested, or a number too long."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<{self.what}>"


TOO_DEEP = _Unreadable("nested too deeply")
TOO_LONG_NUMBER = _Unreadable("number too long")


class InvalidPayload(Exception):
    """A payload that does not fit its schema: ``fields`` maps each field path to one short message."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(", ".join(f"{path}: {message}" for path, message in fields.items()))
        self.fields = fields

    def socket_answer(self) -> dict[str, Any]:
        return {"ok": False, "error": "invalid", "fields": self.fields}

    def http_answer(self) -> tuple[Any, int]:
        return jsonify(error="invalid", fields=self.fields), 400


# --- field types ----------------------------------------------------------------------------------

def one_message(kind: str, message: Callable[[Any], str]) -> WrapValidator:
    """Replace pydantic's errors for a field (several, for a union) by one message of ours."""

    def validate(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError(kind, message(value)) from None

    return WrapValidator(validate)


Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID), one_message("id", lambda _: ID_MESSAGE)]
WholeNumber = Annotated[int, Field(strict=True, ge=0, le=MAX_ID),
                        one_message("whole_number", lambda _: WHOLE_NUMBER_MESSAGE)]


def Text(max_length: int) -> Any:  # noqa: N802 - used as a type: ``body: Text(2000)``
    """A string of at most ``max_length`` characters, valid Unicode (a lone surrogate cannot be stored)."""

    def message(value: Any) -> str:
        if isinstance(value, str) and len(value) <= max_length:
            return "must be valid Unicode text (no lone surrogates)"
        return f"must be text of at most {max_length} characters"

    return Annotated[str, Field(strict=True, max_length=max_length), one_message("text", message)]


def Ids(max_items: int) -> Any:  # noqa: N802 - used as a type: ``order: Ids(1000)``
    """A list of at most ``max_items`` ids (an item that is not an id is named by its index)."""
    return Annotated[list[Id], Field(max_length=max_items)]


class Payload(BaseModel):
    """The base of every payload schema. Strict: no "1" for 1, no true for 1, no 1.0 for 1."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, hide_input_in_errors=True)

    def given(self) -> dict[str, Any]:
        """The fields the sender gave, validated: rules and services keep reading ``data.get(...)``."""
        return self.model_dump(exclude_unset=True)


# --- validation -----------------------------------------------------------------------------------

_MESSAGES = {
    "missing": "is required",
    "bool_type": "must be true or false",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": NOT_AN_OBJECT,
    "too_long": "must have at most {max_length} items",
    "too_short": "must have at least {min_length} items",
    "literal_error": "must be one of {expected}",
}

M = TypeVar("M", bound=BaseModel)


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or PAYLOAD


def _message(error: Any) -> str:
    template = _MESSAGES.get(error["type"])
    if template is None:
        return error["msg"]
    return template.format(**error.get("ctx", {}))


def validate(schema: type[M], data: Any) -> M:
    """``data`` as a ``schema`` model, or ``InvalidPayload`` naming each wrong field (the first error of each)."""
    if data is TOO_DEEP:
        raise InvalidPayload({PAYLOAD: TOO_DEEP_MESSAGE})
    if not isinstance(data, dict):
        raise InvalidPayload({PAYLOAD: NOT_AN_OBJECT})
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors(include_url=False, include_input=False):
            fields.setdefault(_path(error["loc"]), _message(error))
        raise InvalidPayload(fields) from None
    except RecursionError:
        raise InvalidPayload({PAYLOAD: TOO_DEEP_MESSAGE}) from None


def json_body(schema: type[M]) -> M:
    """The request's JSON body as a ``schema`` model; anything else raises ``InvalidPayload`` (a 400)."""
    try:
        data = request.get_json(silent=True)  # not JSON, or not declared as JSON: None, "must be an object"
    except RecursionError:  # Flask lets the decoder's RecursionError through (it is not a ValueError)
        data = TOO_DEEP
    return validate(schema, data)


# --- the Socket.IO packets' JSON --------------------------------------------------------------------

def _parse_int(digits: str) -> int | _Unreadable:
    return int(digits) if len(digits) <= MAX_NUMBER_DIGITS else TOO_LONG_NUMBER


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\n\r":
        at += 1
    return at


def _end_of_value(text: str, start: int) -> int:
    """The index after the array or object that starts at ``start``, found without recursion."""
    depth, in_string, escaped = 0, False, False
    for at in range(start, len(text)):
        char = text[at]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return at + 1
    raise json.JSONDecodeError("Unterminated array or object", text, start)


def _loads_shallow(text: str) -> Any:
    """A Socket.IO packet ``[event, *args]`` whose arguments are decoded one by one: an argument the
    decoder cannot descend into becomes ``TOO_DEEP``, so the event still reaches its guard and is answered."""
    decoder = json.JSONDecoder(parse_int=_parse_int)
    at = _skip_space(text, 0)
    if not text.startswith("[", at):
        return TOO_DEEP
    items: list[Any] = []
    at = _skip_space(text, at + 1)
    if text.startswith("]", at):
        return items
    while True:
        try:
            value, end = decoder.raw_decode(text, at)
        except RecursionError:
            value, end = TOO_DEEP, _end_of_value(text, at)
        items.append(value)
        at = _skip_space(text, end)
        if text.startswith(",", at):
            at = _skip_space(text, at + 1)
        elif text.startswith("]", at) and _skip_space(text, at + 1) == len(text):
            return items
        else:
            raise json.JSONDecodeError("Expecting ',' or ']'", text, at)


class PayloadJSON:
    """The JSON module given to Flask-SocketIO (``json=``). ``dumps`` is the standard one; ``loads`` never
    fails a well-formed packet for its depth or its numbers: a packet that fails to decode is dropped by
    python-socketio before any handler runs, and the tablet would wait for an answer that never comes."""

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_int", _parse_int)
        try:
            return json.loads(text, **kwargs)
        except RecursionError:
            return _loads_shallow(text.decode() if isinstance(text, bytes) else text)


# --- query strings and forms ------------------------------------------------------------------------

def whole_number(raw: str | None, *, minimum: int = 1) -> int | None:
    """``raw`` as a whole number from ``minimum`` to ``MAX_ID``, or ``None``. Only ASCII digits: ``int()``
    would also take "1_000", "+5" and other scripts' digits, and any length."""
    digits = (raw or "").strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) > len(str(MAX_ID)):
        return None
    number = int(digits)
    return number if minimum <= number <= MAX_ID else None


def arg_int(name: str, *, minimum: int = 1) -> int | None:
    """A number of the query string (a filter, a page, a version): absent when malformed or out of range.
    A link's number is a hint, not an order: one that names nothing shows the unfiltered page."""
    return whole_number(request.args.get(name), minimum=minimum)


def form_int(name: str, *, minimum: int = 1, values: MultiDict[str, str] | None = None) -> int | None:
    """A number of the posted form: ``None`` when absent or empty, ``InvalidPayload`` (a 400 naming the field)
    when malformed or out of range: a form's number names what to act on, so acting on a guess is wrong."""
    raw = (request.form if values is None else values).get(name)
    if raw is None or not raw.strip():
        return None
    number = whole_number(raw, minimum=minimum)
    if number is None:
        raise InvalidPayload({name: ID_MESSAGE if minimum == 1 else WHOLE_NUMBER_MESSAGE if minimum == 0
                              else f"must be a whole number between {minimum} and {MAX_ID}"})
    return number


# --- URLs and the app --------------------------------------------------------------------------------

class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` up to the largest id: a larger number names nothing (404), where the database or
    its driver would refuse it (a 500)."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,  # noqa: A002 - werkzeug's names
                 max: int | None = MAX_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=_within_ids(max), signed=signed)


def _within_ids(limit: int | None) -> int:
    """A route may ask for a lower bound than the database's, never a higher one."""
    return MAX_ID if limit is None else min(limit, MAX_ID)


def init_payloads(app: Flask) -> None:
    """Before the blueprints are registered: their rules take the converter when they are added."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.register_error_handler(InvalidPayload, lambda exc: exc.http_answer())
