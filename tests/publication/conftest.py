"""Fixtures for open data: a meeting held with ballots, conclusions and secrets of every kind, and a
second meeting that dealt with a confidential item."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ecabinet.extensions import db
from tests.conftest import IsolatedClient
from tests.meetings.conftest import actor, cabinet, draft, published  # noqa: F401 - fixtures reused here
from tests.voting.conftest import close_and_count, cvid, make_live

# What no public answer may ever hold.
GUEST_ITEM = "Mục chỉ dành cho khách mời 9c1e"
CONFIDENTIAL_ITEM = "Mục mật về quốc phòng 4e1a"
CONFIDENTIAL_MEETING = "Phiên họp chuyên đề mật 55aa"
CONFIDENTIAL_CONCLUSION = "Kết luận mật chưa được công bố 3f9d"
DRAFT_SECRET = "Ghi chép nội bộ chưa lưu hành 7f3a"
UNPUBLISHED_BALLOT = "Biểu quyết chưa công bố 6b0c"
# What the chair publishes.
PUBLIC_CONCLUSION = "Chính phủ thống nhất thông qua đề án chuyển đổi số 1a2b"
NAMED_ITEM = "Decision B"
SECRET_ITEM = "Decision D, by secret ballot"


@dataclass
class World:
    meeting: object
    confidential: object
    secret_receipts: list[str] = field(default_factory=list)
    named_receipts: list[str] = field(default_factory=list)

    def item(self, title: str):
        return next(i for i in self.meeting.items if i.title == title)

    @property
    def forbidden(self) -> list[str]:
        """Strings a signed-out reader may never see, whatever is published."""
        return [GUEST_ITEM, CONFIDENTIAL_ITEM, CONFIDENTIAL_MEETING, CONFIDENTIAL_CONCLUSION, DRAFT_SECRET,
                UNPUBLISHED_BALLOT, "Decision A", "Test member", "Test guest", *self.secret_receipts,
                *self.named_receipts]


def _vote(ballot, people, choices: dict[str, str]) -> list[str]:
    from ecabinet.voting import service

    return [service.cast_vote(actor(people[role]), ballot.id, choice, cvid()).code for role, choice in choices.items()]


@pytest.fixture
def world(app, draft, cabinet):  # noqa: F811 - pytest fixtures, imported above
    """The open meeting (``draft``'s three items, a guest's item and one more decision), held: a named
    ballot on "Decision B", a secret one on "Decision D", an open ballot never closed on "Decision A",
    draft minutes and issued conclusions. The confidential meeting: a confidential item and issued conclusions."""
    from ecabinet.meetings import service as meetings
    from ecabinet.meetings.models import CheckInMode, Confidentiality
    from ecabinet.minutes import service as minutes
    from ecabinet.voting import service as voting

    app.test_client_class = IsolatedClient
    secretary, chair = actor(cabinet["secretary"]), actor(cabinet["chair"])
    guest_item = meetings.add_item(secretary, draft, meetings.ItemData(title=GUEST_ITEM))
    meetings.add_item(secretary, draft, meetings.ItemData(title=SECRET_ITEM))
    meetings.publish(secretary, draft)
    meetings.invite_guest(secretary, guest_item, cabinet["guest"])
    meetings.start_meeting(chair, draft)
    for role in ("chair", "member", "member2", "member3"):
        meetings.check_in(secretary, draft, meetings.participant_of(draft, cabinet[role]), CheckInMode.ROOM)
    db.session.commit()
    world = World(meeting=draft, confidential=None)

    named = make_live(draft, cabinet, title="Biểu quyết Nghị quyết B", item_id=world.item(NAMED_ITEM).id)
    voting.open_ballot(chair, named)
    db.session.commit()
    world.named_receipts = _vote(named, cabinet, {"member": "approve", "member2": "approve", "member3": "reject"})
    db.session.commit()
    close_and_count(named, cabinet)

    secret = make_live(draft, cabinet, title="Bỏ phiếu kín Quyết định D", item_id=world.item(SECRET_ITEM).id,
                       secret=True)
    voting.open_ballot(chair, secret)
    db.session.commit()
    world.secret_receipts = _vote(secret, cabinet, {"member": "reject", "member2": "approve", "member3": "abstain"})
    db.session.commit()
    close_and_count(secret, cabinet)

    pending = make_live(draft, cabinet, title=UNPUBLISHED_BALLOT, item_id=world.item("Decision A").id)
    voting.open_ballot(chair, pending)
    db.session.commit()

    record = minutes.create_draft(secretary, draft)
    minutes.save_revision(secretary, record, f"<p>{DRAFT_SECRET}</p>", record.revision)
    minutes.save_conclusion(secretary, draft, f"<p>{PUBLIC_CONCLUSION}</p>")
    minutes.issue_conclusion(chair, draft)
    db.session.commit()

    confidential = meetings.create_meeting(secretary, meetings.MeetingData(
        title=CONFIDENTIAL_MEETING, starts_at=draft.starts_at, ends_at=draft.ends_at, chair_id=cabinet["chair"].id))
    meetings.add_item(secretary, confidential, meetings.ItemData(title=CONFIDENTIAL_ITEM,
                                                                 confidentiality=Confidentiality.CONFIDENTIAL))
    meetings.add_item(secretary, confidential, meetings.ItemData(title="Decision Z"))
    meetings.publish(secretary, confidential)
    meetings.start_meeting(chair, confidential)
    minutes.save_conclusion(secretary, confidential, f"<p>{CONFIDENTIAL_CONCLUSION}</p>")
    minutes.issue_conclusion(chair, confidential)
    db.session.commit()
    world.confidential = confidential
    return world
