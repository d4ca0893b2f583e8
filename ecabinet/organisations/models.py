"""An organisation: a ministry or agency of the Government, in the order of precedence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ecabinet.core.types import UTCDateTime, utcnow
from ecabinet.extensions import db


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str] = mapped_column(String(60), default="")
    # Lower comes first, as the Government lists its ministries; gaps leave room to insert.
    precedence: Mapped[int] = mapped_column(Integer)
    # A deactivated organisation stays linked from old rows but is offered in no picker.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def label(self) -> str:
        """How lists show it: the short name when there is one."""
        return self.short_name or self.name

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"
