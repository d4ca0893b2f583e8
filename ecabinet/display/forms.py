from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from ecabinet.display.models import WithheldItems

WITHHELD_CHOICES = [
    (WithheldItems.TITLE.value, _l("By its title alone")),
    (WithheldItems.NOTHING.value, _l("Not at all (“An item not shown on this screen”)")),
]


class IssueDisplayForm(FlaskForm):
    label = StringField(_l("Screen"), validators=[DataRequired(message=_l("Name the screen.")), Length(max=120)],
                        description=_l("Where it is, for example “Phòng họp số 1 – màn hình chính”."))
    withheld = SelectField(_l("An item not everyone in the room may see is shown"), choices=WITHHELD_CHOICES,
                           default=WithheldItems.TITLE.value)
