"""The demo cabinet's people (fictitious): the accounts every domain's demo data refers to."""

from __future__ import annotations

from collections.abc import Iterator

from ecabinet.accounts import service as accounts
from ecabinet.accounts.models import Role
from ecabinet.core.actor import Actor

DEMO_DOMAIN = "ecabinet.gov.vn"

CHAIR = ("thutuong", "Nguyễn Văn An", "Thủ tướng Chính phủ", "Chính phủ")

MEMBERS = [
    ("ptt.hung", "Trần Quốc Hùng", "Phó Thủ tướng Thường trực", "Chính phủ"),
    ("ptt.lan", "Lê Thị Lan", "Phó Thủ tướng", "Chính phủ"),
    ("ptt.minh", "Phạm Đức Minh", "Phó Thủ tướng", "Chính phủ"),
    ("bt.quocphong", "Hoàng Văn Dũng", "Bộ trưởng Bộ Quốc phòng", "Bộ Quốc phòng"),
    ("bt.congan", "Vũ Minh Tuấn", "Bộ trưởng Bộ Công an", "Bộ Công an"),
    ("bt.ngoaigiao", "Đặng Thị Hoa", "Bộ trưởng Bộ Ngoại giao", "Bộ Ngoại giao"),
    ("bt.noivu", "Bùi Văn Thành", "Bộ trưởng Bộ Nội vụ", "Bộ Nội vụ"),
    ("bt.tuphap", "Đỗ Thị Mai", "Bộ trưởng Bộ Tư pháp", "Bộ Tư pháp"),
    ("bt.taichinh", "Ngô Quang Huy", "Bộ trưởng Bộ Tài chính", "Bộ Tài chính"),
    ("bt.congthuong", "Dương Văn Long", "Bộ trưởng Bộ Công Thương", "Bộ Công Thương"),
    ("bt.nongnghiep", "Lý Thị Thu", "Bộ trưởng Bộ Nông nghiệp và Môi trường", "Bộ Nông nghiệp và Môi trường"),
    ("bt.xaydung", "Trịnh Văn Phúc", "Bộ trưởng Bộ Xây dựng", "Bộ Xây dựng"),
    ("bt.vanhoa", "Đinh Thị Ngọc", "Bộ trưởng Bộ Văn hóa, Thể thao và Du lịch", "Bộ Văn hóa, Thể thao và Du lịch"),
    ("bt.khcn", "Mai Xuân Trường", "Bộ trưởng Bộ Khoa học và Công nghệ", "Bộ Khoa học và Công nghệ"),
    ("bt.giaoduc", "Phan Thị Hương", "Bộ trưởng Bộ Giáo dục và Đào tạo", "Bộ Giáo dục và Đào tạo"),
    ("bt.yte", "Tạ Văn Khoa", "Bộ trưởng Bộ Y tế", "Bộ Y tế"),
    ("bt.dantoc", "Hà Văn Sơn", "Bộ trưởng, Chủ nhiệm Ủy ban Dân tộc", "Bộ Dân tộc và Tôn giáo"),
    ("nhnn", "Cao Thị Bích", "Thống đốc Ngân hàng Nhà nước Việt Nam", "Ngân hàng Nhà nước Việt Nam"),
    ("ttcp", "Lương Văn Đạt", "Tổng Thanh tra Chính phủ", "Thanh tra Chính phủ"),
    ("vpcp", "Kiều Minh Quân", "Bộ trưởng, Chủ nhiệm Văn phòng Chính phủ", "Văn phòng Chính phủ"),
    ("bt.gtvt", "Châu Văn Lộc", "Bộ trưởng (phụ trách giao thông)", "Bộ Xây dựng"),
    ("bt.laodong", "Quách Thị Yến", "Bộ trưởng (phụ trách lao động)", "Bộ Nội vụ"),
    ("bt.tttt", "Tôn Đức Khải", "Bộ trưởng (phụ trách chuyển đổi số)", "Bộ Khoa học và Công nghệ"),
    ("bt.kehoach", "Lâm Văn Hải", "Bộ trưởng (phụ trách kế hoạch)", "Bộ Tài chính"),
]

SECRETARIES = [
    ("thuky.linh", "Nguyễn Thùy Linh", "Chuyên viên chính, Vụ Tổng hợp", "Văn phòng Chính phủ"),
    ("thuky.nam", "Trần Hoài Nam", "Chuyên viên, Vụ Tổng hợp", "Văn phòng Chính phủ"),
]

GUEST = ("khach.vien", "Phạm Thị Vân", "Viện trưởng Viện Chiến lược và Chính sách tài chính", "Bộ Tài chính")
ADMIN = ("quantri", "Quản trị hệ thống", "Quản trị viên", "Văn phòng Chính phủ")


def people() -> Iterator[tuple[tuple[str, str, str, str], Role]]:
    yield ADMIN, Role.ADMIN
    yield CHAIR, Role.CHAIR
    for person in MEMBERS:
        yield person, Role.MEMBER
    for person in SECRETARIES:
        yield person, Role.SECRETARY
    yield GUEST, Role.GUEST


def email_of(login: str) -> str:
    return f"{login}@{DEMO_DOMAIN}"




def load_people(password: str) -> int:
    """Create the demo accounts that do not exist yet; returns how many were created."""
    actor = Actor.system("demo")
    created = 0
    for (login, name, title, org), role in people():
        if accounts.find_user_by_email(email_of(login)) is None:
            accounts.create_user(actor, accounts.UserData(email=email_of(login), name=name, title=title,
                                                          organisation=org, role=role), password)
            created += 1
    return created
