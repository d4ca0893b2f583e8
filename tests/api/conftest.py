"""A small world for the API: two ministries, a published meeting, API clients and their tokens.

The Ministry of Finance has a member in the meeting and presents its first item; the Ministry of Foreign
Affairs takes no part and presents only the second item, which is restricted."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest

from ecabinet.api import service as api
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from tests.documents.app_fixtures import briefing  # noqa: F401 - fixture reused here
from tests.meetings.conftest import actor, cabinet, draft, published  # noqa: F401 - fixtures reused here

ADMIN = Actor.system("test")


@pytest.fixture
def world(app, published, cabinet, briefing, tmp_path):  # noqa: F811
    from ecabinet.documents import service as documents
    from ecabinet.meetings import service as meetings
    from ecabinet.meetings.models import Confidentiality, ParticipantRole
    from ecabinet.minutes import service as minutes
    from ecabinet.organisations import service as organisations
    from ecabinet.voting import service as voting
    from ecabinet.voting.models import BallotStatus

    secretary = actor(cabinet["secretary"])
    finance = organisations.create(secretary, organisations.OrganisationData(name="Bộ Tài chính"))
    foreign = organisations.create(secretary, organisations.OrganisationData(name="Bộ Ngoại giao"))
    member = cabinet["member"]
    member.organisation_id, member.organisation = finance.id, finance.name
    first, second, third = published.items
    first.organisation_id = finance.id
    second.organisation_id, second.confidentiality = foreign.id, Confidentiality.RESTRICTED
    if meetings.participant_of(published, member) is None:
        meetings.add_participant(secretary, published, member, ParticipantRole.MEMBER)
    first.outcome = "adopted"
    app.config["STORAGE_DIR"] = str(tmp_path / "storage")
    doc_first = documents.upload(secretary, first, io.BytesIO(briefing), "to-trinh.pdf")
    doc_second = documents.upload(secretary, second, io.BytesIO(briefing), "mat.pdf")
    ballot = voting.create_ballot(secretary, voting.BallotData(
        title="Thông qua Nghị quyết", kind="live", meeting_id=published.id, item_id=first.id))
    ballot.status, ballot.outcome, ballot.closed_at = BallotStatus.CLOSED, "adopted", datetime.now(UTC)
    hidden_ballot = voting.create_ballot(secretary, voting.BallotData(
        title="Biểu quyết mục mật", kind="live", meeting_id=published.id, item_id=second.id))
    hidden_ballot.status, hidden_ballot.outcome = BallotStatus.CLOSED, "rejected"
    own = minutes.add_action(secretary, published, minutes.ActionData(
        title="Hoàn thiện Nghị định", ministry="", organisation_id=finance.id,
        due_date=date.today() + timedelta(days=30)))
    other = minutes.add_action(secretary, published, minutes.ActionData(
        title="Báo cáo đối ngoại", ministry="", organisation_id=foreign.id, due_date=date.today() + timedelta(days=30)))
    db.session.commit()
    clients = {}
    for name, org, scopes, reader in (
            ("finance", finance, ["meetings:read", "documents:read", "outcomes:read", "actions:write"], member.id),
            ("foreign", foreign, ["meetings:read", "documents:read", "outcomes:read", "actions:write"], None),
            ("narrow", finance, ["outcomes:read"], None)):
        client, token = api.register_client(ADMIN, api.ClientData(name=name, organisation_id=org.id, scopes=scopes,
                                                                 reader_id=reader))
        clients[name] = (client.id, token)
    db.session.commit()
    return {"meeting": published.id, "first": first.id, "second": second.id, "third": third.id,
            "doc_first": doc_first.id, "doc_second": doc_second.id, "ballot": ballot.id,
            "hidden_ballot": hidden_ballot.id, "own_action": own.id, "other_action": other.id,
            "clients": clients, "finance": finance.id, "foreign": foreign.id}


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


@pytest.fixture
def submitter(world, briefing):  # noqa: F811
    """A client of the Ministry of Finance with submissions:write, whose reader is the ministry's liaison,
    and one submission of that ministry."""
    from ecabinet.accounts import service as accounts
    from ecabinet.accounts.models import Role
    from ecabinet.documents import service as documents
    from ecabinet.submissions import service as submissions
    from tests.conftest import PASSWORD

    liaison = accounts.create_user(ADMIN, accounts.UserData(
        email="lienlac.taichinh@example.gov.vn", name="Liên lạc Bộ Tài chính", role=Role.LIAISON,
        organisation_id=world["finance"]), PASSWORD)
    db.session.commit()
    client, token = api.register_client(ADMIN, api.ClientData(
        name="finance-submissions", organisation_id=world["finance"], scopes=["submissions:write"],
        reader_id=liaison.id))
    received = documents.receive(io.BytesIO(briefing), "to-trinh.pdf")
    submission = submissions.create_submission(Actor(user=liaison), submissions.SubmissionData(
        title="Dự thảo Nghị định về ngân sách", kind="decree", handling="meeting",
        deadline=datetime.now(UTC) + timedelta(days=20)), [received])
    db.session.commit()
    return {"client": client.id, "token": token, "liaison": liaison.id, "submission": submission.id}
