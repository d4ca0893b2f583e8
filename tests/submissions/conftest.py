"""Fixtures for the submissions tests: two ministries with a liaison each, the cabinet, a published
meeting, a small PDF, and helpers that drive the pages as the users would."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

from ecabinet.accounts import service as accounts
from ecabinet.accounts.models import Role
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from tests.conftest import PASSWORD
from tests.documents.app_fixtures import briefing, briefing_v2, storage  # noqa: F401 - fixtures reused here
from tests.helpers import csrf_from, login
from tests.meetings.conftest import cabinet, draft, published  # noqa: F401 - fixtures reused here

SYSTEM = Actor.system("test")
JUSTICE = "lienlac.tuphap@example.gov.vn"
HEALTH = "lienlac.yte@example.gov.vn"


@pytest.fixture
def ministries(app):
    from ecabinet.organisations import service as organisations

    made = {name: organisations.create(SYSTEM, organisations.OrganisationData(name=name))
            for name in ("Bộ Tư pháp", "Bộ Y tế")}
    db.session.commit()
    return made


@pytest.fixture
def liaisons(cabinet, ministries, storage):  # noqa: F811
    made = {}
    for email, ministry in ((JUSTICE, "Bộ Tư pháp"), (HEALTH, "Bộ Y tế")):
        made[email] = accounts.create_user(SYSTEM, accounts.UserData(
            email=email, name=f"Liên lạc {ministry}", role=Role.LIAISON,
            organisation_id=ministries[ministry].id), PASSWORD)
    db.session.commit()
    return made


def as_user(app, email: str):
    """A client of its own, signed in as ``email``."""
    from tests.conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    client = app.test_client()
    response = login(client, email, PASSWORD)
    assert response.status_code == 302, email
    return client


def token(client, path: str) -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def in_days(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def submit(client, pdf: bytes | None, **fields):
    """The liaison's form, posted; ``pdf`` None sends no file."""
    data = {"title": "Dự thảo Nghị định về công chứng", "kind": "decree", "urgency": "urgent",
            "handling": "meeting", "deadline": in_days(20), "summary": "Kính trình Chính phủ.",
            "csrf_token": token(client, "/submissions/new"), **fields}
    if pdf is not None:
        data["files"] = [(io.BytesIO(pdf), "to-trinh.pdf")]
    return client.post("/submissions/new", data=data, content_type="multipart/form-data")


def step(client, submission_id: int, action: str, pdf: bytes | None = None, **fields):
    """A POST of one of the submission page's forms."""
    data = {"csrf_token": token(client, f"/submissions/{submission_id}"), **fields}
    if pdf is not None:
        data["files"] = [(io.BytesIO(pdf), "to-trinh-v2.pdf")]
    return client.post(f"/submissions/{submission_id}/{action}", data=data, content_type="multipart/form-data")


@pytest.fixture
def submitted(app, liaisons, briefing):  # noqa: F811
    """A submission of the Ministry of Justice, sent through the page."""
    from ecabinet.submissions.models import Submission

    response = submit(as_user(app, JUSTICE), briefing)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.rollback()
    return db.session.query(Submission).one()
