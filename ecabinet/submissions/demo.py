"""Demo data: the Ministry of Justice's liaison and two of its submissions, one waiting in the
secretariat's intake queue, one returned for revision. Idempotent: the liaison's account marks it loaded.

The documents are small generated PDFs taken in through the same limited child process as any upload.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from ecabinet.accounts import service as accounts
from ecabinet.accounts.demo import email_of
from ecabinet.accounts.models import Role
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.organisations import service as organisations

LIAISON = ("lienlac.tuphap", "Lưu Thị Hạnh", "Chuyên viên, Văn phòng Bộ Tư pháp", "Bộ Tư pháp")

SUBMISSIONS = [
    # (title, kind, urgency, handling, days to deadline, summary, document paragraphs, returned with)
    ("Dự thảo Nghị định quy định chi tiết Luật Công chứng", "decree", "urgent", "meeting", 20,
     "Bộ Tư pháp kính trình Chính phủ xem xét, cho ý kiến dự thảo Nghị định tại phiên họp thường kỳ.",
     ["## Tờ trình", "Thực hiện Luật Công chứng, Bộ Tư pháp đã chủ trì xây dựng dự thảo Nghị định quy định chi "
      "tiết về tổ chức và hoạt động công chứng.", "Kính trình Chính phủ xem xét, quyết định."], None),
    ("Báo cáo tình hình thi hành pháp luật về xử lý vi phạm hành chính", "report", "normal", "written", 30,
     "Báo cáo định kỳ, đề nghị Chính phủ cho ý kiến bằng phiếu.",
     ["## Báo cáo", "Năm qua, việc thi hành pháp luật về xử lý vi phạm hành chính có nhiều chuyển biến tích cực."],
     "Đề nghị bổ sung số liệu của các địa phương và phụ lục so sánh với năm trước."),
]


def load_submissions_demo(password: str) -> list[str]:
    from ecabinet.documents import service as documents
    from ecabinet.documents.demo_pdf import make_demo_pdf
    from ecabinet.submissions import service

    login, name, title, ministry = LIAISON
    if accounts.find_user_by_email(email_of(login)) is not None:
        return ["Demo submissions already loaded."]
    organisation = organisations.find_by_name(ministry)
    if organisation is None:
        return ["Demo submissions: no Ministry of Justice in the list of organisations."]
    liaison = accounts.create_user(Actor.system("demo"), accounts.UserData(
        email=email_of(login), name=name, title=title, role=Role.LIAISON, organisation_id=organisation.id), password)
    as_liaison, secretariat = Actor(user=liaison), Actor.system("demo")
    with tempfile.TemporaryDirectory() as tmp:
        for n, (subject, kind, urgency, handling, days, summary, paragraphs, returned) in enumerate(SUBMISSIONS):
            path = Path(tmp) / f"{n}.pdf"
            make_demo_pdf(subject, paragraphs, path)
            with path.open("rb") as stream:
                received = documents.receive(stream, f"{subject}.pdf")
            submission = service.create_submission(as_liaison, service.SubmissionData(
                title=subject, kind=kind, urgency=urgency, handling=handling, summary=summary,
                deadline=utcnow() + timedelta(days=days)), [received])
            if returned:
                service.return_for_revision(secretariat, submission, returned)
    return [f"  liaison    {email_of(login)}  ({ministry}; {len(SUBMISSIONS)} demo submissions)"]
