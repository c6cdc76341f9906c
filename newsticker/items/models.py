"""Events, announcements and calls for volunteers, and their audit trail.

An item's kind and status are StrEnums in columns of `StatusType`: stored as their
values in a VARCHAR (the schema is the one of plain strings), read back as members.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsticker.core.db import Base, StatusType, UTCDateTime, utcnow
from newsticker.core.i18n import lazy_gettext as _l


class ItemKind(StrEnum):
    """What an item is."""

    EVENT = "event"
    ANNOUNCEMENT = "announcement"
    CALL = "call"


class VersionStatus(StrEnum):
    """Where a language version of an item or article is in moderation."""

    SUBMITTED = "submitted"  # waiting for an editor (from a submitter or translator)
    APPROVED = "approved"  # shown to the public and used in mails
    REJECTED = "rejected"


class VersionSource(StrEnum):
    """Who wrote a language version."""

    SUBMITTER = "submitter"
    EDITOR = "editor"
    TRANSLATOR = "translator"


class ItemStatus(StrEnum):
    """Where an item is in moderation."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


# The five fields of action of the city's integration plan, plus "general".
FIELDS_OF_ACTION: dict[str, Any] = {
    "work": _l("Training & work"),
    "education": _l("Education & language"),
    "health": _l("Health"),
    "volunteering": _l("Volunteering"),
    "encounter": _l("Encounter"),
    "general": _l("General"),
}

# Keyed by the members; a StrEnum hashes as its value, so a plain string finds its label too.
KIND_LABELS: dict[ItemKind, Any] = {
    ItemKind.EVENT: _l("Event"),
    ItemKind.ANNOUNCEMENT: _l("Announcement"),
    ItemKind.CALL: _l("Call for volunteers"),
}

STATUS_LABELS: dict[ItemStatus, Any] = {
    ItemStatus.SUBMITTED: _l("Submitted"),
    ItemStatus.APPROVED: _l("Approved"),
    ItemStatus.REJECTED: _l("Rejected"),
    ItemStatus.WITHDRAWN: _l("Withdrawn"),
    ItemStatus.EXPIRED: _l("Expired"),
}


# The item history in words: what happened, who did it, which field changed. Unknown
# words (from an older version) are shown as they are stored.
AUDIT_ACTION_LABELS: dict[str, Any] = {
    "created": _l("created"),
    "submitted": _l("submitted"),
    "edited": _l("edited"),
    "approved": _l("approved"),
    "rejected": _l("rejected"),
    "withdrawn": _l("withdrawn"),
    "expired": _l("expired"),
    "merged": _l("merged with a duplicate"),
    "merged_into": _l("merged into another submission"),
    "version_proposed": _l("language version proposed"),
    "version_approved": _l("language version approved"),
    "version_rejected": _l("language version rejected"),
}
AUDIT_ACTOR_LABELS: dict[str, Any] = {
    "submitter": _l("the submitter"),
    "editor": _l("an editor"),
    "system": _l("the system"),
    "translator": _l("a translator"),
    "demo": _l("demo content"),
    "test": _l("a test"),
}
AUDIT_FIELD_LABELS: dict[str, Any] = {
    "kind": _l("Type"),
    "title": _l("Title"),
    "summary": _l("Short description"),
    "description": _l("More details"),
    "field_of_action": _l("Field of action"),
    "tags": _l("Keywords"),
    "event_languages": _l("Languages spoken at the event"),
    "content_language": _l("Language of this text"),
    "starts_at": _l("Start"),
    "ends_at": _l("End"),
    "all_day": _l("All day (no times)"),
    "recurrence": _l("Repeats"),
    "visible_until": _l("Show until"),
    "place_name": _l("Place"),
    "place_address": _l("Address"),
    "accessibility_note": _l("Accessibility"),
    "organiser": _l("Organiser"),
    "contact_name": _l("Contact person"),
    "contact_email": _l("Contact e-mail"),
    "contact_phone": _l("Contact phone"),
    "link": _l("Web link"),
    "image_file": _l("Image"),
    "image_alt": _l("Image description"),
}


class Item(Base):
    """One submission: an event, an announcement or a call for volunteers."""

    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_status_starts", "status", "starts_at"),
        Index("ix_items_dupe", "title_key", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ItemKind] = mapped_column(StatusType(ItemKind, 20))
    status: Mapped[ItemStatus] = mapped_column(
        StatusType(ItemStatus, 20), default=ItemStatus.SUBMITTED
    )
    title: Mapped[str] = mapped_column(String(200))
    # Case- and space-folded title, for finding duplicates (same title and start).
    title_key: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(String(600), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    field_of_action: Mapped[str] = mapped_column(String(20), default="general")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    event_languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    content_language: Mapped[str] = mapped_column(String(10), default="de")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    # SQL NULL (not JSON null) for "does not repeat", so lists can filter on it.
    recurrence: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # Last moment any occurrence ends; what expiry and the public lists filter on.
    last_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    visible_until: Mapped[date | None] = mapped_column(Date)
    place_name: Mapped[str] = mapped_column(String(200), default="")
    place_address: Mapped[str] = mapped_column(String(300), default="")
    accessibility_note: Mapped[str] = mapped_column(String(500), default="")
    organiser: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(320), default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="")
    link: Mapped[str] = mapped_column(String(1000), default="")
    image_file: Mapped[str | None] = mapped_column(String(100))
    image_alt: Mapped[str] = mapped_column(String(300), default="")
    submitter_email: Mapped[str] = mapped_column(String(320), default="")
    submitter_language: Mapped[str] = mapped_column(String(5), default="de")
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    edit_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Demo content and imports are recognised by this key so loading them twice is harmless.
    external_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    audit: Mapped[list[ItemAudit]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ItemAudit.id"
    )

    versions: Mapped[list[ItemVersion]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ItemVersion.language"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_event(self) -> bool:
        """Return whether the item is an event with dates."""
        return self.kind == ItemKind.EVENT

    def version_in(self, language: str) -> ItemVersion | None:
        """Return the approved version in a language, or None (the original is not one)."""
        for found in self.versions:
            if found.language == language and found.status == VersionStatus.APPROVED:
                return found
        return None

    @property
    def approved_languages(self) -> list[str]:
        """Return the original language and those of the approved versions, original first."""
        return [
            self.content_language,
            *(v.language for v in self.versions if v.status == VersionStatus.APPROVED),
        ]


class ItemVersion(Base):
    """An item's title, summary and description in one more language.

    Dates, place and organiser are the item's own; a version carries only the text. The
    original language stays on the item (`content_language`); a version in that language
    is refused by the services.
    """

    __tablename__ = "item_versions"
    __table_args__ = (UniqueConstraint("item_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(600), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # The description as plain text (for feeds, mails and search), derived on every change.
    description_text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[VersionStatus] = mapped_column(
        StatusType(VersionStatus, 20), default=VersionStatus.SUBMITTED
    )
    source: Mapped[VersionSource] = mapped_column(StatusType(VersionSource, 20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    item: Mapped[Item] = relationship(back_populates="versions")

    @property
    def is_approved(self) -> bool:
        """Return whether the version is shown to the public and used in mails."""
        return self.status == VersionStatus.APPROVED


class ItemAudit(Base):
    """One change to an item: who, when, what."""

    __tablename__ = "item_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")

    item: Mapped[Item] = relationship(back_populates="audit")


class RejectionReason(Base):
    """A rejection reason the admins keep, for editors to choose instead of writing one."""

    __tablename__ = "rejection_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What editors see in the list ("Outside our city", "Commercial offer").
    label: Mapped[str] = mapped_column(String(100), unique=True)
    # What the submitter reads, as written (the decision mail quotes it).
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
