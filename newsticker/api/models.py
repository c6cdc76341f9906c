"""API tokens: one per script or system an editor connects, stored as a digest only."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from newsticker.core.db import Base, UTCDateTime, utcnow


class ApiScope(StrEnum):
    """What a token may do: read the editor data, moderate, publish issues, manage the list."""

    READ = "read"
    MODERATE = "moderate"
    PUBLISH = "publish"
    SUBSCRIBERS = "subscribers"


class ApiToken(Base):
    """A bearer token of an account; the secret itself is shown once and never stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the whole token (core.tokens.token_digest); the prefix is what lists show.
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def usable(self, now: datetime) -> bool:
        """Return whether the token may still authenticate (not revoked, not expired)."""
        return self.revoked_at is None and self.expires_at > now

    def allows(self, scope: ApiScope) -> bool:
        """Return whether the token was given this scope."""
        return scope.value in self.scopes
