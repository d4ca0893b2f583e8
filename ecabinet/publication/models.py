"""A publication: one conclusion or one decision of a meeting, made public by the meeting's chair.

What the public reads is frozen when it is published (the title, the text, the counts): a later edit of
the item or the ballot does not change what was published, and the public pages read this table only.
A withdrawn publication keeps its row (who withdrew it, and when); publishing it again is a new row.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecabinet.core.types import UTCDateTime, str_enum, utcnow
from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting


class PublicationKind(enum.StrEnum):
    CONCLUSION = "conclusion"  # the meeting's issued conclusions ("thông báo kết luận")
    DECISION = "decision"      # what the meeting decided on one agenda item, with its ballots' counts


class Publication(db.Model):
    __tablename__ = "publication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    kind: Mapped[PublicationKind] = mapped_column(str_enum(PublicationKind, "publication_kind", 16))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_item.id", ondelete="SET NULL"), nullable=True,
                                                index=True)
    conclusion_id: Mapped[int | None] = mapped_column(ForeignKey("conclusion.id", ondelete="SET NULL"),
                                                      nullable=True)
    # The ministry that presented the item, for OParl's Organization; None for conclusions.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"),
                                                        nullable=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML (the conclusions' text)
    # JSON: {"outcome": code or null, "item_number": n, "ballots": [{"title", "secret", "outcome",
    # "questions": [{"text", "outcome", "counts": [{"key", "label", "count"}]}]}]}: counts and outcomes only.
    result: Mapped[str] = mapped_column(Text, default="{}")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                        nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                        nullable=True)

    meeting: Mapped[Meeting] = relationship()

    @property
    def result_data(self) -> dict[str, Any]:
        return json.loads(self.result or "{}")

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None

    def __repr__(self) -> str:
        return f"<Publication {self.id} {self.kind} meeting={self.meeting_id}>"
