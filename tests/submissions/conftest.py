"""Fixtures for the submissions tests: two ministries with a liaison each, the cabinet, a published
meeting, a small PDF, helpers that drive the pages as the users would, and a liaison sending a
submission in Chromium."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from ecabinet.accounts import service as accounts
from ecabinet.accounts.models import Role
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from tests.browser import sign_in, violations
from tests.conftest import PASSWORD
from tests.documents.app_fixtures import briefing, briefing_v2, storage  # noqa: F401 - fixtures reused here
from tests.helpers import csrf_from, login
from tests.meetings.conftest import cabinet, draft, published  # noqa: F401 - fixtures reused here

SYSTEM = Actor.system("test")
JUSTICE = "lienlac.tuphap@example.gov.vn"
HEALTH = "lienlac.yte@example.gov.vn"
BROWSER_SIZE = (1366, 1024)


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


@pytest.fixture
def liaison_sends(browser, live_server, liaisons, briefing) -> Iterator[Callable[..., Page]]:  # noqa: F811
    """In Chromium: the Ministry of Justice's liaison fills in the new submission form, with ``briefing`` as
    its PDF, and sends it; axe-core finds no serious violation on the form. Returns the liaison's page, on
    the submission just sent; its browser context is closed after the test."""
    contexts = []

    def send(title: str, *, kind: str, urgency: str, handling: str, deadline_days: int) -> Page:
        context, page = sign_in(browser, live_server.url, JUSTICE, "/submissions/new", BROWSER_SIZE)
        contexts.append(context)
        page.get_by_label("Tên hồ sơ").fill(title)
        page.get_by_label("Loại", exact=True).select_option(kind)
        page.get_by_label("Độ khẩn").select_option(urgency)
        page.get_by_label("Đề nghị hình thức xử lý").select_option(handling)
        page.get_by_label("Hạn trả lời").fill(in_days(deadline_days))
        page.get_by_label("Tài liệu (PDF)").set_input_files(
            files=[{"name": "to-trinh.pdf", "mimeType": "application/pdf", "buffer": briefing}])
        assert violations(page) == []
        page.get_by_role("button", name="Gửi bộ phận thư ký").click()
        expect(page.get_by_test_id("submission-status")).to_have_text("Chờ bộ phận thư ký xử lý")
        return page

    yield send
    for context in contexts:
        context.close()
