"""Editor accounts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from newsticker.core.db import Base, StatusType, UTCDateTime, utcnow


class Role(StrEnum):
    """What a user may do: editors run the publications, admins also manage users."""

    ADMIN = "admin"
    EDITOR = "editor"


class User(UserMixin, Base):
    """A person who logs in to the editor area."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(StatusType(Role, 20), default=Role.EDITOR)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change or deactivation so every old session cookie stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    language: Mapped[str] = mapped_column(String(5), default="de")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-factor login: the TOTP secret (base32) once set up, and the last time step a
    # code was accepted for, so a code can never be used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Single sign-on: the identity provider's subject ("sub") this account is bound to.
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)

    def get_id(self) -> str:
        """Return the id Flask-Login keeps in the session cookie."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        """Return whether the account may log in."""
        return self.active

    @property
    def is_admin(self) -> bool:
        """Return whether the user has the admin role."""
        return self.role is Role.ADMIN

    @property
    def has_totp(self) -> bool:
        """Return whether the account logs in with a second factor."""
        return bool(self.totp_secret)

    @property
    def display_name(self) -> str:
        """Return the name, or the address when no name is set."""
        return self.name or self.email


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app; only its digest is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordReset(Base):
    """A password reset link sent by mail: single use, expiring; only its digest is kept."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
