"""Demo: a past meeting with signed final minutes, and conclusions with action items in several states."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ecabinet.accounts import service as accounts
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import CheckInMode, ItemKind, Meeting
from ecabinet.minutes import service

PAST_TITLE = "Phiên họp Chính phủ thường kỳ tháng trước (dữ liệu mẫu)"

PAST_ITEMS = [
    ("Dự thảo Nghị định quy định chi tiết Luật Đầu tư công", "Bộ Tài chính", ItemKind.DECISION),
    ("Đề án phát triển nguồn nhân lực bán dẫn", "Bộ Khoa học và Công nghệ", ItemKind.DECISION),
    ("Tình hình giải ngân vốn đầu tư công", "Bộ Tài chính", ItemKind.DISCUSSION),
    ("Công tác phòng, chống thiên tai", "Bộ Nông nghiệp và Môi trường", ItemKind.INFORMATION),
]

ACTIONS = [  # title, ministry login, days from today, status
    ("Hoàn thiện dự thảo Nghị định, trình ký ban hành", "bt.taichinh", -5, "in_progress"),
    ("Báo cáo tiến độ giải ngân vốn đầu tư công", "bt.taichinh", 10, "open"),
    ("Xây dựng chương trình đào tạo kỹ sư bán dẫn", "bt.khcn", -2, "open"),
    ("Rà soát phương án ứng phó bão lũ", "bt.nongnghiep", -10, "done"),
    ("Tổng hợp ý kiến các bộ về Đề án", "vpcp", 20, "open"),
]


def load_minutes_demo(password: str) -> list[str]:
    from ecabinet.accounts.demo import CHAIR, MEMBERS, SECRETARIES, email_of

    if db.session.scalar(select(Meeting).where(Meeting.title == PAST_TITLE)) is not None:
        return ["Demo minutes already loaded."]
    _ensure_development_signing_key()
    system = Actor.system("demo")
    chair = accounts.find_user_by_email(email_of(CHAIR[0]))
    secretary = accounts.find_user_by_email(email_of(SECRETARIES[0][0]))
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    day = datetime.now(zone).date() - timedelta(days=24)
    start = datetime.combine(day, time(8, 0), tzinfo=zone)
    meeting = meetings.create_meeting(system, meetings.MeetingData(
        title=PAST_TITLE, starts_at=start, ends_at=start + timedelta(hours=3), timezone="Asia/Ho_Chi_Minh",
        place="Phòng họp Chính phủ, Hà Nội", chair_id=chair.id if chair else None))
    for title, ministry, kind in PAST_ITEMS:
        meetings.add_item(system, meeting, meetings.ItemData(title=title, ministry=ministry, kind=kind,
                                                              presenter=f"Lãnh đạo {ministry}", duration_minutes=20))
    meetings.publish(system, meeting)
    meetings.start_meeting(system, meeting)
    for login, *_rest in MEMBERS[:20]:
        member = accounts.find_user_by_email(email_of(login))
        participant = meetings.participant_of(meeting, member) if member else None
        if participant is not None:
            meetings.check_in(system, meeting, participant, CheckInMode.ROOM if len(login) % 3 else CheckInMode.REMOTE)
    from ecabinet.live import service as live

    first = meeting.items[0]
    live.set_item(system, meeting, first.id)
    for login in ("bt.tuphap", "bt.congthuong"):
        member = accounts.find_user_by_email(email_of(login))
        if member is not None:
            request = live.request_floor(Actor(member), meeting, first.id)
            live.grant_floor(system, meeting, request.id)
    meetings.adjourn_meeting(system, meeting)
    meetings.close_meeting(system, meeting)

    sec = Actor(secretary) if secretary else system
    minutes = service.create_draft(sec, meeting)
    body = service.current_body(minutes).replace(
        "<p>Kết luận của Chủ tọa: …</p>",
        "<p>Kết luận của Chủ tọa: Chính phủ thống nhất thông qua; giao cơ quan chủ trì hoàn thiện hồ sơ.</p>", 1)
    service.save_revision(sec, minutes, body, minutes.revision, note="kết luận của Chủ tọa")
    service.circulate(sec, minutes, utcnow() + timedelta(hours=1))
    inline = current_app.config.get("MINUTES_FINALISE_INLINE")
    current_app.config["MINUTES_FINALISE_INLINE"] = True  # the CLI may do CPU work; the web process never
    try:
        service.approve(Actor(chair) if chair else system, minutes)
        # The final PDF is made after the approval commits: commit here, while it is still made in-process.
        db.session.commit()
    finally:
        current_app.config["MINUTES_FINALISE_INLINE"] = inline

    service.save_conclusion(sec, meeting, "<p>Thông báo kết luận của Thủ tướng Chính phủ tại phiên họp.</p>")
    today = datetime.now(zone).date()
    for title, login, days, status in ACTIONS:
        person = accounts.find_user_by_email(email_of(login))
        action = service.add_action(sec, meeting, service.ActionData(
            title=title, ministry=person.organisation if person else "Văn phòng Chính phủ",
            due_date=today + timedelta(days=days), responsible_id=person.id if person else None))
        if status != "open" and person is not None:
            service.update_action(Actor(person), action, status, "Cập nhật tiến độ (dữ liệu mẫu).")
    service.issue_conclusion(Actor(chair) if chair else system, meeting)
    state = "signed" if minutes.signed else f"unsigned: {minutes.signature_error}"
    return [f"Past meeting with final minutes ({state}) and {len(ACTIONS)} action items, some overdue."]


def _ensure_development_signing_key() -> None:
    from ecabinet.minutes.signing import make_self_signed

    key, cert = Path(current_app.config["SIGNING_KEY"]), Path(current_app.config["SIGNING_CERT"])
    if not key.exists() and not cert.exists():
        make_self_signed(key, cert)
