"""One rule for a new version, asked by the pages, the API and the service alike; and files taken in as
one: a submission with a hostile file among good ones leaves nothing in the document store."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ecabinet.extensions import db
from ecabinet.submissions import policy, service
from ecabinet.submissions.models import Submission, SubmissionDocument, SubmissionStatus
from tests.api.conftest import bearer
from tests.api.test_submissions_api import _fields, clients  # noqa: F401 - fixture reused here
from tests.documents.app_fixtures import briefing, briefing_v2, storage  # noqa: F401 - fixtures reused here
from tests.submissions.conftest import JUSTICE, as_user, step, token

NOT_RETURNED = "A new version is sent only after the secretariat returns the submission."
NOT_RETURNED_VI = "Chỉ gửi phiên bản mới sau khi bộ phận thư ký trả lại hồ sơ."
HOSTILE = b"<html><script>alert(1)</script></html>"


def _stored(storage: Path) -> set[str]:  # noqa: F811
    """The document store's blobs (temporary files aside)."""
    objects = storage / "objects"
    if not objects.exists():
        return set()
    found = {p.relative_to(objects) for p in objects.rglob("*") if p.is_file()}
    return {str(p) for p in found if p.parts[0] != "tmp"}


def _count(model) -> int:  # noqa: ANN001
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


# --- one rule: a new version only after a return ----------------------------------------------------------

@pytest.mark.parametrize("status", list(SubmissionStatus))
def test_a_new_version_is_awaited_only_after_a_return(status):
    submission = Submission(status=status)
    assert policy.awaits_new_version(submission) is (status is SubmissionStatus.RETURNED)
    if status is SubmissionStatus.RETURNED:
        service.check_new_version(submission)
    else:
        with pytest.raises(service.SubmissionError) as refused:
            service.check_new_version(submission)
        assert refused.value.message == NOT_RETURNED


@pytest.fixture
def returned(app, submitted, cabinet):  # noqa: F811
    from ecabinet.core.actor import Actor

    service.return_for_revision(Actor(user=cabinet["secretary"], ip="127.0.0.1"), submitted,
                                "Bổ sung báo cáo đánh giá tác động.")
    db.session.commit()
    return submitted


@pytest.fixture
def asked(monkeypatch):
    """The policy's rule, watched and turned to "no": whoever asks it is refused."""
    calls: list[int] = []

    def refuse(submission: Submission) -> bool:
        calls.append(submission.id)
        return False

    monkeypatch.setattr(policy, "awaits_new_version", refuse)
    return calls


def test_the_page_asks_the_policys_rule(app, returned, briefing_v2, asked, storage):  # noqa: F811
    liaison = as_user(app, JUSTICE)
    before = _stored(storage)
    response = step(liaison, returned.id, "versions", pdf=briefing_v2, note="Đã bổ sung.")
    assert response.status_code == 400
    assert NOT_RETURNED_VI in response.get_data(as_text=True)
    assert asked and set(asked) == {returned.id}
    assert _stored(storage) == before  # refused before the files' wait: nothing was taken in
    db.session.rollback()
    assert db.session.get(Submission, returned.id).current_version == 1


def test_the_api_asks_the_policys_rule(app, client, clients, returned, briefing_v2, asked, storage):  # noqa: F811
    before = _stored(storage)
    response = client.post(f"/api/v1/submissions/{returned.id}/versions",
                           data={"note": "Đã bổ sung.", "files": [(io.BytesIO(briefing_v2), "v2.pdf")]},
                           content_type="multipart/form-data",
                           headers=bearer(clients["justice"], **{"Idempotency-Key": "v2"}))
    assert response.status_code == 422
    assert response.get_json()["detail"] in (NOT_RETURNED, NOT_RETURNED_VI)
    assert asked and set(asked) == {returned.id}
    assert _stored(storage) == before
    db.session.rollback()
    assert db.session.get(Submission, returned.id).current_version == 1


def test_with_the_rule_satisfied_both_paths_take_the_version(app, client, clients, returned, briefing_v2):  # noqa: F811
    liaison = as_user(app, JUSTICE)
    assert step(liaison, returned.id, "versions", pdf=briefing_v2, note="Đã bổ sung.").status_code == 302
    # Waiting again: the page and the API refuse alike.
    assert step(liaison, returned.id, "versions", pdf=briefing_v2).status_code == 400
    response = client.post(f"/api/v1/submissions/{returned.id}/versions",
                           data={"note": "", "files": [(io.BytesIO(briefing_v2), "v3.pdf")]},
                           content_type="multipart/form-data",
                           headers=bearer(clients["justice"], **{"Idempotency-Key": "v3"}))
    assert response.status_code == 422
    db.session.rollback()
    assert db.session.get(Submission, returned.id).current_version == 2


# --- files taken in as one ----------------------------------------------------------------------------

def _hostile_among_good(briefing: bytes, briefing_v2: bytes, hostile_at: int) -> list[tuple[io.BytesIO, str]]:  # noqa: F811
    files = [(io.BytesIO(briefing), "to-trinh.pdf"), (io.BytesIO(briefing_v2), "phu-luc.pdf")]
    files.insert(hostile_at, (io.BytesIO(HOSTILE), "doc-hai.pdf"))
    return files


@pytest.mark.parametrize("hostile_at", [0, 2], ids=["first", "last"])
def test_a_web_submission_with_one_hostile_file_stores_nothing(app, liaisons, storage, briefing, briefing_v2,  # noqa: F811
                                                               hostile_at):
    from tests.submissions.conftest import in_days

    client = as_user(app, JUSTICE)
    before = _stored(storage)
    data = {"title": "Dự thảo Nghị định về công chứng", "kind": "decree", "urgency": "urgent",
            "handling": "written", "deadline": in_days(20), "summary": "Kính trình Chính phủ.",
            "csrf_token": token(client, "/submissions/new"),
            "files": _hostile_among_good(briefing, briefing_v2, hostile_at)}
    response = client.post("/submissions/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "doc-hai.pdf" in response.get_data(as_text=True)
    assert _count(Submission) == 0 and _count(SubmissionDocument) == 0
    assert _stored(storage) == before == set()


@pytest.mark.parametrize("hostile_at", [0, 2], ids=["first", "last"])
def test_an_api_submission_with_one_hostile_file_stores_nothing(client, clients, storage, briefing,  # noqa: F811
                                                                briefing_v2, hostile_at):  # noqa: F811
    before = _stored(storage)
    response = client.post("/api/v1/submissions",
                           data={**_fields(), "files": _hostile_among_good(briefing, briefing_v2, hostile_at)},
                           content_type="multipart/form-data",
                           headers=bearer(clients["justice"], **{"Idempotency-Key": f"h{hostile_at}"}))
    assert response.status_code == 422
    assert "doc-hai.pdf" in response.get_json()["errors"]["files"]
    assert _count(Submission) == 0 and _count(SubmissionDocument) == 0
    assert _stored(storage) == before == set()


def test_a_version_with_one_hostile_file_stores_nothing_new(app, returned, storage, briefing_v2):  # noqa: F811
    liaison = as_user(app, JUSTICE)
    before = _stored(storage)
    assert len(before) == 1  # the first version's document
    data = {"csrf_token": token(liaison, f"/submissions/{returned.id}"), "note": "",
            "files": [(io.BytesIO(briefing_v2), "phu-luc.pdf"), (io.BytesIO(HOSTILE), "doc-hai.pdf")]}
    response = liaison.post(f"/submissions/{returned.id}/versions", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert _stored(storage) == before


def test_good_files_together_are_all_stored(client, clients, storage, briefing, briefing_v2):  # noqa: F811
    response = client.post("/api/v1/submissions",
                           data={**_fields(), "files": [(io.BytesIO(briefing), "a.pdf"),
                                                        (io.BytesIO(briefing_v2), "b.pdf")]},
                           content_type="multipart/form-data",
                           headers=bearer(clients["justice"], **{"Idempotency-Key": "good"}))
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    shas = {d["sha256"] for d in response.get_json()["versions"][0]["documents"]}
    assert {s[:2] + "/" + s[2:] for s in shas} == _stored(storage)
