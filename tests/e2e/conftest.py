"""Fixtures for whole-screen browser tests."""

from __future__ import annotations

import pytest

from tests.meetings.conftest import actor, cabinet, draft, published  # noqa: F401 - fixtures reused here


@pytest.fixture
def cabinet_meeting(published, cabinet):  # noqa: F811 - pytest fixtures, imported above
    from ecabinet.extensions import db
    from ecabinet.meetings import service

    service.start_meeting(actor(cabinet["chair"]), published)
    db.session.commit()  # the services only stage: the fixture is their boundary
    return published
