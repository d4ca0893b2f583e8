from __future__ import annotations

from typing import TypeVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateTimeLocalField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ecabinet.accounts.forms import PickerField, person_choices
from ecabinet.core.forms import IdSelectField, WholeNumberField
from ecabinet.core.i18n import COMMON_TIMEZONES, is_known_timezone, timezone_names, zone_label
from ecabinet.meetings.models import (
    Attendance,
    CheckInMode,
    Confidentiality,
    ConflictPolicy,
    ItemKind,
    MeetingKind,
    MeetingMode,
    MeetingStatus,
    ParticipantRole,
    Position,
    QuorumRule,
)
from ecabinet.meetings.service import (
    COMMENT_MAX,
    DURATION_MAX,
    ITEM_TITLE_MAX,
    REASON_MAX,
    SUMMARY_MAX,
    TEXT_MAX,
    TITLE_MAX,
)
from ecabinet.organisations.forms import organisation_choices

F = TypeVar("F", bound=FlaskForm)

# Labels for every stored value, shared by forms and templates.
LABELS = {
    "meeting_kind": {MeetingKind.REGULAR: _l("Regular"), MeetingKind.THEMATIC: _l("Thematic"),
                     MeetingKind.EXTRAORDINARY: _l("Extraordinary")},
    "mode": {MeetingMode.IN_PERSON: _l("In person"), MeetingMode.ONLINE: _l("Online"),
             MeetingMode.HYBRID: _l("Hybrid")},
    "status": {MeetingStatus.DRAFT: _l("Draft"), MeetingStatus.PUBLISHED: _l("Published"),
               MeetingStatus.IN_SESSION: _l("In session"), MeetingStatus.ADJOURNED: _l("Adjourned"),
               MeetingStatus.CLOSED: _l("Closed")},
    "item_kind": {ItemKind.DECISION: _l("For decision"), ItemKind.DISCUSSION: _l("For discussion"),
                  ItemKind.INFORMATION: _l("For information")},
    "confidentiality": {Confidentiality.NORMAL: _l("Normal"), Confidentiality.RESTRICTED: _l("Restricted"),
                        Confidentiality.CONFIDENTIAL: _l("Confidential")},
    "conflict_policy": {ConflictPolicy.RECUSE: _l("Visible, but recused from voting and quorum"),
                        ConflictPolicy.HIDE: _l("Hidden from the member")},
    "quorum_rule": {QuorumRule.MORE_THAN_HALF: _l("More than half of the members"),
                    QuorumRule.TWO_THIRDS: _l("Two thirds of the members"),
                    QuorumRule.FIXED: _l("A fixed number of members")},
    "participant_role": {ParticipantRole.CHAIR: _l("Chair"), ParticipantRole.MEMBER: _l("Member"),
                         ParticipantRole.SECRETARY: _l("Secretariat"), ParticipantRole.GUEST: _l("Guest")},
    "attendance": {Attendance.PENDING: _l("Not answered"), Attendance.IN_PERSON: _l("Present in person"),
                   Attendance.REMOTE: _l("Present remotely"), Attendance.ABSENT: _l("Absent")},
    "check_in_mode": {CheckInMode.ROOM: _l("In the room"), CheckInMode.REMOTE: _l("Remote")},
    "position": {Position.AGREE: _l("Agree"), Position.OBJECT: _l("I object"), Position.SPEAK: _l("Want to speak")},
    "step": {"start": _l("Start the meeting"), "adjourn": _l("Adjourn"), "resume": _l("Resume"),
             "close": _l("Close the meeting")},
}


def _choices(name: str, blank: bool = False) -> list[tuple[str, object]]:
    choices = [(value.value, label) for value, label in LABELS[name].items()]
    return [("", _l("(unchanged)"))] + choices if blank else choices


def timezone_choices(current: str | None = None) -> list[tuple[str, str]]:
    """The IANA zones, the default and the common ones first. A stored zone that is no longer in the
    list is kept at the top, so that editing the meeting shows it (saving then asks for a known one)."""
    names = timezone_names()
    if current and current not in names:
        names = [current] + names
    return [(name, zone_label(name)) for name in names]


def _known_timezone(form: FlaskForm, field: SelectField) -> None:
    zone = (field.data or "").strip()
    if zone and not is_known_timezone(zone):
        # gettext, not lazy_gettext: a lazy string counts as safe markup in templates, and this one
        # carries what the reader typed.
        raise ValidationError(_("“%(zone)s” is not a known time zone: choose one from the list, "
                                "e.g. Asia/Ho_Chi_Minh.", zone=zone[:64]))


class MeetingForm(FlaskForm):
    title = StringField(_l("Meeting title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    kind = SelectField(_l("Kind"), choices=_choices("meeting_kind"))
    starts_at = DateTimeLocalField(_l("Start"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Expected end"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    # The choices are set per request (timezone_choices); the value is checked against the zone
    # database by _known_timezone, which names the refused zone rather than WTForms' "Not a valid choice".
    timezone = SelectField(_l("Time zone"), validate_choice=False, validators=[DataRequired(), _known_timezone],
                           default=COMMON_TIMEZONES[0])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=TEXT_MAX)])
    mode = SelectField(_l("Mode"), choices=_choices("mode"))
    chair_id = IdSelectField(_l("Chair"), minimum=0)  # 0: "(none)"
    conflict_policy = SelectField(_l("When a member declares an interest in an item"),
                                  choices=_choices("conflict_policy"))
    quorum_rule = SelectField(_l("Quorum"), choices=_choices("quorum_rule"))
    quorum_fixed = WholeNumberField(_l("Fixed quorum (number of members)"),
                                    validators=[Optional(), NumberRange(min=1, max=500)])


class CopyForm(FlaskForm):
    title = StringField(_l("Meeting title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    starts_at = DateTimeLocalField(_l("Start"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])


class ItemForm(FlaskForm):
    title = StringField(_l("Item title"), validators=[DataRequired(), Length(max=ITEM_TITLE_MAX)])
    # Picked from the lists of organisations and people (choices set per request: offer_item_choices).
    organisation_id = PickerField(_l("Presenting ministry"))
    presenter_id = PickerField(_l("Presenter"))
    duration_minutes = WholeNumberField(_l("Planned duration (minutes)"), default=10,
                                        validators=[DataRequired(), NumberRange(min=1, max=DURATION_MAX)])
    kind = SelectField(_l("Kind"), choices=_choices("item_kind"))
    confidentiality = SelectField(_l("Confidentiality"), choices=_choices("confidentiality"))
    summary = TextAreaField(_l("Summary (one short page)"), validators=[Optional(), Length(max=SUMMARY_MAX)])


class BulkForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=_choices("item_kind", blank=True), validators=[Optional()])
    confidentiality = SelectField(_l("Confidentiality"), choices=_choices("confidentiality", blank=True),
                                  validators=[Optional()])
    organisation_id = PickerField(_l("Presenting ministry"))  # 0: unchanged
    duration_minutes = WholeNumberField(_l("Planned duration (minutes)"),
                                        validators=[Optional(), NumberRange(min=1, max=DURATION_MAX)])


class PositionForm(FlaskForm):
    position = RadioField(_l("My position"), choices=_choices("position"), validators=[DataRequired()])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=COMMENT_MAX)])


class InterestForm(FlaskForm):
    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=REASON_MAX)])


class ResponseForm(FlaskForm):
    attendance = RadioField(_l("My attendance"), validators=[DataRequired()],
                            choices=[(a.value, LABELS["attendance"][a])
                                     for a in (Attendance.IN_PERSON, Attendance.REMOTE, Attendance.ABSENT)])
    substitute_name = StringField(_l("Substitute (if absent), e.g. a deputy minister"),
                                  validators=[Optional(), Length(max=TEXT_MAX)])


class CheckInForm(FlaskForm):
    mode = SelectField(_l("Where"), choices=_choices("check_in_mode"))


class ParticipantForm(FlaskForm):
    user_id = IdSelectField(_l("Person"))
    role = SelectField(_l("Role in the meeting"),
                       choices=[(r.value, LABELS["participant_role"][r])
                                for r in (ParticipantRole.MEMBER, ParticipantRole.SECRETARY)])


class GuestForm(FlaskForm):
    user_id = IdSelectField(_l("Guest"))


# --- the secretariat's bulk work ----------------------------------------------------------------------

class CheckInManyForm(FlaskForm):
    mode = SelectField(_l("Where"), choices=_choices("check_in_mode"))


class TemplateNewForm(FlaskForm):
    name = StringField(_l("Template name"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    # 0: an empty template; otherwise the meeting whose agenda it starts from.
    meeting_id = IdSelectField(_l("Start from the agenda of"), minimum=0)


class TemplateForm(FlaskForm):
    """The name; the items come as numbered rows (item-N-title, …) read by the view."""

    name = StringField(_l("Template name"), validators=[DataRequired(), Length(max=TITLE_MAX)])


class ImportForm(FlaskForm):
    file = FileField(_l("Spreadsheet (CSV or Excel .xlsx)"))


class ImportConfirmForm(FlaskForm):
    rows = HiddenField()


def offer_item_choices(form: F, organisation_id: int | None = None, presenter_id: int | None = None) -> F:
    """Fill the pickers of an item form (or of the bulk form, whose "none" means "unchanged")."""
    if isinstance(form, BulkForm):
        form.organisation_id.choices = organisation_choices(none_label=_l("(unchanged)"))
    elif isinstance(form, ItemForm):
        form.organisation_id.choices = organisation_choices(keep=organisation_id)
        form.presenter_id.choices = person_choices(keep=presenter_id)
    return form
