"""The submission forms. The fields carry few rules of their own: the service checks every value and
names the field it refuses (``SubmissionError.field``), which the view shows under that field."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from ecabinet.core.forms import IdSelectField, WholeNumberField
from ecabinet.core.i18n import default_timezone, zone_of
from ecabinet.submissions.models import Handling, SubmissionKind, SubmissionStatus, Urgency

KIND_LABELS = {
    SubmissionKind.DECREE: _l("Decree"),
    SubmissionKind.RESOLUTION: _l("Government resolution"),
    SubmissionKind.DECISION: _l("Decision"),
    SubmissionKind.REPORT: _l("Report"),
    SubmissionKind.OTHER: _l("Other"),
}
URGENCY_LABELS = {
    Urgency.NORMAL: _l("Normal"),
    Urgency.URGENT: _l("Urgent"),
    Urgency.VERY_URGENT: _l("Very urgent"),
}
HANDLING_LABELS = {
    Handling.MEETING: _l("At a meeting"),
    Handling.WRITTEN: _l("By written opinions"),
}
STATUS_LABELS = {
    SubmissionStatus.SUBMITTED: _l("Waiting for the secretariat"),
    SubmissionStatus.RETURNED: _l("Returned for revision"),
    SubmissionStatus.ACCEPTED: _l("Accepted"),
    SubmissionStatus.WITHDRAWN: _l("Withdrawn"),
    SubmissionStatus.MERGED: _l("Merged"),
}
# The outcomes the item or the ballot it became may have (meetings' and voting's values).
OUTCOME_LABELS = {
    "adopted": _l("Adopted"),
    "adopted_by_vote": _l("Adopted"),
    "adopted_by_consent": _l("Adopted by consent"),
    "rejected": _l("Rejected"),
    "rejected_by_vote": _l("Rejected"),
    "no_quorum": _l("No quorum"),
    "partly_adopted": _l("Partly adopted"),
}
REQUIRED = _l("Please fill in this field.")
BAD_DATE = _l("Please give a date (day, month and year).")


def end_of_day(day: date | None) -> datetime | None:
    """A deadline given as a date: the end of that day, in the cabinet's time zone."""
    if day is None:
        return None
    return datetime.combine(day, time(23, 59), tzinfo=zone_of(default_timezone()))


def _choices(labels: dict[Any, Any]) -> list[tuple[str, Any]]:
    return [(key.value, label) for key, label in labels.items()]


class SubmissionForm(FlaskForm):
    title = StringField(_l("Submission title"))
    kind = SelectField(_l("Kind"), choices=_choices(KIND_LABELS), validate_choice=False)
    urgency = SelectField(_l("Urgency"), choices=_choices(URGENCY_LABELS), validate_choice=False)
    handling = SelectField(_l("Requested handling"), choices=_choices(HANDLING_LABELS), validate_choice=False)
    deadline = DateField(_l("Deadline"), validators=[InputRequired(message=REQUIRED)], format="%Y-%m-%d")
    summary = TextAreaField(_l("Summary"), validators=[Optional()])
    files = MultipleFileField(_l("Documents (PDF)"), render_kw={"accept": "application/pdf,.pdf"})


class VersionForm(FlaskForm):
    files = MultipleFileField(_l("Documents (PDF)"), render_kw={"accept": "application/pdf,.pdf"})
    note = TextAreaField(_l("What changed"), validators=[Optional()])


class ReturnForm(FlaskForm):
    comment = TextAreaField(_l("What the ministry should revise"))


class AcceptMeetingForm(FlaskForm):
    meeting_id = IdSelectField(_l("Meeting"), validate_choice=False)
    duration_minutes = WholeNumberField(_l("Planned duration (minutes)"), default=15)
    confidential = BooleanField(_l("Confidential"))


class AcceptWrittenForm(FlaskForm):
    deadline = DateField(_l("Deadline for the written opinions"), validators=[InputRequired(message=REQUIRED)],
                         format="%Y-%m-%d")


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional()])


class MergeForm(FlaskForm):
    into_id = IdSelectField(_l("Merge into"), validate_choice=False)
    comment = TextAreaField(_l("Comment"), validators=[Optional()])
