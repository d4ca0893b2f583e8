from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecabinet.core.roles import Role  # the enum lives in core; imported from here too
from ecabinet.core.types import UTCDateTime, str_enum, utcnow
from ecabinet.extensions import db
from ecabinet.organisations.models import Organisation


def role_enum():  # noqa: ANN201
    return str_enum(Role, "user_role", 16)


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")  # kept equal to the linked one's name
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True,
                                                        index=True)
    role: Mapped[Role] = mapped_column(role_enum())
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # 'normal' or 'large' (TEXT_SIZES in the service): large grows the whole interface for reading at arm's length.
    text_size: Mapped[str] = mapped_column(String(8), default="normal", server_default="normal")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sessions: Mapped[list[UserSession]] = relationship(back_populates="user")
    organisation_ref: Mapped[Organisation | None] = relationship(foreign_keys=[organisation_id])

    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    # Flask-Login reads this; an inactive account can never be logged in.
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    @property
    def totp_enabled(self) -> bool:
        return self.totp_secret is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class UserSession(db.Model):
    """One sign-in on one device. Logging out or deactivating revokes it, which ends its sockets too."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # sha256 of the random token kept in the signed session cookie: a database leak yields no usable token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Last time the password (and code) was entered: remote written opinions need a recent one.
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)

    user: Mapped[User] = relationship(back_populates="sessions")


class RoleSetting(db.Model):
    """Per-role security settings an admin can change; today: mandatory two-factor sign-in."""

    __tablename__ = "role_setting"

    role: Mapped[Role] = mapped_column(role_enum(), primary_key=True)
    require_totp: Mapped[bool] = mapped_column(Boolean, default=False)


class CustodyKey(db.Model):
    """A key holder's own key pair for the secret ballot's keys (docs/voting.md, "Threat model").

    The private key is stored only wrapped by a key derived from the holder's password; the derived key
    lives in the holder's signed-in session cookie, never on the server's disk. So a copy of the
    database alone opens nothing."""

    __tablename__ = "custody_key"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))   # X25519, base64
    wrapped_key: Mapped[str] = mapped_column(String(64))  # AES key wrap (RFC 3394) of the private key, base64
    salt: Mapped[str] = mapped_column(String(32))         # argon2id salt of the wrapping key, base64
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
