from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ecabinet.core.forms import IdSelectField
from ecabinet.voting.models import BallotKind, BallotStatus, VoteRule
from ecabinet.voting.service import TEXT_MAX, TITLE_MAX

LABELS = {
    "rule": {VoteRule.MAJORITY_CAST: _l("A majority of the votes cast"),
             VoteRule.MAJORITY_ALL: _l("A majority of all members"),
             VoteRule.TWO_THIRDS: _l("Two thirds of the votes cast"),
             VoteRule.UNANIMITY: _l("Unanimity")},
    "kind": {BallotKind.LIVE: _l("Live vote"), BallotKind.WRITTEN: _l("Written opinions"),
             BallotKind.CONSENT: _l("Consent block")},
    "status": {BallotStatus.DRAFT: _l("Draft"), BallotStatus.APPROVED: _l("Approved"),
               BallotStatus.OPEN: _l("Open"), BallotStatus.COUNTING: _l("Being counted"),
               BallotStatus.CLOSED: _l("Closed"),
               BallotStatus.CANCELLED: _l("Withdrawn")},
    "outcome": {"adopted": _l("Adopted"), "rejected": _l("Rejected"), "no_quorum": _l("No quorum"),
                "partly_adopted": _l("Partly adopted")},
    "option": {"approve": _l("Approve"), "reject": _l("Reject"), "abstain": _l("Abstain"), "agree": _l("Agree"),
               "disagree": _l("Disagree"), "other": _l("Other opinion")},
}


def _rules() -> list[tuple[str, object]]:
    return [(k.value, v) for k, v in LABELS["rule"].items()]


class _Rules(FlaskForm):
    rule = SelectField(_l("Rule"), choices=_rules())
    abstentions_count = BooleanField(_l("Abstentions count in the base"))
    secret = BooleanField(_l("Secret ballot"))
    allow_change = BooleanField(_l("Voters may change their vote until closing"), default=True)


class WrittenBallotForm(_Rules):
    title = StringField(_l("Ballot title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    description = TextAreaField(_l("Explanation"), validators=[Optional(), Length(max=TEXT_MAX)])
    questions = TextAreaField(_l("Questions (one per line)"), validators=[DataRequired()])
    attachments = TextAreaField(_l("Attached documents (one per line: title | link)"), validators=[Optional()])
    deadline = DateTimeLocalField(_l("Deadline"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])


class LiveBallotForm(_Rules):
    title = StringField(_l("Resolution"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    item_id = IdSelectField(_l("Agenda item"))
    show_running = BooleanField(_l("Show running counts while the vote is open"))
    allow_substitutes = BooleanField(_l("Substitutes may vote where the chair allows it"), default=True)


class EmptyForm(FlaskForm):
    pass


class ReauthForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    code = StringField(_l("Code from the authenticator app"), validators=[Optional(), Length(max=10)])


class SealForm(FlaskForm):
    """Open a layer of a secret ballot's seal; the password only when the session carries no key."""
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=256)])
    code = StringField(_l("Code from the authenticator app"), validators=[Optional(), Length(max=10)])
