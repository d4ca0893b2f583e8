"""Submissions through the pages, as the ministry's liaison and the secretariat use them, on both
databases: each step, each refusal, and what the submission becomes."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from ecabinet.audit.models import AuditEntry
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from ecabinet.notifications.models import Notification
from ecabinet.submissions.models import Submission, SubmissionDocument, SubmissionStatus
from tests.submissions.conftest import HEALTH, JUSTICE, as_user, in_days, step, submit

SYSTEM = Actor.system("test")


def _fresh(submission: Submission) -> Submission:
    db.session.rollback()
    return db.session.get(Submission, submission.id)


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("submission.%"))
                                   .order_by(AuditEntry.id)))


def _notices(user) -> list[str]:
    return list(db.session.scalars(select(Notification.key).where(Notification.user_id == user.id)))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- the ministry submits --------------------------------------------------------------------------

def test_a_liaison_submits_a_pdf_and_the_secretariat_is_told(app, submitted, cabinet, ministries):
    assert submitted.status is SubmissionStatus.SUBMITTED
    assert submitted.organisation_id == ministries["Bộ Tư pháp"].id
    assert [len(v.documents) for v in submitted.versions] == [1]
    document = submitted.latest.documents[0]
    assert document.page_count >= 1 and len(document.sha256) == 64
    assert _actions() == ["submission.create"]
    assert any("New submission" in key for key in _notices(cabinet["secretary"]))
    # It waits in the intake queue, and its document opens for the liaison.
    secretary = as_user(app, "secretary@example.gov.vn")
    assert submitted.title in secretary.get("/submissions/intake").get_data(as_text=True)
    liaison = as_user(app, JUSTICE)
    pdf = liaison.get(f"/submissions/{submitted.id}/files/{document.id}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert pdf.headers["Content-Security-Policy"].startswith("sandbox")


def test_a_file_that_is_not_a_pdf_is_refused_and_nothing_is_stored(app, liaisons, storage):
    client = as_user(app, JUSTICE)
    response = submit(client, b"<html><script>alert(1)</script></html>")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Tệp không phải là tài liệu PDF" in page  # the intake's own sentence, in the reader's language
    assert _count(Submission) == 0 and _count(SubmissionDocument) == 0
    assert not list((storage / "objects").rglob("*")) if (storage / "objects").exists() else True


def test_a_submission_without_a_file_is_refused(app, liaisons):
    response = submit(as_user(app, JUSTICE), None)
    assert response.status_code == 400
    assert "Vui lòng đính kèm ít nhất một tài liệu PDF." in response.get_data(as_text=True)
    assert _count(Submission) == 0


def test_bad_input_is_answered_400_under_its_field(app, liaisons, briefing):
    client = as_user(app, JUSTICE)
    cases = {
        "title": ({"title": "   "}, "Cần nhập tiêu đề."),
        "kind": ({"kind": "law"}, "Vui lòng chọn loại hồ sơ trong danh sách."),
        "deadline": ({"deadline": in_days(-1)}, "Hạn trả lời phải ở tương lai."),
        "bad date": ({"deadline": "not-a-date"}, "Vui lòng nhập ngày (ngày, tháng, năm)."),
        "handling": ({"handling": "phone"}, "Vui lòng chọn cách xử lý hồ sơ."),
    }
    for name, (fields, message) in cases.items():
        response = submit(client, briefing, **fields)
        assert response.status_code == 400, name
        assert message in response.get_data(as_text=True), name
    assert _count(Submission) == 0


# --- the secretariat's decisions --------------------------------------------------------------------

def test_return_with_a_comment_then_a_new_version(app, submitted, liaisons, briefing_v2):
    secretary = as_user(app, "secretary@example.gov.vn")
    assert step(secretary, submitted.id, "return", comment="").status_code == 400  # the reasons are required
    response = step(secretary, submitted.id, "return", comment="Bổ sung báo cáo đánh giá tác động.")
    assert response.status_code == 302
    assert _fresh(submitted).status is SubmissionStatus.RETURNED
    assert any("returned" in key for key in _notices(liaisons[JUSTICE]))
    liaison = as_user(app, JUSTICE)
    assert "Bổ sung báo cáo đánh giá tác động." in liaison.get(f"/submissions/{submitted.id}").get_data(as_text=True)
    response = step(liaison, submitted.id, "versions", pdf=briefing_v2, note="Đã bổ sung theo ý kiến.")
    assert response.status_code == 302
    submission = _fresh(submitted)
    assert submission.status is SubmissionStatus.SUBMITTED and submission.current_version == 2
    assert [v.number for v in submission.versions] == [1, 2]  # the first version is kept
    assert [c.step for c in submission.comments] == ["return", "version"]
    assert _actions() == ["submission.create", "submission.return", "submission.new_version"]
    # Once it waits again, no second version is taken.
    assert step(liaison, submitted.id, "versions", pdf=briefing_v2).status_code == 400


def test_accept_to_a_meeting_makes_an_agenda_item_with_its_documents(app, submitted, published, ministries,
                                                                     liaisons):
    from ecabinet.documents.models import Document
    from ecabinet.meetings.models import MeetingItem

    secretary = as_user(app, "secretary@example.gov.vn")
    response = step(secretary, submitted.id, "accept/meeting", meeting_id=str(published.id), duration_minutes="20")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    submission = _fresh(submitted)
    assert submission.status is SubmissionStatus.ACCEPTED
    item = db.session.get(MeetingItem, submission.agenda_item_id)
    assert item.meeting_id == published.id and item.title == submission.title
    assert item.organisation_id == ministries["Bộ Tư pháp"].id and item.ministry == "Bộ Tư pháp"
    documents = list(db.session.scalars(select(Document).where(Document.item_id == item.id)))
    assert [d.latest.sha256 for d in documents] == [submission.latest.documents[0].sha256]
    assert any("accepted" in key for key in _notices(liaisons[JUSTICE]))
    assert "submission.accept_meeting" in _actions()
    # Accepted: it is no longer the secretariat's to return, nor the liaison's to withdraw.
    assert step(secretary, submitted.id, "return", comment="Muộn rồi").status_code == 400
    assert step(as_user(app, JUSTICE), submitted.id, "withdraw").status_code == 400


def test_accept_to_an_unknown_meeting_is_refused(app, submitted, published):
    secretary = as_user(app, "secretary@example.gov.vn")
    for meeting_id in ("999999", "abc", ""):
        response = step(secretary, submitted.id, "accept/meeting", meeting_id=meeting_id)
        assert response.status_code == 400, meeting_id
        assert "Vui lòng chọn" in response.get_data(as_text=True), meeting_id
    assert _fresh(submitted).status is SubmissionStatus.SUBMITTED


def test_accept_to_written_opinions_drafts_a_written_ballot_with_its_documents(app, submitted):
    from ecabinet.voting.models import Ballot, BallotKind, BallotStatus

    secretary = as_user(app, "secretary@example.gov.vn")
    assert step(secretary, submitted.id, "accept/written", deadline=in_days(-2)).status_code == 400
    response = step(secretary, submitted.id, "accept/written", deadline=in_days(7))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    submission = _fresh(submitted)
    ballot = db.session.get(Ballot, submission.ballot_id)
    assert ballot.kind is BallotKind.WRITTEN and ballot.status is BallotStatus.DRAFT
    assert ballot.title == submission.title
    document = submission.latest.documents[0]
    assert ballot.attachment_list == [{"title": document.title,
                                       "url": f"/submissions/{submission.id}/files/{document.id}"}]


def test_the_liaison_withdraws_their_own(app, submitted, cabinet):
    liaison = as_user(app, JUSTICE)
    response = step(liaison, submitted.id, "withdraw", reason="Bộ rút lại để hoàn thiện thêm.")
    assert response.status_code == 302
    submission = _fresh(submitted)
    assert submission.status is SubmissionStatus.WITHDRAWN
    assert [c.body for c in submission.comments] == ["Bộ rút lại để hoàn thiện thêm."]
    assert any("withdrawn" in key for key in _notices(cabinet["secretary"]))
    assert submitted.title not in as_user(app, "secretary@example.gov.vn").get("/submissions/intake") \
        .get_data(as_text=True)


def test_the_secretariat_merges_one_submission_into_another(app, submitted, briefing_v2):
    second = submit(as_user(app, JUSTICE), briefing_v2, title="Báo cáo thẩm định bổ sung")
    assert second.status_code == 302
    db.session.rollback()
    other = db.session.scalars(select(Submission).where(Submission.id != submitted.id)).one()
    secretary = as_user(app, "secretary@example.gov.vn")
    assert step(secretary, other.id, "merge", into_id=str(other.id)).status_code == 400  # not into itself
    response = step(secretary, other.id, "merge", into_id=str(submitted.id), comment="Cùng nội dung.")
    assert response.status_code == 302
    merged, target = _fresh(other), db.session.get(Submission, submitted.id)
    assert merged.status is SubmissionStatus.MERGED and merged.merged_into_id == target.id
    assert len(target.latest.documents) == 2  # the merged one's document travels with it
    assert {"submission.merge", "submission.merged_in"} <= set(_actions())


def test_a_merge_into_another_ministrys_submission_is_refused(app, submitted, briefing_v2):
    submit(as_user(app, HEALTH), briefing_v2, title="Đề án y tế cơ sở")
    db.session.rollback()
    other = db.session.scalars(select(Submission).where(Submission.id != submitted.id)).one()
    secretary = as_user(app, "secretary@example.gov.vn")
    assert step(secretary, other.id, "merge", into_id=str(submitted.id)).status_code == 400
    assert _fresh(other).status is SubmissionStatus.SUBMITTED


# --- what it became --------------------------------------------------------------------------------

def test_the_outcome_is_shown_once_the_written_ballot_closes(app, submitted, liaisons):
    from ecabinet.voting import service as voting

    secretary = as_user(app, "secretary@example.gov.vn")
    assert step(secretary, submitted.id, "accept/written", deadline=in_days(7)).status_code == 302
    submission = _fresh(submitted)
    liaison = as_user(app, JUSTICE)
    page = liaison.get(f"/submissions/{submission.id}").get_data(as_text=True)
    assert "Chưa có quyết định." in page
    ballot = voting.get_ballot(submission.ballot_id)
    voting.approve_ballot(SYSTEM, ballot)
    voting.open_ballot(SYSTEM, ballot)
    voting.close_ballot(SYSTEM, ballot, reason="deadline")
    db.session.commit()
    assert ballot.outcome is not None
    page = liaison.get(f"/submissions/{submission.id}").get_data(as_text=True)
    assert 'data-testid="outcome-value"' in page and "Chưa có quyết định." not in page
    assert any("decision was reached" in key for key in _notices(liaisons[JUSTICE]))
    assert "submission.outcome" in _actions()


def test_the_decided_item_shows_its_outcome_conclusions_and_the_ministrys_actions(app, submitted, published,
                                                                                  cabinet, ministries, liaisons):
    from datetime import date, timedelta

    from ecabinet.meetings import service as meetings
    from ecabinet.meetings.models import CheckInMode, MeetingItem
    from ecabinet.minutes import service as minutes
    from ecabinet.voting import service as voting

    secretary = as_user(app, "secretary@example.gov.vn")
    assert step(secretary, submitted.id, "accept/meeting", meeting_id=str(published.id)).status_code == 302
    submission = _fresh(submitted)
    item = db.session.get(MeetingItem, submission.agenda_item_id)
    meeting = item.meeting
    meetings.start_meeting(SYSTEM, meeting)  # a live vote on the item, with the quorum present
    for who in ("member", "member2", "member3"):
        meetings.check_in(SYSTEM, meeting, meetings.participant_of(meeting, cabinet[who]), CheckInMode.ROOM)
    ballot = voting.create_ballot(SYSTEM, voting.BallotData(title=item.title, meeting_id=meeting.id, item_id=item.id))
    voting.open_ballot(SYSTEM, ballot)
    voting.close_ballot(SYSTEM, ballot)
    assert item.outcome is not None
    minutes.save_conclusion(SYSTEM, meeting, "<p>Chính phủ thống nhất thông qua Nghị định.</p>")
    minutes.add_action(SYSTEM, meeting, minutes.ActionData(
        title="Hoàn thiện và trình ký Nghị định", ministry="", due_date=date.today() + timedelta(days=15),
        organisation_id=ministries["Bộ Tư pháp"].id))
    minutes.add_action(SYSTEM, meeting, minutes.ActionData(
        title="Việc của bộ khác", ministry="", due_date=date.today() + timedelta(days=15),
        organisation_id=ministries["Bộ Y tế"].id))
    minutes.issue_conclusion(SYSTEM, meeting)
    db.session.commit()
    page = as_user(app, JUSTICE).get(f"/submissions/{submission.id}").get_data(as_text=True)
    assert 'data-testid="outcome-value"' in page
    assert "Chính phủ thống nhất thông qua Nghị định." in page
    assert "Hoàn thiện và trình ký Nghị định" in page and "Việc của bộ khác" not in page
    assert any("decision was reached" in key for key in _notices(liaisons[JUSTICE]))


# --- who sees what ---------------------------------------------------------------------------------

def test_another_ministrys_liaison_learns_nothing_of_it(app, submitted, briefing_v2):
    document = submitted.latest.documents[0]
    other = as_user(app, HEALTH)
    sid = submitted.id
    assert other.get(f"/submissions/{sid}").status_code == 404
    assert other.get(f"/submissions/{sid}/files/{document.id}").status_code == 404
    assert submitted.title not in other.get("/submissions").get_data(as_text=True)
    for action, fields in (("versions", {}), ("withdraw", {}), ("return", {"comment": "x"}),
                           ("accept/meeting", {"meeting_id": "1"}), ("accept/written", {"deadline": in_days(3)}),
                           ("merge", {"into_id": "1"})):
        response = other.post(f"/submissions/{sid}/{action}", data={
            "csrf_token": _token(other), **fields})
        assert response.status_code == 404, action
    assert _fresh(submitted).status is SubmissionStatus.SUBMITTED


def _token(client) -> str:
    from tests.helpers import csrf_from

    return csrf_from(client.get("/submissions").get_data(as_text=True))


def test_the_liaison_cannot_take_the_secretariats_steps(app, submitted, published):
    liaison = as_user(app, JUSTICE)
    assert liaison.get("/submissions/intake").status_code == 403
    assert step(liaison, submitted.id, "accept/meeting", meeting_id=str(published.id)).status_code == 403
    assert step(liaison, submitted.id, "return", comment="x").status_code == 403
    assert step(liaison, submitted.id, "merge", into_id="1").status_code == 403


def test_members_and_guests_are_not_told_a_submission_exists(app, submitted):
    for email in ("member@example.gov.vn", "guest@example.gov.vn", "admin@example.gov.vn", "chair@example.gov.vn"):
        client = as_user(app, email)
        assert client.get(f"/submissions/{submitted.id}").status_code == 404, email
        assert client.get("/submissions").status_code == 403, email
        assert client.get("/submissions/new").status_code == 403, email


def test_the_liaison_is_refused_the_rest_of_the_app(app, submitted, published):
    liaison = as_user(app, JUSTICE)
    for path in ("/meetings", f"/meetings/{published.id}", f"/meetings/{published.id}/room", "/actions", "/archive",
                 "/ballots", "/search", "/admin/users", "/admin/organisations", "/admin/audit/",
                 "/submissions/intake"):
        assert liaison.get(path).status_code in (403, 404), path
    assert liaison.get("/meetings").status_code == 403  # the whole area, not only this meeting
    home = liaison.get("/").get_data(as_text=True)
    assert "/submissions" in home and f"/meetings/{published.id}" not in home


def test_a_liaison_needs_a_ministry(app, cabinet, ministries):
    """The admin's form refuses a liaison without one; a liaison left without one may do nothing."""
    from ecabinet.accounts import service as accounts
    from ecabinet.accounts.models import Role, User
    from tests.conftest import PASSWORD

    admin = as_user(app, "admin@example.gov.vn")
    data = {"name": "Liên lạc", "email": "lienlac.moi@example.gov.vn", "role": "liaison", "organisation_id": "0",
            "password": "mot-mat-khau-du-dai", "csrf_token": _token_of(admin, "/admin/users/new")}
    response = admin.post("/admin/users/new", data=data)
    assert response.status_code == 400
    assert "Cán bộ liên lạc phải thuộc một bộ" in response.get_data(as_text=True)
    data.update(organisation_id=str(ministries["Bộ Tư pháp"].id), csrf_token=_token_of(admin, "/admin/users/new"))
    assert admin.post("/admin/users/new", data=data).status_code == 302
    db.session.rollback()
    made = db.session.scalars(select(User).where(User.email == "lienlac.moi@example.gov.vn")).one()
    assert made.role is Role.LIAISON and made.organisation_id == ministries["Bộ Tư pháp"].id
    # An account without a ministry (made before the rule, or by other means) is refused the submissions.
    accounts.create_user(SYSTEM, accounts.UserData(email="lienlac.le@example.gov.vn", name="Lẻ", role=Role.LIAISON),
                         PASSWORD)
    db.session.commit()
    stray = as_user(app, "lienlac.le@example.gov.vn")
    assert stray.get("/submissions").status_code == 403 and stray.get("/submissions/new").status_code == 403


def _token_of(client, path: str) -> str:
    from tests.helpers import csrf_from

    return csrf_from(client.get(path).get_data(as_text=True))


def test_the_intake_metadata_is_kept_for_attaching_later(app, submitted):
    document = submitted.latest.documents[0]
    info = json.loads(document.intake)
    assert info["sha256"] == document.sha256 and info["page_count"] == document.page_count


def test_a_confidential_acceptance_keeps_the_documents_and_the_conclusions_confidential(app, submitted, published):
    from ecabinet.documents.models import Document
    from ecabinet.meetings.models import Confidentiality, MeetingItem
    from ecabinet.minutes import service as minutes

    secretary = as_user(app, "secretary@example.gov.vn")
    response = step(secretary, submitted.id, "accept/meeting", meeting_id=str(published.id), confidential="y")
    assert response.status_code == 302
    submission = _fresh(submitted)
    item = db.session.get(MeetingItem, submission.agenda_item_id)
    assert item.confidentiality is Confidentiality.CONFIDENTIAL
    assert all(d.confidential for d in db.session.scalars(select(Document).where(Document.item_id == item.id)))
    minutes.save_conclusion(SYSTEM, item.meeting, "<p>Kết luận về nội dung mật.</p>")
    minutes.issue_conclusion(SYSTEM, item.meeting)
    db.session.commit()
    page = as_user(app, JUSTICE).get(f"/submissions/{submission.id}").get_data(as_text=True)
    assert "Kết luận về nội dung mật." not in page
    # The member who may not open confidential documents cannot open the submission's either.
    assert as_user(app, "member@example.gov.vn").get(
        f"/submissions/{submission.id}/files/{submission.latest.documents[0].id}").status_code == 404


def test_every_status_change_is_handed_to_the_layers_above(app, liaisons, briefing):
    """The API's webhooks hear of a submission through the status hook, inside the same transaction."""
    from ecabinet.submissions import hooks

    heard = []
    hooks.status_changed.register("test.recorder")(lambda s, previous: heard.append((s.status.value, previous)))
    try:
        response = submit(as_user(app, JUSTICE), briefing)
        assert response.status_code == 302
        submission_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        secretary = as_user(app, "secretary@example.gov.vn")
        assert step(secretary, submission_id, "return", comment="Bổ sung hồ sơ.").status_code == 302
        assert step(as_user(app, JUSTICE), submission_id, "withdraw", reason="Rút để hoàn thiện.").status_code == 302
    finally:
        hooks.status_changed.register("test.recorder")(lambda s, previous: None)
    assert heard == [("submitted", None), ("returned", "submitted"), ("withdrawn", "returned")]
