"""Forms of the documents domain (CSRF on every form; uploads and annotations send the token as a header)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length


class ConfidentialForm(FlaskForm):
    confidential = BooleanField(_l("Confidential: view in the app only, no download"))


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    q = StringField(_l("Search documents and agenda items"), validators=[Length(max=200)])


class TitleForm(FlaskForm):
    title = StringField(_l("Document title"), validators=[DataRequired(), Length(max=300)])
