"""The secretariat's participants page over HTTP: inviting several people or a whole ministry at once,
checking in everyone present in one action, and sending invitations and reminders with a record of who
was told and when."""

from __future__ import annotations

from sqlalchemy import select

from ecabinet.accounts import service as accounts
from ecabinet.accounts.models import Role
from ecabinet.extensions import db
from ecabinet.meetings import service
from ecabinet.meetings.models import Attendance, MeetingStatus
from ecabinet.meetings.service.participants import N_INVITATION, N_REMINDER
from ecabinet.notifications.models import Notification
from tests.conftest import PASSWORD
from tests.helpers import csrf_from, login
from tests.meetings.conftest import SYSTEM, actor, audit_actions


def _person(email: str, name: str, organisation: str, role: Role = Role.MEMBER):
    user = accounts.create_user(SYSTEM, accounts.UserData(email=email, name=name, organisation=organisation,
                                                          role=role), PASSWORD)
    db.session.commit()
    return user


def _page(client, meeting) -> str:
    r = client.get(f"/meetings/{meeting.id}/participants")
    assert r.status_code == 200, r.status_code
    return r.get_data(as_text=True)


def _post(client, meeting, action: str, data: dict):
    token = csrf_from(_page(client, meeting))
    return client.post(f"/meetings/{meeting.id}/participants/{action}", data={**data, "csrf_token": token},
                       follow_redirects=True)


def _participant_ids(meeting) -> set[int]:
    db.session.expire_all()
    return {p.user_id for p in service.get_meeting(meeting.id).participants}


def _sent(key: str) -> list[int]:
    return sorted(db.session.scalars(select(Notification.user_id).where(Notification.key == key)))


def test_secretary_invites_several_people_at_once(client, published, cabinet):
    a = _person("a@example.gov.vn", "Nguyễn Văn A", "Bộ Tài chính")
    b = _person("b@example.gov.vn", "Trần Thị B", "Bộ Y tế")
    login(client, cabinet["secretary"].email, PASSWORD)
    page = _page(client, published)
    assert "Bộ Tài chính" in page and "Bộ Y tế" in page and f'name="user_ids" value="{a.id}"' in page
    r = _post(client, published, "add-many", {"user_ids": [str(a.id), str(b.id)]})
    assert r.status_code == 200
    assert {a.id, b.id} <= _participant_ids(published)
    assert audit_actions()[-2:] == ["participant.add", "participant.add"]
    # Once they take part, they are no longer offered.
    assert f'name="user_ids" value="{a.id}"' not in r.get_data(as_text=True)


def test_secretary_invites_everyone_from_one_ministry(client, published, cabinet):
    a = _person("a@example.gov.vn", "Nguyễn Văn A", "Bộ Tài chính")
    a2 = _person("a2@example.gov.vn", "Lê Văn C", "  bộ tài  chính ")  # the same ministry, typed differently
    b = _person("b@example.gov.vn", "Trần Thị B", "Bộ Y tế")
    login(client, cabinet["secretary"].email, PASSWORD)
    _post(client, published, "add-ministry", {"ministry": "bộ tài chính"})
    present = _participant_ids(published)
    assert {a.id, a2.id} <= present and b.id not in present


def test_grouping_by_ministry_is_one_function():
    class U:
        def __init__(self, name, organisation):
            self.name, self.organisation = name, organisation

    groups = service.ministry_groups([U("B", "Bộ Y tế"), U("A", " bộ y  tế"), U("C", ""), U("D", "Bộ Công an")])
    assert [g.key for g in groups] == ["bộ công an", "bộ y tế", ""]  # by name; people with none last
    assert [u.name for u in groups[1].users] == ["A", "B"]


def test_a_bulk_invitation_is_all_or_nothing(client, published, cabinet):
    a = _person("a@example.gov.vn", "Nguyễn Văn A", "Bộ Tài chính")
    login(client, cabinet["secretary"].email, PASSWORD)
    # The guest account cannot take part as a member: the whole selection is refused, naming them.
    r = _post(client, published, "add-many", {"user_ids": [str(a.id), str(cabinet["guest"].id)]})
    assert r.status_code == 200 and cabinet["guest"].name in r.get_data(as_text=True)
    assert a.id not in _participant_ids(published)


def test_an_empty_or_malformed_selection_is_a_clear_message(client, published, cabinet):
    login(client, cabinet["secretary"].email, PASSWORD)
    before = _participant_ids(published)
    r = _post(client, published, "add-many", {"user_ids": ["x", "-1", ""]})
    assert r.status_code == 200 and "flash-error" in r.get_data(as_text=True)
    r = _post(client, published, "add-ministry", {"ministry": "Bộ không có"})
    assert r.status_code == 200 and "flash-error" in r.get_data(as_text=True)
    assert _participant_ids(published) == before


def test_members_may_not_invite_check_in_or_send_notices(client, published, cabinet):
    login(client, cabinet["member"].email, PASSWORD)
    token = csrf_from(client.get(f"/meetings/{published.id}").get_data(as_text=True))
    for action in ("add-many", "add-ministry", "check-in-many", "invite", "remind"):
        r = client.post(f"/meetings/{published.id}/participants/{action}", data={"csrf_token": token})
        assert r.status_code == 403, action
    page = client.get(f"/meetings/{published.id}/participants").get_data(as_text=True)
    assert "participants-bulk" not in page and "send-reminder" not in page


def test_bulk_check_in_of_the_selected_members(client, published, cabinet):
    login(client, cabinet["secretary"].email, PASSWORD)
    chosen = [service.participant_of(published, cabinet[name]) for name in ("member", "member2", "chair")]
    r = _post(client, published, "check-in-many", {"participant_ids": [str(p.id) for p in chosen], "mode": "room"})
    assert r.status_code == 200
    db.session.expire_all()
    meeting = service.get_meeting(published.id)
    checked = {p.user_id for p in meeting.participants if p.checked_in_at is not None}
    assert checked == {cabinet["member"].id, cabinet["member2"].id, cabinet["chair"].id}
    assert service.quorum(meeting).present == 3
    assert audit_actions().count("attendance.check_in") == 3
    # Again with one more: the three keep their check-in, one is added.
    third = service.participant_of(meeting, cabinet["member3"])
    _post(client, published, "check-in-many",
          {"participant_ids": [str(p.id) for p in chosen] + [str(third.id)], "mode": "remote"})
    assert audit_actions().count("attendance.check_in") == 4


def test_bulk_check_in_refusals_are_clear(client, draft, cabinet):
    login(client, cabinet["secretary"].email, PASSWORD)
    member = service.participant_of(draft, cabinet["member"])
    r = _post(client, draft, "check-in-many", {"participant_ids": [str(member.id)], "mode": "room"})
    assert r.status_code == 200 and "flash-error" in r.get_data(as_text=True)  # a draft: not open yet
    assert service.participant_of(draft, cabinet["member"]).checked_in_at is None
    r = _post(client, draft, "check-in-many", {"participant_ids": [], "mode": "room"})
    assert r.status_code == 200 and "flash-error" in r.get_data(as_text=True)
    r = _post(client, draft, "check-in-many", {"participant_ids": [str(member.id)], "mode": "moon"})
    assert r.status_code == 200 and "flash-error" in r.get_data(as_text=True)
    r = _post(client, draft, "check-in-many", {"participant_ids": ["999999"], "mode": "room"})
    assert r.status_code == 404


def test_invitations_are_sent_and_recorded(app, client, published, cabinet):
    login(client, cabinet["secretary"].email, PASSWORD)
    chosen = [service.participant_of(published, cabinet[name]) for name in ("member", "member2")]
    r = _post(client, published, "invite", {"participant_ids": [str(p.id) for p in chosen]})
    assert r.status_code == 200
    assert _sent(N_INVITATION) == sorted([cabinet["member"].id, cabinet["member2"].id])
    assert audit_actions()[-1] == "participant.invitation"
    page = r.get_data(as_text=True)
    told = service.notices_of(service.get_meeting(published.id))
    assert told[cabinet["member"].id].invited_at is not None and cabinet["member3"].id not in told
    assert page.count("Đã mời") >= 2  # "Invited <time>" in the row of each
    # The member reads the invitation in their language, with the meeting's time in its zone.
    member = app.test_client()
    login(member, cabinet["member"].email, PASSWORD)
    home = member.get("/").get_data(as_text=True)
    assert "Kính mời đồng chí dự phiên họp" in home and published.title in home


def test_invitations_wait_for_the_published_agenda(client, draft, cabinet):
    login(client, cabinet["secretary"].email, PASSWORD)
    member = service.participant_of(draft, cabinet["member"])
    r = _post(client, draft, "invite", {"participant_ids": [str(member.id)]})
    assert "flash-error" in r.get_data(as_text=True) and _sent(N_INVITATION) == []
    r = _post(client, draft, "remind", {})
    assert "flash-error" in r.get_data(as_text=True) and _sent(N_REMINDER) == []


def test_reminder_goes_only_to_those_who_have_not_acknowledged(client, published, cabinet):
    service.respond(actor(cabinet["member"]), published, Attendance.IN_PERSON)
    service.mark_version_seen(actor(cabinet["secretary"]), published)
    db.session.commit()
    login(client, cabinet["secretary"].email, PASSWORD)
    r = _post(client, published, "remind", {})
    assert r.status_code == 200
    reminded = set(_sent(N_REMINDER))
    assert cabinet["member"].id not in reminded and cabinet["secretary"].id not in reminded
    assert {cabinet["member2"].id, cabinet["member3"].id, cabinet["chair"].id} <= reminded
    assert audit_actions()[-1] == "participant.reminder"
    _post(client, published, "remind", {})
    told = service.notices_of(service.get_meeting(published.id))
    assert told[cabinet["member2"].id].reminders == 2 and cabinet["member"].id not in told
    assert "Đã nhắc 2 lần" in _page(client, published)


def test_no_reminder_when_everyone_has_acknowledged(client, published, cabinet):
    meeting = published
    for p in meeting.participants:
        if p.is_voting_member:
            service.respond(actor(p.user), meeting, Attendance.REMOTE)
        else:
            p.last_seen_version = meeting.agenda_version
    db.session.commit()
    login(client, cabinet["secretary"].email, PASSWORD)
    r = _post(client, meeting, "remind", {})
    assert "flash-error" in r.get_data(as_text=True) and _sent(N_REMINDER) == []


def test_notices_are_emailed_when_email_is_set_up(app, client, published, cabinet):
    from ecabinet.jobs import huey

    huey.flush()
    app.config["SMTP_URL"] = "smtp://127.0.0.1:25"
    login(client, cabinet["secretary"].email, PASSWORD)
    _post(client, published, "remind", {})
    tasks = [t for t in huey.pending() if t.name.endswith("send_notification_email")]
    recipients = [address for t in tasks for address in t.args[0]]
    text = " ".join(t.args[1] for t in tasks)
    assert "member2@example.gov.vn" in recipients and published.title in text
    huey.flush()
    assert service.get_meeting(published.id).status is MeetingStatus.PUBLISHED
