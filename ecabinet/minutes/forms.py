"""The form that assigns an action item: the ministry and the responsible person are picked from lists."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ecabinet.accounts.forms import PickerField, person_choices
from ecabinet.organisations.forms import organisation_choices

REQUIRED = _l("Please fill in this field.")


def _iso_date(form: FlaskForm, field: StringField) -> None:
    try:
        date.fromisoformat((field.data or "").strip())
    except ValueError as exc:
        raise ValidationError(str(_l("Give a valid due date."))) from exc


class ActionForm(FlaskForm):
    title = StringField(_l("Task"), validators=[DataRequired(message=REQUIRED), Length(max=500)])
    organisation_id = PickerField(_l("Ministry"), validators=[DataRequired(message=_l("Choose the ministry."))])
    responsible_id = PickerField(_l("Responsible person"))
    # <input type="date"> sends YYYY-MM-DD; anything else is refused in the reader's language.
    due_date = StringField(_l("Due date"), validators=[_iso_date], render_kw={"type": "date"})

    @property
    def due(self) -> date:
        return date.fromisoformat(self.due_date.data)


def action_form(formdata: object = "post") -> ActionForm:
    """The form with its pickers filled: active organisations and people."""
    form = ActionForm() if formdata == "post" else ActionForm(formdata=None)
    form.organisation_id.choices = organisation_choices(none_label=_l("(choose a ministry)"))
    form.responsible_id.choices = person_choices()
    return form
