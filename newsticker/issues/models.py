"""Issues of a publication: their entries, key figures and the snapshot frozen for sending."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsticker.core.db import Base, StatusType, UTCDateTime, utcnow
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.items.models import Item, VersionSource, VersionStatus


class IssueStatus(StrEnum):
    """Where an issue is on its way to the readers."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


# Statuses whose rendering is frozen in snapshots (delivery may add "paused" here).
FROZEN_STATUSES = frozenset({IssueStatus.SENDING, IssueStatus.SENT})
# Issues in these statuses count as "published" when a new draft picks its items.
CLAIMING_STATUSES = frozenset(
    {IssueStatus.DRAFT, IssueStatus.SCHEDULED, IssueStatus.SENDING, IssueStatus.SENT}
)
# Issues in these statuses lead the editor's list.
OPEN_STATUSES = frozenset({IssueStatus.DRAFT, IssueStatus.SCHEDULED, IssueStatus.SENDING})

STATUS_LABELS: dict[IssueStatus, Any] = {
    IssueStatus.DRAFT: _l("Draft"),
    IssueStatus.SCHEDULED: _l("Scheduled"),
    IssueStatus.SENDING: _l("Sending"),
    IssueStatus.SENT: _l("Sent"),
    IssueStatus.CANCELLED: _l("Cancelled"),
}

# Sections an issue can have; which ones and in what order is publication config.
ITEM_SECTIONS = ("events", "announcements", "calls")
# How far ahead an issue reaches for events, by its publication's cadence: a draft offers
# events of this period, and a series shows its dates inside it.
HORIZON_DAYS = {"weekly": 14, "monthly": 35, "quarterly": 92}
SECTION_KINDS = {"events": "event", "announcements": "announcement", "calls": "call"}
SECTION_LABELS: dict[str, Any] = {
    "events": _l("Events"),
    "announcements": _l("Announcements"),
    "calls": _l("Calls for volunteers"),
    "articles": _l("Articles"),
    "figures": _l("Facts and figures"),
}


class Issue(Base):
    """One issue of a publication, from draft to sent."""

    __tablename__ = "issues"
    __table_args__ = (
        UniqueConstraint("publication", "number"),
        Index("ix_issues_status_scheduled", "status", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    publication: Mapped[str] = mapped_column(String(40))
    number: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(200), default="")
    preheader: Mapped[str] = mapped_column(String(200), default="")
    editorial: Mapped[str] = mapped_column(Text, default="")
    # One image above the editorial (a file among the item images) and its description.
    editorial_image_file: Mapped[str | None] = mapped_column(String(80))
    editorial_image_alt: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[IssueStatus] = mapped_column(
        StatusType(IssueStatus, 20), default=IssueStatus.DRAFT
    )
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Events from this moment on are what the draft offered (the planned send time).
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The editor accepted an HTML part above the size limit (Gmail will clip it).
    size_override: Mapped[bool] = mapped_column(default=False)
    # The other publications whose subscribers also receive this issue (a special
    # edition); None until an editor chooses: then the configured also_send_to applies.
    also_send_to: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Optimistic locking: every change bumps it; a save based on an older version is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)

    entries: Mapped[list[IssueEntry]] = relationship(
        back_populates="issue",
        cascade="all, delete-orphan",
        order_by="(IssueEntry.section, IssueEntry.position, IssueEntry.id)",
    )
    figures: Mapped[list[KeyFigure]] = relationship(
        back_populates="issue",
        cascade="all, delete-orphan",
        order_by="(KeyFigure.position, KeyFigure.id)",
    )
    snapshots: Mapped[list[IssueSnapshot]] = relationship(
        back_populates="issue", cascade="all, delete-orphan", order_by="IssueSnapshot.language"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_draft(self) -> bool:
        """Return whether the issue can still be edited."""
        return self.status == IssueStatus.DRAFT

    @property
    def is_frozen(self) -> bool:
        """Return whether the issue's rendering is frozen in snapshots."""
        return self.status in FROZEN_STATUSES

    def window_end(self, cadence: str) -> datetime | None:
        """Return the end of the period the issue covers, for its publication's cadence."""
        start = self.window_start or self.scheduled_at or self.sent_at or self.created_at
        if start is None:
            return None
        return start + timedelta(days=HORIZON_DAYS[cadence])

    def section_entries(self, section: str) -> list[IssueEntry]:
        """Return the entries of one section in their order."""
        return sorted(
            (e for e in self.entries if e.section == section), key=lambda e: (e.position, e.id or 0)
        )


class IssueEntry(Base):
    """One entry of an issue: an item (an event may pin one date) or an article of its own."""

    __tablename__ = "issue_entries"
    __table_args__ = (Index("ix_issue_entries_item", "item_id", "occurrence_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    section: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    # For a recurring event: the date this entry announces (its start, UTC).
    occurrence_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An article (section "articles") carries its own content instead of an item.
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(1000), default="")
    language: Mapped[str] = mapped_column(String(10), default="de")
    # An article's one image (a file among the item images) and its description.
    image_file: Mapped[str | None] = mapped_column(String(80))
    image_alt: Mapped[str] = mapped_column(String(300), default="")

    issue: Mapped[Issue] = relationship(back_populates="entries")
    item: Mapped[Item | None] = relationship(lazy="joined")
    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="entry",
        cascade="all, delete-orphan",
        order_by="ArticleVersion.language",
        lazy="selectin",
    )

    @property
    def is_article(self) -> bool:
        """Return whether the entry is an article written for the issue."""
        return self.item_id is None and self.section == "articles"

    def version_in(self, language: str) -> ArticleVersion | None:
        """Return the article's approved version in a language, or None."""
        for found in self.versions:
            if found.language == language and found.status == VersionStatus.APPROVED:
                return found
        return None


class ArticleVersion(Base):
    """An article's title and body in one more language (the article's own is the original)."""

    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("entry_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("issue_entries.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[VersionStatus] = mapped_column(
        StatusType(VersionStatus, 20), default=VersionStatus.SUBMITTED
    )
    source: Mapped[VersionSource] = mapped_column(StatusType(VersionSource, 20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[IssueEntry] = relationship(back_populates="versions")


class KeyFigure(Base):
    """One key figure of "facts and figures": label, value, unit, period and source."""

    __tablename__ = "issue_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(200))
    # The exact decimal as text ("1234.5"): no float rounding, no backend differences.
    value: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(40), default="")
    period: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(300), default="")

    issue: Mapped[Issue] = relationship(back_populates="figures")


class IssueSnapshot(Base):
    """The rendered issue in one language, frozen when sending starts; never changed after.

    `html` and `text` hold placeholders for the personal values (see rendering.py), so the
    archive and every sender worker use exactly what was frozen.
    """

    __tablename__ = "issue_snapshots"
    __table_args__ = (UniqueConstraint("issue_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200))
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    marker: Mapped[str] = mapped_column(String(64))
    html_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issue: Mapped[Issue] = relationship(back_populates="snapshots")
