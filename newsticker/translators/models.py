"""Translators the editors keep, and the requests sent to them.

A request names one item (or one article of an issue), one language and one
translator. The translator has no account: the request's random token, mailed to them,
is the key to its page, and only the token's digest is stored (as for a submitter's
private link). The version a translator sends is a row of `item_versions` (or
`article_versions`), owned by the items (issues) package; the request points at it so
that approving the version can close the request.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsticker.core.db import Base, StatusType, UTCDateTime, utcnow
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.issues.models import IssueEntry
from newsticker.items.models import Item

# Translators read their mails and their page in one of the editor area's languages.
MAIL_LANGUAGES = ("de", "en")


class RequestStatus(StrEnum):
    """Where a translation request is."""

    OPEN = "open"  # mailed, waiting for the translator
    SUBMITTED = "submitted"  # the translator sent a version; it waits for an editor
    DECLINED = "declined"  # the translator said no
    EXPIRED = "expired"  # the link ran out before an answer
    PUBLISHED = "published"  # an editor approved the version
    REJECTED = "rejected"  # an editor rejected the version
    WITHDRAWN = "withdrawn"  # an editor took the request back


# Requests the editors still wait on: shown on the dashboard.
PENDING_STATUSES = (RequestStatus.OPEN, RequestStatus.SUBMITTED)

STATUS_LABELS: dict[RequestStatus, Any] = {
    RequestStatus.OPEN: _l("Waiting for the translator"),
    RequestStatus.SUBMITTED: _l("Translation to review"),
    RequestStatus.DECLINED: _l("Declined"),
    RequestStatus.EXPIRED: _l("Expired"),
    RequestStatus.PUBLISHED: _l("Published"),
    RequestStatus.REJECTED: _l("Translation rejected"),
    RequestStatus.WITHDRAWN: _l("Withdrawn"),
}


class Original(NamedTuple):
    """The text a translator translates."""

    title: str
    summary: str
    description: str


class Translator(Base):
    """A volunteer who translates into some languages; no account, only an address."""

    __tablename__ = "translators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # Item language codes (items/languages.py) they translate into.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    mail_language: Mapped[str] = mapped_column(String(5), default="de")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TranslationRequest(Base):
    """One request to one translator for one language of an item or an article."""

    __tablename__ = "translation_requests"
    __table_args__ = (Index("ix_translation_requests_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), index=True
    )
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("issue_entries.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(10))
    translator_id: Mapped[int] = mapped_column(
        ForeignKey("translators.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[RequestStatus] = mapped_column(
        StatusType(RequestStatus, 20), default=RequestStatus.OPEN
    )
    note: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date | None] = mapped_column(Date)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    # The version the translator sent (set on submission).
    item_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("item_versions.id", ondelete="SET NULL"), index=True
    )
    article_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("article_versions.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    translator: Mapped[Translator] = relationship(lazy="joined")
    item: Mapped[Item | None] = relationship()
    entry: Mapped[IssueEntry | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def title(self) -> str:
        """Return the original's title (the item's or the article's)."""
        if self.item is not None:
            return self.item.title
        return self.entry.title if self.entry is not None else ""

    @property
    def original(self) -> Original:
        """Return the text to translate: the item's, or the article's (its body as description)."""
        if self.item is not None:
            return Original(self.item.title, self.item.summary, self.item.description)
        entry = self.entry
        return Original(entry.title, "", entry.body) if entry is not None else Original("", "", "")

    @property
    def source_language(self) -> str:
        """Return the language the original is written in."""
        if self.item is not None:
            return self.item.content_language
        return self.entry.language if self.entry is not None else "de"
