"""Fixtures for the minutes: a meeting run to its close, and a signing key pair."""

from __future__ import annotations

import pytest

from tests.meetings.conftest import actor, cabinet, draft, published  # noqa: F401 - fixtures reused here


@pytest.fixture(scope="session")
def signing_pair(tmp_path_factory):
    from ecabinet.minutes.signing import make_self_signed

    folder = tmp_path_factory.mktemp("signing")
    key, cert = folder / "key.pem", folder / "cert.pem"
    make_self_signed(key, cert)
    return key, cert


@pytest.fixture
def closed_meeting(published, cabinet, app, signing_pair):  # noqa: F811 - pytest fixtures, imported above
    """A meeting that was held: members checked in, one spoke, then it was adjourned and closed."""
    from ecabinet.extensions import db
    from ecabinet.live import service as live
    from ecabinet.meetings import service
    from ecabinet.meetings.models import CheckInMode

    app.config["SIGNING_KEY"], app.config["SIGNING_CERT"] = str(signing_pair[0]), str(signing_pair[1])
    chair = actor(cabinet["chair"])
    service.start_meeting(chair, published)
    for name in ("member", "member2", "member3", "chair"):
        participant = service.participant_of(published, cabinet[name])
        service.check_in(actor(cabinet[name]), published, participant, CheckInMode.ROOM)
    first = published.items[0]
    live.set_item(chair, published, first.id)
    request = live.request_floor(actor(cabinet["member2"]), published, first.id)
    live.grant_floor(chair, published, request.id)
    service.adjourn_meeting(chair, published)
    service.close_meeting(chair, published)
    db.session.commit()  # services only flush: the fixture is the boundary
    return published
