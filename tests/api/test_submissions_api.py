"""The submissions through the API: a ministry's system submits, follows, revises and withdraws its
dossiers, acting through its liaison reader; what the secretariat decides shows in the outcome."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ecabinet.api import service as api
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from tests.api.conftest import ADMIN, bearer
from tests.api.test_api import assert_problem
from tests.documents.app_fixtures import briefing, briefing_v2, storage  # noqa: F401 - fixtures reused here
from tests.meetings.conftest import cabinet, draft, published  # noqa: F401 - fixtures reused here
from tests.submissions.conftest import HEALTH, JUSTICE, liaisons, ministries  # noqa: F401 - fixtures reused here


@pytest.fixture
def clients(liaisons, ministries):  # noqa: F811
    """API clients: the Ministry of Justice's (reader: its liaison), the Ministry of Health's, one of
    Justice without the scope, and one of Justice whose reader is no liaison."""
    made = {}
    for name, ministry, scopes, reader in (
            ("justice", "Bộ Tư pháp", ["submissions:write"], liaisons[JUSTICE].id),
            ("health", "Bộ Y tế", ["submissions:write"], liaisons[HEALTH].id),
            ("narrow", "Bộ Tư pháp", ["meetings:read"], liaisons[JUSTICE].id),
            ("readerless", "Bộ Tư pháp", ["submissions:write"], None)):
        _client, value = api.register_client(ADMIN, api.ClientData(
            name=name, organisation_id=ministries[ministry].id, scopes=scopes, reader_id=reader))
        made[name] = value
    db.session.commit()
    return made


DEADLINE = (datetime.now(UTC) + timedelta(days=20)).replace(microsecond=0).isoformat()


def _fields(**given: object) -> dict:
    return {"title": "Dự thảo Nghị định về công chứng", "kind": "decree", "handling": "meeting",
            "urgency": "urgent", "deadline": DEADLINE, "summary": "Kính trình Chính phủ.", **given}


def _post(client, path: str, value: str, key: str, data: dict, pdf: bytes | None, name: str = "to-trinh.pdf"):
    body = dict(data)
    if pdf is not None:
        body["files"] = [(io.BytesIO(pdf), name)]
    return client.post(path, data=body, content_type="multipart/form-data",
                       headers=bearer(value, **{"Idempotency-Key": key}))


def _submit(client, value: str, pdf: bytes, key: str = "k1", **fields):
    return _post(client, "/api/v1/submissions", value, key, _fields(**fields), pdf)


def _count(model) -> int:  # noqa: ANN001
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def _fresh(submission_id: int):
    from ecabinet.submissions.models import Submission

    db.session.rollback()
    return db.session.get(Submission, submission_id)


def _secretary(cabinet):  # noqa: ANN001, F811
    return Actor(user=cabinet["secretary"], ip="127.0.0.1")


def test_a_submission_ends_on_an_agenda_and_its_outcome_is_read(  # noqa: F811
        client, clients, briefing, briefing_v2, cabinet, published):  # noqa: F811
    from ecabinet.submissions import service as submissions

    response = _submit(client, clients["justice"], briefing)
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    created = response.get_json()
    assert created["status"] == "submitted" and created["title"] == "Dự thảo Nghị định về công chứng"
    assert [d["page_count"] > 0 for d in created["versions"][0]["documents"]] == [True]
    assert created["outcome"] is None
    sid = created["id"]

    # Returned for revision: the ministry answers with a new version through the API.
    submissions.return_for_revision(_secretary(cabinet), _fresh(sid), "Bổ sung báo cáo đánh giá tác động.")
    db.session.commit()
    response = _post(client, f"/api/v1/submissions/{sid}/versions", clients["justice"], "v2",
                     {"note": "Đã bổ sung."}, briefing_v2, "to-trinh-v2.pdf")
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert body["status"] == "submitted" and body["current_version"] == 2
    assert [c["step"] for c in body["comments"]] == ["return", "version"]

    # A new version only after a return.
    again = _post(client, f"/api/v1/submissions/{sid}/versions", clients["justice"], "v3", {}, briefing_v2)
    assert_problem(again, 422)

    item = submissions.accept_to_meeting(_secretary(cabinet), _fresh(sid), published.id)
    item.outcome = "adopted"
    db.session.commit()
    got = client.get(f"/api/v1/submissions/{sid}", headers=bearer(clients["justice"])).get_json()
    assert got["status"] == "accepted"
    assert got["outcome"]["became"] == "agenda_item" and got["outcome"]["item_id"] == item.id
    assert got["outcome"]["meeting_id"] == published.id
    assert got["outcome"]["value"] == "adopted" and got["outcome"]["decided"] is True
    listed = client.get("/api/v1/submissions?limit=1", headers=bearer(clients["justice"])).get_json()
    assert [s["id"] for s in listed["data"]] == [sid] and listed["next_cursor"] is None


def test_a_written_opinion_submission_becomes_a_ballot(client, clients, briefing, cabinet):  # noqa: F811
    from ecabinet.submissions import service as submissions

    response = _submit(client, clients["justice"], briefing, handling="written")
    sid = response.get_json()["id"]
    ballot = submissions.accept_to_written_opinion(_secretary(cabinet), _fresh(sid),
                                                   datetime.now(UTC) + timedelta(days=7))
    db.session.commit()
    outcome = client.get(f"/api/v1/submissions/{sid}", headers=bearer(clients["justice"])).get_json()["outcome"]
    assert outcome["became"] == "written_opinion" and outcome["ballot_id"] == ballot.id
    assert outcome["decided"] is False and outcome["value"] is None


def test_the_list_is_paged_and_holds_only_the_organisations_own(client, clients, briefing):  # noqa: F811
    ids = [_submit(client, clients["justice"], briefing, key=f"j{n}").get_json()["id"] for n in range(3)]
    other = _submit(client, clients["health"], briefing, key="h1").get_json()["id"]
    page = client.get("/api/v1/submissions?limit=2", headers=bearer(clients["justice"])).get_json()
    assert [s["id"] for s in page["data"]] == ids[:2]
    rest = client.get(f"/api/v1/submissions?limit=2&cursor={page['next_cursor']}",
                      headers=bearer(clients["justice"])).get_json()
    assert [s["id"] for s in rest["data"]] == ids[2:] and rest["next_cursor"] is None
    # Another ministry's submission does not exist for this client, to read or to act on.
    assert_problem(client.get(f"/api/v1/submissions/{other}", headers=bearer(clients["justice"])), 404)
    assert_problem(client.post(f"/api/v1/submissions/{other}/withdraw", json={"reason": "x"},
                               headers=bearer(clients["justice"], **{"Idempotency-Key": "w"})), 404)
    assert _fresh(other).status.value == "submitted"


def test_the_ministry_withdraws_its_submission(client, clients, briefing):  # noqa: F811
    from ecabinet.audit.models import AuditEntry

    sid = _submit(client, clients["justice"], briefing).get_json()["id"]
    headers = bearer(clients["justice"], **{"Idempotency-Key": "withdraw"})
    response = client.post(f"/api/v1/submissions/{sid}/withdraw", json={"reason": "Không còn cần thiết."},
                           headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.get_json()["status"] == "withdrawn"
    assert response.get_json()["comments"][-1]["body"] == "Không còn cần thiết."
    # Withdrawn is final: a second withdrawal is refused.
    again = client.post(f"/api/v1/submissions/{sid}/withdraw", json={},
                        headers=bearer(clients["justice"], **{"Idempotency-Key": "again"}))
    assert_problem(again, 422)
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "submission")))
    assert {"submission.create", "submission.withdraw", "api.submission_create",
            "api.submission_withdraw"} <= actions


def test_scope_and_liaison_are_required(client, clients, briefing):  # noqa: F811
    from ecabinet.submissions.models import Submission

    assert_problem(_submit(client, clients["narrow"], briefing), 403)
    assert_problem(client.get("/api/v1/submissions", headers=bearer(clients["narrow"])), 403)
    body = assert_problem(_submit(client, clients["readerless"], briefing), 403)
    assert "liaison" in body["detail"]
    assert _count(Submission) == 0


@pytest.mark.parametrize("hostile", ["html", "bomb"])
def test_a_hostile_file_is_refused_and_nothing_is_stored(client, clients, storage, hostile):  # noqa: F811
    from ecabinet.submissions.models import Submission, SubmissionDocument
    from tests.pdf import crafted

    data = b"<html><script>alert(1)</script></html>" if hostile == "html" else crafted.bomb_pdf()
    response = _post(client, "/api/v1/submissions", clients["justice"], "k1", _fields(), data, f"{hostile}.pdf")
    body = assert_problem(response, 422)
    # The intake's own sentence, under the field.
    assert body["errors"]["files"] == body["detail"] and f"{hostile}.pdf" in body["detail"]
    if hostile == "html":
        assert "PDF" in body["detail"]
    assert _count(Submission) == 0 and _count(SubmissionDocument) == 0
    objects = storage / "objects"
    assert not objects.exists() or not [p for p in objects.rglob("*") if p.is_file()]


def test_bad_fields_are_422_under_their_field(client, clients, briefing):  # noqa: F811
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    body = assert_problem(_submit(client, clients["justice"], briefing, deadline=past), 422)
    assert "deadline" in body["errors"]
    body = assert_problem(_submit(client, clients["justice"], briefing, key="k2", kind="law"), 422)
    assert "kind" in body["errors"]
    no_file = _post(client, "/api/v1/submissions", clients["justice"], "k3", _fields(), None)
    assert "files" in assert_problem(no_file, 422)["errors"]
    as_json = client.post("/api/v1/submissions", json=_fields(),
                          headers=bearer(clients["justice"], **{"Idempotency-Key": "k4"}))
    assert_problem(as_json, 415)


def test_an_idempotency_key_replays_and_refuses_another_body(client, clients, briefing, briefing_v2):  # noqa: F811
    from ecabinet.submissions.models import Submission

    first = _submit(client, clients["justice"], briefing, key="same")
    assert first.status_code == 201
    replay = _submit(client, clients["justice"], briefing, key="same")
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_json() == first.get_json()
    assert_problem(_submit(client, clients["justice"], briefing_v2, key="same"), 422)
    assert_problem(_submit(client, clients["justice"], briefing, key="same", title="Khác"), 422)
    assert _count(Submission) == 1
