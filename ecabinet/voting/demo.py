"""Demo ballots: an open written-opinion ballot with part of the cabinet answered, a closed one with its
summary, a secret one whose voting has ended and which waits for its key holders to count it, and a
live vote ready to open in the demo meeting. Idempotent."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from ecabinet.accounts import service as accounts
from ecabinet.core import uow
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings.models import ItemKind, Meeting
from ecabinet.voting import service
from ecabinet.voting.models import Ballot

OPEN_TITLE = "Lấy ý kiến thành viên Chính phủ về dự thảo Nghị định quản lý dữ liệu số (mẫu)"
CLOSED_TITLE = "Lấy ý kiến thành viên Chính phủ về Đề án phát triển nhà ở xã hội (mẫu)"
LIVE_TITLE = "Thông qua Nghị quyết phiên họp Chính phủ thường kỳ (mẫu)"
PERSONNEL_TITLE = "Lấy phiếu kín về nhân sự đề cử Thứ trưởng (mẫu)"

_COMMENTS = {
    "disagree": ["Đề nghị làm rõ nguồn lực thực hiện.", "Chưa đánh giá đủ tác động đến doanh nghiệp nhỏ."],
    "other": ["Đề nghị bổ sung quy định chuyển tiếp 12 tháng.", "Cần lấy thêm ý kiến của các địa phương.",
              "Thống nhất về chủ trương, đề nghị chỉnh sửa Điều 5 cho rõ thẩm quyền."],
}


def _answer(rng: random.Random, question_ids: list[int]) -> dict:
    answers = {}
    for qid in question_ids:
        choice = rng.choices(["agree", "disagree", "other"], weights=[7, 1, 2])[0]
        answers[str(qid)] = {"choice": choice, "comment": rng.choice(_COMMENTS[choice])} if choice != "agree" \
            else {"choice": "agree"}
    return answers


def _written(title: str, questions: list[str], days: int, secret: bool = False) -> Ballot:
    from ecabinet.accounts.demo import CHAIR, SECRETARIES, email_of

    secretary = Actor(accounts.find_user_by_email(email_of(SECRETARIES[0][0])), label="demo")
    chair = Actor(accounts.find_user_by_email(email_of(CHAIR[0])), label="demo")
    ballot = service.create_ballot(secretary, service.BallotData(
        title=title, kind="written", questions=questions, deadline=utcnow() + timedelta(days=days), secret=secret,
        description="Văn phòng Chính phủ đề nghị các thành viên Chính phủ cho ý kiến vào phiếu trước hạn.",
        attachments=[{"title": "Tờ trình và dự thảo", "url": "/meetings"}]))
    service.approve_ballot(chair, ballot)
    service.send_ballot(secretary, ballot)
    return ballot


def _answers_from(ballot: Ballot, count: int, seed: int) -> int:
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible
    # A vote is a unit of work of its own (it starts a fresh transaction): what is loaded so far goes first.
    uow.commit()
    voters = service.voters_of(ballot)[:count]
    qids = [q.id for q in ballot.questions]
    for v in voters:
        user = v.voter
        service.cast_vote(Actor(user, label="demo"), ballot.id, _answer(rng, qids), service.new_client_vote_id(),
                          authenticated_at=utcnow())
    return len(voters)


def load_voting_demo(password: str) -> list[str]:
    lines = []
    if db.session.scalar(select(Ballot.id).where(Ballot.title == OPEN_TITLE)) is None:
        ballot = _written(OPEN_TITLE, ["Đồng ý với sự cần thiết ban hành Nghị định?",
                                       "Đồng ý với phạm vi điều chỉnh và đối tượng áp dụng?",
                                       "Đồng ý với quy định về trách nhiệm của các bộ, ngành?"], days=3)
        n = _answers_from(ballot, 15, seed=6)
        lines.append(f"Voting demo: written-opinion ballot {ballot.id} open, {n} of {ballot.eligible_count} answered")
    if db.session.scalar(select(Ballot.id).where(Ballot.title == CLOSED_TITLE)) is None:
        ballot = _written(CLOSED_TITLE, ["Đồng ý thông qua Đề án?", "Đồng ý với lộ trình thực hiện 2026–2030?"],
                          days=1)
        n = _answers_from(ballot, 21, seed=9)
        db.session.refresh(ballot)
        if ballot.status.value == "open":
            service.close_ballot(Actor.system("demo"), ballot, reason="deadline")
        lines.append(f"Voting demo: written-opinion ballot {ballot.id} closed with its summary ({n} answers)")
    if db.session.scalar(select(Ballot.id).where(Ballot.title == PERSONNEL_TITLE)) is None:
        ballot = _written(PERSONNEL_TITLE, ["Đồng ý đề cử nhân sự theo Tờ trình?"], days=1, secret=True)
        n = _answers_from(ballot, 18, seed=11)
        db.session.refresh(ballot)
        if ballot.status.value == "open":
            service.close_ballot(Actor.system("demo"), ballot, reason="deadline")
        lines.append(f"Voting demo: secret ballot {ballot.id} closed with {n} sealed answers, waiting for a chair "
                     "and then the secretariat to open its seal")
    from ecabinet.meetings.demo import DEMO_TITLE

    meeting = db.session.scalar(select(Meeting).where(Meeting.title == DEMO_TITLE))
    if meeting is not None and db.session.scalar(select(Ballot.id).where(Ballot.title == LIVE_TITLE)) is None:
        from ecabinet.accounts.demo import SECRETARIES, email_of

        item = next((i for i in meeting.items if i.kind is ItemKind.DECISION), None)
        secretary = Actor(accounts.find_user_by_email(email_of(SECRETARIES[0][0])), label="demo")
        ballot = service.create_ballot(secretary, service.BallotData(
            title=LIVE_TITLE, kind="live", meeting_id=meeting.id, item_id=item.id if item else None))
        lines.append(f"Voting demo: live vote {ballot.id} ready for the chair to open in “{meeting.title}”")
    return lines or ["Voting demo already loaded."]
