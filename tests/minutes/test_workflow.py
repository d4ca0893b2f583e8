"""From a closed meeting to signed final minutes, with every refusal on the way."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from ecabinet.audit.models import AuditEntry
from ecabinet.extensions import db
from ecabinet.minutes import service
from ecabinet.minutes.models import MinutesStatus
from ecabinet.minutes.service import EditConflict, MinutesError
from tests.meetings.conftest import actor

SOON = datetime.now(UTC) + timedelta(days=2)


def _drafted(meeting, cabinet):
    return service.create_draft(actor(cabinet["secretary"]), meeting)


def test_draft_is_built_from_the_record(closed_meeting, cabinet):
    minutes = _drafted(closed_meeting, cabinet)
    body = service.current_body(minutes)
    assert "BIÊN BẢN PHIÊN HỌP" in body and closed_meeting.title in body
    assert "Test member 2" in body  # the speaker, in the order they spoke
    assert "Decision A" in body and "Decision B" in body
    assert "4/" in body  # four of the eligible members present
    assert minutes.status is MinutesStatus.DRAFT and minutes.revision == 1


def test_only_the_secretariat_drafts(closed_meeting, cabinet):
    with pytest.raises(MinutesError, match="secretariat"):
        service.create_draft(actor(cabinet["member"]), closed_meeting)


def test_draft_needs_a_started_meeting(published, cabinet):
    with pytest.raises(MinutesError, match="started"):
        service.create_draft(actor(cabinet["secretary"]), published)


def test_every_save_is_a_revision_and_script_is_removed(closed_meeting, cabinet):
    minutes = _drafted(closed_meeting, cabinet)
    sec = actor(cabinet["secretary"])
    service.save_revision(sec, minutes, '<p onclick="x()">Sửa <script>alert(1)</script><b>đậm</b></p>'
                                        '<img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>', 1)
    body = service.current_body(minutes)
    assert minutes.revision == 2
    assert "script" not in body and "onclick" not in body and "onerror" not in body and "javascript" not in body
    assert "<b>đậm</b>" in body


def test_edit_conflict_is_refused_not_overwritten(closed_meeting, cabinet):
    minutes = _drafted(closed_meeting, cabinet)
    first_editor, second_editor = actor(cabinet["secretary"]), actor(cabinet["secretary"])
    service.save_revision(first_editor, minutes, "<p>Bản của thư ký thứ nhất</p>", base_revision=1)
    with pytest.raises(EditConflict, match="revision 2"):
        service.save_revision(second_editor, minutes, "<p>Bản của thư ký thứ hai</p>", base_revision=1)
    assert "thứ nhất" in service.current_body(minutes) and minutes.revision == 2


def test_compare_and_restore(closed_meeting, cabinet):
    minutes = _drafted(closed_meeting, cabinet)
    sec = actor(cabinet["secretary"])
    original = service.current_body(minutes)
    service.save_revision(sec, minutes, "<p>Hoàn toàn khác</p>", 1)
    lines = service.compare(minutes, 1, 2)
    assert ("+", "Hoàn toàn khác") in lines and any(kind == "-" for kind, _t in lines)
    service.restore_revision(sec, minutes, 1)
    assert minutes.revision == 3 and service.current_body(minutes) == original


def _to_circulated(meeting, cabinet):
    minutes = _drafted(meeting, cabinet)
    service.circulate(actor(cabinet["secretary"]), minutes, SOON)
    return minutes


def test_circulation_collects_members_comments(closed_meeting, cabinet):
    minutes = _to_circulated(closed_meeting, cabinet)
    service.add_comment(actor(cabinet["member"]), minutes, "Đề nghị bổ sung ý kiến của Bộ Tài chính.")
    assert [c.body for c in minutes.comments] == ["Đề nghị bổ sung ý kiến của Bộ Tài chính."]


def test_comment_after_the_deadline_is_refused(closed_meeting, cabinet):
    minutes = _drafted(closed_meeting, cabinet)
    service.circulate(actor(cabinet["secretary"]), minutes, datetime.now(UTC) + timedelta(seconds=1))
    minutes.circulation_deadline = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(MinutesError, match="deadline"):
        service.add_comment(actor(cabinet["member"]), minutes, "Muộn")


def test_approval_needs_the_chair(closed_meeting, cabinet):
    minutes = _to_circulated(closed_meeting, cabinet)
    for who in ("secretary", "member"):
        with pytest.raises(MinutesError, match="chair"):
            service.approve(actor(cabinet[who]), minutes)
    assert minutes.status is MinutesStatus.CIRCULATED


def test_approval_needs_circulation_first(closed_meeting, cabinet):
    minutes = _drafted(closed_meeting, cabinet)
    with pytest.raises(MinutesError, match="circulated"):
        service.approve(actor(cabinet["chair"]), minutes)


def test_approved_minutes_become_a_signed_final_pdf(closed_meeting, cabinet):
    minutes = _to_circulated(closed_meeting, cabinet)
    service.approve(actor(cabinet["chair"]), minutes)
    db.session.commit()  # the final PDF is made once the approval has committed
    db.session.refresh(minutes)
    assert minutes.status is MinutesStatus.FINAL and minutes.signed and minutes.signature_error is None
    document = service.final_pdf(minutes)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)
    assert "BIÊN BẢN PHIÊN HỌP" in text and closed_meeting.title in text
    assert "Trang 1/" in text
    assert minutes.audit_head in text.replace("\n", "")
    report = service.signature_report(minutes)
    assert report.ok and report.intact and report.valid and report.trusted


def test_final_minutes_are_locked(closed_meeting, cabinet):
    minutes = _to_circulated(closed_meeting, cabinet)
    service.approve(actor(cabinet["chair"]), minutes)
    db.session.commit()  # the final PDF is made once the approval has committed
    with pytest.raises(MinutesError, match="locked"):
        service.save_revision(actor(cabinet["secretary"]), minutes, "<p>sửa</p>", minutes.revision)
    correction = service.make_correction(actor(cabinet["secretary"]), minutes)
    assert correction.corrects_id == minutes.id and correction.status is MinutesStatus.DRAFT
    assert minutes.status is MinutesStatus.FINAL


def test_missing_signing_key_leaves_final_but_unsigned(closed_meeting, cabinet, app, signing_pair):
    app.config["SIGNING_KEY"] = "/nonexistent/key.pem"
    minutes = _to_circulated(closed_meeting, cabinet)
    service.approve(actor(cabinet["chair"]), minutes)
    db.session.commit()  # the final PDF is made once the approval has committed
    assert minutes.status is MinutesStatus.FINAL and not minutes.signed
    assert "does not exist" in minutes.signature_error
    app.config["SIGNING_KEY"] = str(signing_pair[0])
    service.sign_again(actor(cabinet["chair"]), minutes)
    assert minutes.signed and service.signature_report(minutes).ok


def test_invalid_signing_key_is_a_clear_error(closed_meeting, cabinet, app, tmp_path):
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    app.config["SIGNING_KEY"] = str(broken)
    minutes = _to_circulated(closed_meeting, cabinet)
    service.approve(actor(cabinet["chair"]), minutes)
    db.session.commit()  # the final PDF is made once the approval has committed
    assert not minutes.signed and "cannot be read" in minutes.signature_error


def test_tampered_pdf_fails_validation(closed_meeting, cabinet):
    from ecabinet.minutes.signing import validate_pdf

    minutes = _to_circulated(closed_meeting, cabinet)
    service.approve(actor(cabinet["chair"]), minutes)
    db.session.commit()  # the final PDF is made once the approval has committed
    document = bytearray(service.final_pdf(minutes))
    document[len(document) // 3] ^= 1
    assert not validate_pdf(bytes(document)).ok


def test_export_holds_the_whole_record_and_is_audited(closed_meeting, cabinet):
    import json
    import zipfile

    minutes = _to_circulated(closed_meeting, cabinet)
    service.approve(actor(cabinet["chair"]), minutes)
    db.session.commit()  # the final PDF is made once the approval has committed
    data = service.export_record(actor(cabinet["secretary"]), closed_meeting)
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    assert f"minutes-{minutes.id}-signed.pdf" in names and "attendance.csv" in names
    assert {"ballots.json", "ballots.csv", "audit.json", "audit-chain.txt"} <= names
    audit_rows = json.loads(archive.read("audit.json"))
    assert all(row["hash"] and row["prev_hash"] for row in audit_rows)
    assert "verified: True" in archive.read("audit-chain.txt").decode()
    db.session.commit()  # the boundary's commit appends the entry to the chain
    last = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last.action == "archive.export" and last.meeting_id == closed_meeting.id


def test_verify_minutes_command(closed_meeting, cabinet, app):
    from click.testing import CliRunner

    minutes = _to_circulated(closed_meeting, cabinet)
    service.approve(actor(cabinet["chair"]), minutes)
    db.session.commit()  # the final PDF is made once the approval has committed
    result = CliRunner().invoke(app.cli, ["ecabinet", "verify-minutes", str(minutes.id)])
    assert result.exit_code == 0, result.output
    assert "intact: True" in result.output and "valid: True" in result.output


def test_make_signing_cert_command(app, tmp_path):
    from click.testing import CliRunner

    app.config["SIGNING_KEY"], app.config["SIGNING_CERT"] = str(tmp_path / "k.pem"), str(tmp_path / "c.pem")
    result = CliRunner().invoke(app.cli, ["ecabinet", "make-signing-cert"])
    assert result.exit_code == 0 and (tmp_path / "k.pem").exists() and (tmp_path / "c.pem").exists()
    again = CliRunner().invoke(app.cli, ["ecabinet", "make-signing-cert"])
    assert again.exit_code != 0 and "--force" in again.output


def test_signing_works_inside_a_running_event_loop(signing_pair):
    """pyHanko uses asyncio.run; a caller that already runs a loop (a browser driver, an async worker)
    must still be able to sign and validate."""
    import asyncio

    from ecabinet.documents.demo_pdf import make_demo_pdf
    from ecabinet.minutes.signing import sign_pdf, validate_pdf

    async def inside_a_loop(path) -> bool:
        signed = sign_pdf(path.read_bytes(), str(signing_pair[0]), str(signing_pair[1]))
        return validate_pdf(signed, str(signing_pair[1])).ok

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.pdf"
        make_demo_pdf("Biên bản", ["Nội dung."], path)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            assert asyncio.run(inside_a_loop(path))
        else:  # the browser driver of another test already runs a loop here: the same situation
            signed = sign_pdf(path.read_bytes(), str(signing_pair[0]), str(signing_pair[1]))
            assert validate_pdf(signed, str(signing_pair[1])).ok


def test_circulation_tells_only_those_who_may_read_the_minutes(closed_meeting, cabinet):
    """A guest, invited for one item, may not open the minutes: she is not told they are circulated."""
    from ecabinet.meetings.models import MeetingParticipant, ParticipantRole
    from ecabinet.notifications.models import Notification

    # A guest who was invited to one item (the meeting is closed now: set up directly).
    db.session.add(MeetingParticipant(meeting_id=closed_meeting.id, user_id=cabinet["guest"].id,
                                      role=ParticipantRole.GUEST))
    db.session.commit()
    db.session.refresh(closed_meeting)
    minutes = _drafted(closed_meeting, cabinet)
    service.circulate(actor(cabinet["secretary"]), minutes, SOON)
    db.session.commit()
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.key.like("Minutes of%"))))
    assert cabinet["guest"].id not in told
    assert {cabinet["member"].id, cabinet["member2"].id} <= told


def test_minutes_name_the_options_include_the_rooms_comments_and_carry_a_signature_block(closed_meeting, cabinet,
                                                                                        client):
    """Read as the official document they are: options named in Vietnamese (never 'approve / reject'),
    the room's written comments under their item (hidden ones left out), the secretary and the chair
    in a signature block, and the revision's note in the reader's language."""
    import json

    from ecabinet.live.models import Comment
    from ecabinet.voting.models import Ballot, BallotKind, BallotQuestion, BallotStatus
    from ecabinet.voting.service import live_options
    from tests.conftest import PASSWORD
    from tests.helpers import login

    item = closed_meeting.items[0]
    db.session.add_all([
        Comment(meeting_id=closed_meeting.id, item_id=item.id, author_id=cabinet["member3"].id, client_id="c1",
                body="Đề nghị bổ sung số liệu năm 2025."),
        Comment(meeting_id=closed_meeting.id, item_id=item.id, author_id=cabinet["member"].id, client_id="c2",
                body="Bình luận đã ẩn", hidden_at=datetime.now(UTC)),
    ])
    ballot = Ballot(kind=BallotKind.LIVE, status=BallotStatus.OPEN, meeting_id=closed_meeting.id, item_id=item.id,
                    title="Thông qua Nghị quyết", eligible_count=4, votes_cast=3, outcome="adopted")
    db.session.add(ballot)
    db.session.flush()
    question = BallotQuestion(ballot_id=ballot.id, position=1, text="Thông qua?", options=json.dumps(live_options()))
    db.session.add(question)
    db.session.flush()
    ballot.result = json.dumps({"rule": "majority_cast", "abstentions_count": False, "outcome": "adopted",
                                "questions": [{"question_id": question.id, "text": "Thông qua?", "position": 1,
                                               "counts": {"approve": 2, "reject": 1, "abstain": 0},
                                               "outcome": "adopted", "comments": {}}]})
    ballot.status = BallotStatus.CLOSED  # in the same statement as its result, as the close writes it
    db.session.commit()
    minutes = _to_circulated(closed_meeting, cabinet)
    body = service.current_body(minutes)
    assert "tán thành: 2, không tán thành: 1, không biểu quyết: 0" in body
    assert "approve" not in body and "Đề nghị bổ sung số liệu năm 2025." in body and "Bình luận đã ẩn" not in body
    service.approve(actor(cabinet["chair"]), minutes)
    db.session.commit()
    db.session.refresh(minutes)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(service.final_pdf(minutes))).pages)
    assert "THƯ KÝ PHIÊN HỌP" in text and "CHỦ TỌA" in text and cabinet["secretary"].name in text
    assert "approve" not in text and "tán thành" in text
    login(client, cabinet["secretary"].email, PASSWORD)
    page = client.get(f"/minutes/{minutes.id}").get_data(as_text=True)
    assert "soạn từ hồ sơ phiên họp" in page and "drafted from the meeting record" not in page
