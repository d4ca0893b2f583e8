from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ecabinet.accounts.models import Role
from ecabinet.accounts.service import FIELD_LIMITS, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.SECRETARY: _l("Secretariat"),
    Role.CHAIR: _l("Chair"),
    Role.MEMBER: _l("Member"),
    Role.GUEST: _l("Guest"),
}


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=FIELD_LIMITS["email"])])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])


class CodeForm(FlaskForm):
    code = StringField(_l("6-digit code"), validators=[DataRequired(), Length(min=6, max=7)])


class UserForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=FIELD_LIMITS["name"])])
    email = EmailField(_l("Email"), validators=[DataRequired(),
                                                Length(max=FIELD_LIMITS["email"])])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=FIELD_LIMITS["title"])])
    organisation = StringField(_l("Ministry or organisation"),
                               validators=[Optional(), Length(max=FIELD_LIMITS["organisation"])])
    role = SelectField(_l("Role"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()])


class NewUserForm(UserForm):
    password = PasswordField(_l("Initial password"),
                             validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)])


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("New password"),
                             validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    password = PasswordField(_l("New password"),
                             validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)])


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change state."""


class RoleSettingsForm(FlaskForm):
    admin = BooleanField(ROLE_LABELS[Role.ADMIN])
    secretary = BooleanField(ROLE_LABELS[Role.SECRETARY])
    chair = BooleanField(ROLE_LABELS[Role.CHAIR])
    member = BooleanField(ROLE_LABELS[Role.MEMBER])
    guest = BooleanField(ROLE_LABELS[Role.GUEST])
