"""Background tasks end with their app: none outlives it to read a database that is gone."""

from __future__ import annotations

import pytest

from ecabinet.core import background
from ecabinet.live import presence
from ecabinet.voting import tally

pytestmark = pytest.mark.usefixtures("app")


def test_stopping_the_app_ends_its_tally_sender_and_presence_flusher(app):
    tally.changed(ballot_id=1, meeting_id=1)  # no such ballot: the sender finds nothing to send, and waits
    presence.start(app)
    assert background.alive(app) == 2

    background.stop(app)

    assert background.alive(app) == 0


def test_a_stopped_app_starts_no_more_tasks(app):
    background.stop(app)

    tally.changed(ballot_id=1, meeting_id=1)
    presence.start(app)

    assert background.alive(app) == 0
