from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional, ValidationError

from ecabinet.accounts.models import Role, User
from ecabinet.accounts.service import FIELD_LIMITS, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, TEXT_SIZES
from ecabinet.extensions import db
from ecabinet.organisations.forms import PickerField

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.SECRETARY: _l("Secretariat"),
    Role.CHAIR: _l("Chair"),
    Role.MEMBER: _l("Member"),
    Role.GUEST: _l("Guest"),
    Role.LIAISON: _l("Ministry liaison"),
}


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=FIELD_LIMITS["email"])])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])


class CodeForm(FlaskForm):
    code = StringField(_l("6-digit code"), validators=[DataRequired(), Length(min=6, max=7)])


# The admin's forms say what is wrong in the reader's language: WTForms has no Vietnamese of its own.
REQUIRED = _l("Please fill in this field.")
TOO_LONG = _l("This field can hold at most %(max)d characters.")
PASSWORD_LENGTH = _l("The password must be between %(min)d and %(max)d characters long.")
ROLE_CHOICE = _l("Please choose a role from the list.")
LIAISON_MINISTRY = _l("A ministry liaison must belong to a ministry: please choose it from the list.")


def _required() -> DataRequired:
    return DataRequired(message=REQUIRED)


def _at_most(limit: int) -> Length:
    return Length(max=limit, message=TOO_LONG)


def _password_length() -> Length:
    return Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH, message=PASSWORD_LENGTH)


class UserForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[_required(), _at_most(FIELD_LIMITS["name"])])
    email = EmailField(_l("Email"), validators=[_required(), _at_most(FIELD_LIMITS["email"])])
    title = StringField(_l("Title"), validators=[Optional(), _at_most(FIELD_LIMITS["title"])])
    # Chosen from the list of organisations (choices set per request: organisation_choices).
    organisation_id = PickerField(_l("Ministry or organisation"))
    # A new account is a member's unless the admin chooses otherwise: the least power is the safe default.
    # The default only fills the blank form: a posted form without a role is refused, never read as "member".
    role = SelectField(_l("Role"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()],
                       default=Role.MEMBER.value, validate_choice=False,
                       validators=[InputRequired(message=ROLE_CHOICE),
                                   AnyOf([r.value for r in Role], message=ROLE_CHOICE)])

    def validate_organisation_id(self, field: PickerField) -> None:
        # A liaison acts for one ministry and sees only its submissions: without one they could do nothing.
        if self.role.data == Role.LIAISON.value and not field.data:
            raise ValidationError(LIAISON_MINISTRY)


class NewUserForm(UserForm):
    password = PasswordField(_l("Initial password"), validators=[_required(), _password_length()])


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[_required(), _password_length()])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    password = PasswordField(_l("New password"),
                             validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)])


TEXT_SIZE_CHOICE = _l("Please choose a text size from the list: normal or large.")


class TextSizeForm(FlaskForm):
    # validate_choice=False: an unknown value gets our message (in the reader's language), not WTForms' own.
    text_size = RadioField(_l("Text size"), choices=[("normal", _l("Normal text")), ("large", _l("Large text"))],
                           validate_choice=False,
                           validators=[InputRequired(message=TEXT_SIZE_CHOICE),
                                       AnyOf(list(TEXT_SIZES), message=TEXT_SIZE_CHOICE)])


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change state."""


class RoleSettingsForm(FlaskForm):
    admin = BooleanField(ROLE_LABELS[Role.ADMIN])
    secretary = BooleanField(ROLE_LABELS[Role.SECRETARY])
    chair = BooleanField(ROLE_LABELS[Role.CHAIR])
    member = BooleanField(ROLE_LABELS[Role.MEMBER])
    guest = BooleanField(ROLE_LABELS[Role.GUEST])
    liaison = BooleanField(ROLE_LABELS[Role.LIAISON])


def person_label(user: User) -> str:
    """How a person is offered in a picker: name, then title and organisation, which the search also reads."""
    about = ", ".join(part for part in (user.title, user.organisation) if part)
    return f"{user.name} — {about}" if about else user.name


def person_choices(keep: int | None = None, none_label: Any = None) -> list[tuple[int, Any]]:
    """Active users by name for a person picker (``PickerField``), and the one a row already has
    (``keep``) even if the account has since been disabled."""
    query = select(User).where(or_(User.active.is_(True), User.id == (keep or 0))).order_by(User.name, User.id)
    choices: list[tuple[int, Any]] = [(0, none_label if none_label is not None else _l("(none)"))]
    for user in db.session.scalars(query):
        label = person_label(user)
        choices.append((user.id, label if user.active else _("%(name)s (account disabled)", name=label)))
    return choices
