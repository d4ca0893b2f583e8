"""Conclusions and action items: assigned per ministry, updated by the responsible person, overdue stands out."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ecabinet.minutes import service
from ecabinet.minutes.models import ActionStatus
from ecabinet.minutes.service import MinutesError
from tests.meetings.conftest import actor


def _action(meeting, cabinet, due: date, ministry: str = "Bộ Thử nghiệm"):
    return service.add_action(actor(cabinet["secretary"]), meeting, service.ActionData(
        title="Hoàn thiện dự thảo nghị định", ministry=ministry, due_date=due, responsible_id=cabinet["member"].id))


def test_conclusions_are_issued_by_the_chair(closed_meeting, cabinet):
    service.save_conclusion(actor(cabinet["secretary"]), closed_meeting, "<p>Thông báo kết luận</p><script>x</script>")
    conclusion = service.conclusion_of(closed_meeting)
    assert "script" not in conclusion.body
    with pytest.raises(MinutesError, match="chair"):
        service.issue_conclusion(actor(cabinet["secretary"]), closed_meeting)
    service.issue_conclusion(actor(cabinet["chair"]), closed_meeting)
    with pytest.raises(MinutesError, match="locked"):
        service.save_conclusion(actor(cabinet["secretary"]), closed_meeting, "<p>sửa</p>")


def test_responsible_person_updates_progress(closed_meeting, cabinet):
    action = _action(closed_meeting, cabinet, date.today() + timedelta(days=10))
    service.update_action(actor(cabinet["member"]), action, "in_progress", "Đã gửi lấy ý kiến các bộ.")
    assert action.status is ActionStatus.IN_PROGRESS and action.updates[-1].note == "Đã gửi lấy ý kiến các bộ."


def test_someone_else_cannot_update(closed_meeting, cabinet):
    action = _action(closed_meeting, cabinet, date.today())
    with pytest.raises(MinutesError, match="responsible"):
        service.update_action(actor(cabinet["member2"]), action, "done", "")


def test_unknown_status_is_refused(closed_meeting, cabinet):
    action = _action(closed_meeting, cabinet, date.today())
    with pytest.raises(MinutesError, match="Unknown status"):
        service.update_action(actor(cabinet["member"]), action, "finished?", "")


def test_overdue_items_stand_out(closed_meeting, cabinet):
    late = _action(closed_meeting, cabinet, date.today() - timedelta(days=1))
    on_time = _action(closed_meeting, cabinet, date.today() + timedelta(days=1))
    done = _action(closed_meeting, cabinet, date.today() - timedelta(days=5))
    service.update_action(actor(cabinet["member"]), done, "done", "Xong")
    assert service.is_overdue(late) and not service.is_overdue(on_time) and not service.is_overdue(done)


def test_each_ministry_sees_its_own_list(closed_meeting, cabinet):
    _action(closed_meeting, cabinet, date.today(), ministry="Bộ Tài chính")
    _action(closed_meeting, cabinet, date.today(), ministry="Bộ Y tế")
    assert [a.ministry for a in service.actions_for(ministry="Bộ Y tế")] == ["Bộ Y tế"]


def test_archive_search_ignores_diacritics(closed_meeting, cabinet):
    from datetime import UTC, datetime

    minutes = service.create_draft(actor(cabinet["secretary"]), closed_meeting)
    # Circulated: a member may open the minutes, so the search may show them (a draft it would not).
    service.circulate(actor(cabinet["secretary"]), minutes, datetime.now(UTC) + timedelta(days=3))
    hits = service.search_archive(cabinet["member"], "bien ban phien hop")
    assert [m.id for m, kind, _e in hits] == [closed_meeting.id]
    assert service.search_archive(cabinet["guest"], "bien ban") == []
