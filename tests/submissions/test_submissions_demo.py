"""The demo's liaison of the Ministry of Justice and its two submissions, loaded once."""

from __future__ import annotations

from sqlalchemy import select

from ecabinet.accounts.demo import load_people
from ecabinet.accounts.models import Role, User
from ecabinet.extensions import db
from ecabinet.organisations.demo import load_organisations
from ecabinet.submissions.demo import load_submissions_demo
from ecabinet.submissions.models import Submission, SubmissionStatus
from tests.documents.app_fixtures import storage  # noqa: F401 - fixture reused here


def test_the_demo_liaison_and_submissions_are_loaded_once(app, storage):  # noqa: F811
    load_organisations()
    load_people("demo-password-123")
    lines = load_submissions_demo("demo-password-123")
    assert "lienlac.tuphap@ecabinet.gov.vn" in lines[0]
    assert load_submissions_demo("demo-password-123") == ["Demo submissions already loaded."]
    db.session.commit()
    liaison = db.session.scalars(select(User).where(User.email == "lienlac.tuphap@ecabinet.gov.vn")).one()
    assert liaison.role is Role.LIAISON and liaison.organisation == "Bộ Tư pháp"
    submissions = list(db.session.scalars(select(Submission).order_by(Submission.id)))
    assert [s.status for s in submissions] == [SubmissionStatus.SUBMITTED, SubmissionStatus.RETURNED]
    assert all(s.organisation_id == liaison.organisation_id and s.latest.documents for s in submissions)
