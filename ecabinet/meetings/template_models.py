"""Agenda templates: a regular meeting's standing items, kept by the secretariat to start a meeting from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecabinet.core.types import UTCDateTime, str_enum, utcnow
from ecabinet.extensions import db
from ecabinet.meetings.models import ItemKind


class AgendaTemplate(db.Model):
    """A named list of standing items, e.g. "Phiên họp Chính phủ thường kỳ tháng"."""

    __tablename__ = "agenda_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                      nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[AgendaTemplateItem]] = relationship(back_populates="template",
                                                           order_by="AgendaTemplateItem.position",
                                                           cascade="all, delete-orphan")

    @property
    def total_minutes(self) -> int:
        return sum(item.duration_minutes for item in self.items)

    def __repr__(self) -> str:
        return f"<AgendaTemplate {self.id} {self.name!r}>"


class AgendaTemplateItem(db.Model):
    """One standing item of a template: what a new meeting's agenda item starts as."""

    __tablename__ = "agenda_template_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("agenda_template.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based order
    title: Mapped[str] = mapped_column(String(300))
    ministry: Mapped[str] = mapped_column(String(200), default="")
    duration_minutes: Mapped[int] = mapped_column(Integer, default=10)
    kind: Mapped[ItemKind] = mapped_column(str_enum(ItemKind, "item_kind"), default=ItemKind.DECISION)

    template: Mapped[AgendaTemplate] = relationship(back_populates="items")
