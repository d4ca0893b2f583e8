"""Demo data: briefing PDFs with real Vietnamese text on the demo meeting's items.

Idempotent (an item that already has documents is left alone) and quick: four small generated PDFs,
each taken in through the service, so through the same limited child process as any upload.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from sqlalchemy import select

from ecabinet.core.actor import Actor
from ecabinet.extensions import db

# (item title starts with, document title, paragraphs, confidential)
BRIEFINGS = [
    ("Dự thảo Nghị định về quản lý nợ công", "Tờ trình dự thảo Nghị định về quản lý nợ công", [
        "## Sự cần thiết ban hành Nghị định",
        "Thực hiện Luật Quản lý nợ công, Bộ Tài chính đã chủ trì xây dựng dự thảo Nghị định quy định chi tiết "
        "về vay, trả nợ và quản lý rủi ro danh mục nợ của Chính phủ.",
        "## Nội dung chủ yếu",
        "Dự thảo quy định hạn mức vay hằng năm, trình tự phê duyệt khoản vay ODA và vay ưu đãi nước ngoài, "
        "trách nhiệm báo cáo, công khai thông tin về nợ công.",
        "Kính trình Chính phủ xem xét, cho ý kiến.",
    ], False),
    ("Dự thảo Nghị định về quản lý nợ công", "Báo cáo thẩm định của Bộ Tư pháp", [
        "## Ý kiến thẩm định",
        "Bộ Tư pháp cơ bản thống nhất với dự thảo Nghị định; đề nghị làm rõ thẩm quyền quyết định điều chỉnh "
        "hạn mức vay và bổ sung đánh giá tác động đối với ngân sách địa phương.",
    ], False),
    ("Đề án chuyển đổi số quốc gia", "Đề án chuyển đổi số quốc gia — tóm tắt", [
        "## Mục tiêu",
        "Đến cuối giai đoạn, 100% hồ sơ công việc cấp bộ, cấp tỉnh được xử lý trên môi trường mạng; "
        "dữ liệu dân cư, đất đai, doanh nghiệp được kết nối, chia sẻ.",
        "## Giải pháp",
        "Hoàn thiện thể chế về giao dịch điện tử, chữ ký số; phát triển hạ tầng số và nền tảng số quốc gia; "
        "bảo đảm an toàn, an ninh mạng.",
    ], False),
    ("Phương án bảo đảm an ninh năng lượng", "Phương án bảo đảm an ninh năng lượng (MẬT)", [
        "## Đánh giá tình hình",
        "Nhu cầu điện tăng bình quân khoảng 9% mỗi năm; nguồn điện mới chậm tiến độ tại một số dự án trọng điểm.",
        "## Phương án",
        "Ưu tiên đưa vào vận hành các nguồn điện khí, điện gió ngoài khơi; dự trữ nhiên liệu chiến lược.",
    ], True),
]


def load_documents_demo(password: str) -> list[str]:  # noqa: ARG001 - same signature as the other loaders
    from ecabinet.documents import service
    from ecabinet.documents.demo_pdf import make_demo_pdf
    from ecabinet.documents.models import Document
    from ecabinet.meetings.demo import DEMO_TITLE
    from ecabinet.meetings.models import Meeting

    meeting = db.session.scalar(select(Meeting).where(Meeting.title == DEMO_TITLE))
    if meeting is None:
        return ["Demo documents: no demo meeting."]
    if db.session.scalar(select(Document.id).where(Document.meeting_id == meeting.id).limit(1)) is not None:
        return ["Demo documents already loaded."]
    actor = Actor.system("demo")
    added = 0
    with tempfile.TemporaryDirectory() as tmp:
        for prefix, title, paragraphs, confidential in BRIEFINGS:
            item = next((i for i in meeting.items if i.title.startswith(prefix)), None)
            if item is None:
                continue
            path = Path(tmp) / f"{added}.pdf"
            make_demo_pdf(title, paragraphs, path)
            service.upload(actor, item, io.BytesIO(path.read_bytes()), f"{title}.pdf", title=title,
                           confidential=confidential)
            added += 1
    return [f"Demo documents: {added} briefing PDFs on “{DEMO_TITLE}” (search for “no cong” or “chuyen doi so”)."]
