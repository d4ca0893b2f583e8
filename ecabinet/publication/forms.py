"""The publication's forms: CSRF only; what to publish is in the URL, checked by the policy and the service."""

from __future__ import annotations

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """CSRF only."""
