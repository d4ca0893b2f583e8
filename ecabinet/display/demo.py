"""Demo data: a room screen for the demo meeting, whose link ``make run`` prints.

Only a token's hash is stored, so the demo's token is derived from the instance's secret key: the same
link is printed every time the demo is loaded, and no other instance's link opens this one's screen.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy import select

from ecabinet.display.models import RoomDisplay, WithheldItems
from ecabinet.display.queries import token_hash
from ecabinet.extensions import db
from ecabinet.meetings.demo import DEMO_TITLE
from ecabinet.meetings.models import Meeting

LABEL = "Phòng họp Chính phủ – màn hình chính"


def load_display_demo() -> list[str]:
    meeting = db.session.scalar(select(Meeting).where(Meeting.title == DEMO_TITLE))
    if meeting is None:
        return []
    key = str(current_app.config["SECRET_KEY"]).encode()
    token = hmac.new(key, b"ecabinet demo room display", hashlib.sha256).hexdigest()[:43]
    if db.session.scalar(select(RoomDisplay).where(RoomDisplay.token_hash == token_hash(token))) is None:
        db.session.add(RoomDisplay(meeting_id=meeting.id, label=LABEL, token_hash=token_hash(token),
                                   withheld_items=WithheldItems.TITLE))
        db.session.flush()
    return [f"Room screen of the demo meeting (open on the projector): /display/open/{token}"]
