"""Demo meeting: a published regular meeting next week, 12 items, positions from part of the cabinet."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ecabinet.accounts import service as accounts
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from ecabinet.meetings import service
from ecabinet.meetings.models import Confidentiality, ItemKind, Meeting, MeetingMode, Position

DEMO_TITLE = "Phiên họp Chính phủ thường kỳ (dữ liệu mẫu)"

D, T, INF = ItemKind.DECISION, ItemKind.DISCUSSION, ItemKind.INFORMATION
# title, ministry, presenter, minutes, kind, confidential
ITEMS = [
    ("Tình hình kinh tế - xã hội tháng và nhiệm vụ tháng tới", "Bộ Tài chính", "Bộ trưởng Bộ Tài chính", 30, T, False),
    ("Dự thảo Nghị định về quản lý nợ công", "Bộ Tài chính", "Bộ trưởng Bộ Tài chính", 15, D, False),
    ("Đề án chuyển đổi số quốc gia giai đoạn tới", "Bộ Khoa học và Công nghệ", "Bộ trưởng Bộ Khoa học và Công nghệ",
     15, D, False),
    ("Báo cáo chiến lược chính sách tài chính trung hạn", "Bộ Tài chính",
     "Phạm Thị Vân, Viện trưởng Viện Chiến lược và Chính sách tài chính", 10, T, False),
    ("Dự thảo Nghị quyết về phát triển nhà ở xã hội", "Bộ Xây dựng", "Bộ trưởng Bộ Xây dựng", 10, D, False),
    ("Phương án bảo đảm an ninh năng lượng", "Bộ Công Thương", "Bộ trưởng Bộ Công Thương", 15, D, True),
    ("Dự thảo Luật sửa đổi Luật Giáo dục đại học", "Bộ Giáo dục và Đào tạo", "Bộ trưởng Bộ Giáo dục và Đào tạo",
     10, D, False),
    ("Kế hoạch phòng, chống dịch bệnh mùa mưa", "Bộ Y tế", "Bộ trưởng Bộ Y tế", 10, D, False),
    ("Chương trình mục tiêu quốc gia vùng đồng bào dân tộc thiểu số", "Bộ Dân tộc và Tôn giáo",
     "Bộ trưởng, Chủ nhiệm Ủy ban Dân tộc", 10, D, False),
    ("Điều hành chính sách tiền tệ", "Ngân hàng Nhà nước Việt Nam", "Thống đốc Ngân hàng Nhà nước Việt Nam",
     10, INF, False),
    ("Kết quả thanh tra, giải quyết khiếu nại, tố cáo", "Thanh tra Chính phủ", "Tổng Thanh tra Chính phủ", 10, INF,
     False),
    ("Chương trình công tác tháng tới của Chính phủ", "Văn phòng Chính phủ",
     "Bộ trưởng, Chủ nhiệm Văn phòng Chính phủ", 5, D, False),
]


def _next_monday(zone: ZoneInfo) -> datetime:
    today = datetime.now(zone).date()
    monday = today + timedelta(days=(7 - today.weekday()) or 7)
    return datetime.combine(monday, time(8, 0), tzinfo=zone)


# The regular monthly meeting's standing items: title, presenting ministry, minutes, kind.
TEMPLATE_NAME = "Phiên họp Chính phủ thường kỳ tháng"
TEMPLATE_ITEMS = [
    ("Báo cáo tình hình kinh tế - xã hội tháng, nhiệm vụ và giải pháp tháng tới", "Bộ Tài chính", 40, T),
    ("Tình hình thực hiện Nghị quyết phiên họp Chính phủ thường kỳ tháng trước", "Văn phòng Chính phủ", 15, INF),
    ("Công tác xây dựng và hoàn thiện thể chế, pháp luật", "Bộ Tư pháp", 20, T),
    ("Tình hình giải ngân vốn đầu tư công", "Bộ Tài chính", 15, T),
    ("Công tác thanh tra, tiếp công dân, giải quyết khiếu nại, tố cáo", "Thanh tra Chính phủ", 10, INF),
    ("Điều hành chính sách tiền tệ", "Ngân hàng Nhà nước Việt Nam", 10, INF),
    ("Thông qua Nghị quyết phiên họp Chính phủ thường kỳ", "Văn phòng Chính phủ", 10, D),
]


def load_template_demo() -> list[str]:
    """One agenda template: the regular monthly meeting's standing items."""
    if any(t.name == TEMPLATE_NAME for t in service.list_templates()):
        return []
    template = service.create_template(Actor.system("demo"), TEMPLATE_NAME, [
        service.TemplateItemData(title=title, ministry=ministry, duration_minutes=minutes, kind=kind)
        for title, ministry, minutes, kind in TEMPLATE_ITEMS])
    return [f"Agenda template: “{template.name}” ({len(template.items)} items)."]


def _presenters() -> dict[str, int]:
    """The demo people who present the items, by the presenter text of ITEMS: the minister of that title,
    or the person whose name the text begins with."""
    from ecabinet.accounts.demo import GUEST, MEMBERS, email_of

    found: dict[str, int] = {}
    for _title, _ministry, presenter, *_rest in ITEMS:
        for login, name, title, _org in [*MEMBERS, GUEST]:
            if presenter == title or presenter.startswith(f"{name},"):
                user = accounts.find_user_by_email(email_of(login))
                if user is not None:
                    found[presenter] = user.id
                break
    return found


def load_meetings_demo(password: str) -> list[str]:
    from ecabinet.accounts.demo import CHAIR, GUEST, MEMBERS, email_of

    lines = load_template_demo()
    if db.session.scalar(select(Meeting).where(Meeting.title == DEMO_TITLE)) is not None:
        return [*lines, "Demo meeting already loaded."]
    actor = Actor.system("demo")
    chair = accounts.find_user_by_email(email_of(CHAIR[0]))
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    start = _next_monday(zone)
    meeting = service.create_meeting(actor, service.MeetingData(
        title=DEMO_TITLE, starts_at=start, ends_at=start + timedelta(hours=3), timezone="Asia/Ho_Chi_Minh",
        place="Phòng họp Chính phủ, Văn phòng Chính phủ, Hà Nội", mode=MeetingMode.HYBRID,
        chair_id=chair.id if chair else None))
    items = []
    presenters = _presenters()
    for title, ministry, presenter, minutes, kind, secret in ITEMS:
        items.append(service.add_item(actor, meeting, service.ItemData(
            title=title, ministry=ministry, presenter=presenter, presenter_id=presenters.get(presenter),
            duration_minutes=minutes, kind=kind,
            confidentiality=Confidentiality.CONFIDENTIAL if secret else Confidentiality.NORMAL,
            summary=f"Tờ trình của {ministry}: {title.lower()}. Đề nghị Chính phủ cho ý kiến.")))
    guest = accounts.find_user_by_email(email_of(GUEST[0]))
    if guest is not None:
        service.invite_guest(actor, items[3], guest)
    service.publish(actor, meeting)
    # Part of the cabinet has already marked positions: agree on most, one objection, one request to speak.
    decisions = [i for i in items if i.kind is ItemKind.DECISION]
    marked = 0
    for n, (login, *_rest) in enumerate(MEMBERS[:14]):
        member = accounts.find_user_by_email(email_of(login))
        if member is None:
            continue
        for item in decisions:
            position = Position.AGREE
            if item is decisions[1] and n == 2:
                position = Position.OBJECT
            elif item is decisions[4] and n == 5:
                position = Position.SPEAK
            service.mark_position(Actor(member), item, position,
                                  "Đề nghị làm rõ nguồn kinh phí." if position is not Position.AGREE else "")
            marked += 1
    return [*lines, f"Demo meeting: “{DEMO_TITLE}” on {start:%Y-%m-%d %H:%M} ({len(items)} items, "
                    f"{marked} positions marked)."]
