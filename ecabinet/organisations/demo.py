"""The Government's ministries and ministry-level agencies, in the order of precedence in which the
Government lists them: the demo's list of organisations, loaded before the people who belong to them."""

from __future__ import annotations

from ecabinet.core.actor import Actor
from ecabinet.organisations import service

# (name, short name), in the order of precedence.
MINISTRIES = [
    ("Bộ Quốc phòng", "BQP"),
    ("Bộ Công an", "BCA"),
    ("Bộ Ngoại giao", "BNG"),
    ("Bộ Nội vụ", "BNV"),
    ("Bộ Tư pháp", "BTP"),
    ("Bộ Tài chính", "BTC"),
    ("Bộ Công Thương", "BCT"),
    ("Bộ Nông nghiệp và Môi trường", "BNNMT"),
    ("Bộ Xây dựng", "BXD"),
    ("Bộ Văn hóa, Thể thao và Du lịch", "BVHTTDL"),
    ("Bộ Khoa học và Công nghệ", "BKHCN"),
    ("Bộ Giáo dục và Đào tạo", "BGDĐT"),
    ("Bộ Y tế", "BYT"),
    ("Bộ Dân tộc và Tôn giáo", "BDTTG"),
    ("Ngân hàng Nhà nước Việt Nam", "NHNN"),
    ("Thanh tra Chính phủ", "TTCP"),
    ("Văn phòng Chính phủ", "VPCP"),
]


def load_organisations() -> list[str]:
    """Create the ministries that are missing and put the list in the order of precedence."""
    before = len(service.list_organisations())
    service.ensure(Actor.system("demo"), MINISTRIES)
    created = len(service.list_organisations()) - before
    return [f"Organisations: {created} ministries and agencies added." if created
            else "Organisations already loaded."]
