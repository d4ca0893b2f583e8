"""The organisation form, and the pickers other domains' forms use to choose an organisation (or, in
``PickerField``, any record by id from a list) instead of typing it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ecabinet.core.forms import IdSelectField
from ecabinet.organisations import service
from ecabinet.organisations.models import Organisation

REQUIRED = _l("Please fill in this field.")
TOO_LONG = _l("This field can hold at most %(max)d characters.")
NOT_IN_LIST = _l("Please choose from the list: the one given is unknown or no longer offered.")
# Read by static/js/picker.js, which adds a search box above the list and says how many entries match.
SEARCH_LABEL = _l("Search the list")
MATCH_COUNT = _l("Entries found: %(num)s")


class PickerField(IdSelectField):
    """A choice of one record of a list by id, "0" (or nothing) for none: a <select> that
    static/js/picker.js gives a search box. The choices are set per request and are the allowed ones:
    an id not among them (unknown, or inactive) is refused in words, and the service checks it again."""

    def __init__(self, label: Any = None, validators: Any = None, search_label: Any = SEARCH_LABEL,
                 **kwargs: Any) -> None:
        render_kw = {"data-picker": "", "data-picker-label": search_label, "data-picker-count": MATCH_COUNT,
                     **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, minimum=0, validate_choice=False, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or (isinstance(valuelist[0], str) and not valuelist[0].strip()):
            self.data = 0
            return
        try:
            self.data = self.coerce(valuelist[0])
        except ValueError as exc:
            self.data = None
            raise ValueError(str(NOT_IN_LIST)) from exc

    def pre_validate(self, form: Any) -> None:
        # The choices offered are the allowed ones (active records, and the one the row already has).
        if self.process_errors:
            return  # already said: not an id at all
        if self.data is None or (self.data and self.data not in {value for value, *_ in self.choices or ()}):
            raise ValidationError(str(NOT_IN_LIST))

    @property
    def picked(self) -> int | None:
        """The chosen id, or None for "none"."""
        return self.data or None


def organisation_choices(keep: int | None = None, none_label: Any = None) -> list[tuple[int, Any]]:
    """The active organisations in order of precedence, and the one a row already has (``keep``) even if
    it has since been deactivated."""
    organisations: Iterable[Organisation] = service.list_organisations()
    choices: list[tuple[int, Any]] = [(0, none_label if none_label is not None else _l("(none)"))]
    for organisation in organisations:
        if organisation.active:
            choices.append((organisation.id, option_label(organisation)))
        elif organisation.id == keep:
            choices.append((organisation.id, _("%(name)s (no longer active)", name=option_label(organisation))))
    return choices


def option_label(organisation: Organisation) -> str:
    if organisation.short_name and organisation.short_name != organisation.name:
        return f"{organisation.name} ({organisation.short_name})"
    return organisation.name


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name of the organisation"),
                       validators=[DataRequired(message=REQUIRED), Length(max=service.NAME_MAX, message=TOO_LONG)])
    short_name = StringField(_l("Short name"),
                             validators=[Optional(), Length(max=service.SHORT_NAME_MAX, message=TOO_LONG)])


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change state."""
