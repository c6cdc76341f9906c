"""Language versions of items: an item's title, summary and description in more languages.

An item has one original language (`Item.content_language`, its own columns) and any
number of versions in other languages (`ItemVersion`); dates, place and organiser are
shared. A version is proposed by the submitter (with the submission or later through the
private link), by a volunteer translator or by an editor. Editors' versions are approved
at once; the others wait for an editor like an edit does, while the item stays public in
its approved texts. Approving a submitted item approves its pending versions with it.

Every way in (public form, private link, translator link, editor page) goes through
`version_errors`, so the rules are the same everywhere; forms clean the text first.

`item_text` is the one place that picks what a reader sees: the approved version in the
reader's language, else the original. Pages, feeds and mails call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy.orm import Session

from newsticker.auth.models import User
from newsticker.core.audit import actor_or, record_event
from newsticker.core.errors import UserError
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.i18n import text_direction
from newsticker.core.markup import has_control_chars, markdown_to_text
from newsticker.items.languages import LANGUAGE_CODES
from newsticker.items.models import Item, ItemVersion, VersionSource, VersionStatus
from newsticker.items.services.derived import derive_search_text
from newsticker.items.services.editing import current_time, record_audit

# The same limits as the item's own fields (models and the submission form).
MAX_TITLE = 200
MAX_SUMMARY = 600
MAX_DESCRIPTION = 10_000
VERSION_FIELDS = ("title", "summary", "description")


class VersionInput(TypedDict):
    """One version as a form gives it: the language and the three texts (cleaned)."""

    language: str
    title: str
    summary: str
    description: str


class VersionRejected(UserError):
    """A version that breaks the rules; `errors` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[Any]]) -> None:
        first = next(iter(errors.values()))[0]
        super().__init__(first)
        self.errors = errors


@dataclass(frozen=True)
class ItemText:
    """What a reader sees of an item in one language: the texts and how to mark them."""

    title: str
    summary: str
    description: str
    description_text: str
    language: str
    dir: str
    # Whether these are the original texts (no version in the language asked for).
    original: bool


def version_errors(item: Item, data: VersionInput) -> dict[str, list[Any]]:
    """Return field -> messages for a version of this item (empty when it may be stored)."""
    return version_errors_for(item.content_language, data)


def version_errors_for(original_language: str, data: VersionInput) -> dict[str, list[Any]]:
    """Return field -> messages for a version of a text in original_language (a new item's)."""
    errors: dict[str, list[Any]] = {}
    language_error = version_language_error(original_language, data.get("language") or "")
    if language_error is not None:
        errors["language"] = [language_error]
    title = (data.get("title") or "").strip()
    summary = (data.get("summary") or "").strip()
    description = (data.get("description") or "").strip()
    _check(errors, "title", title, MAX_TITLE, _l("Please enter a title."), one_line=True)
    _check(
        errors,
        "summary",
        summary,
        MAX_SUMMARY,
        _l("Please describe the event or offer in one or two sentences."),
    )
    _check(errors, "description", description, MAX_DESCRIPTION, None)
    return errors


def version_language_error(original: str, language: str) -> Any:
    """Return why a version cannot be in this language (None when it can)."""
    language = language.strip()
    if language not in LANGUAGE_CODES:
        return _l("Please choose a language from the list.")
    if language == original:
        return _l(
            "The original text is already in this language. "
            "Please choose the language of the translation."
        )
    return None


def _check(
    errors: dict[str, list[Any]],
    name: str,
    value: str,
    limit: int,
    required: Any,
    *,
    one_line: bool = False,
) -> None:
    messages: list[Any] = []
    if not value and required is not None:
        messages.append(required)
    if len(value) > limit:
        messages.append(_l("Please use at most %(max)d characters.", max=limit))
    if one_line and has_control_chars(value):
        messages.append(
            _l("Please write this on one line, without line breaks or control characters.")
        )
    elif has_control_chars(value.replace("\n", "").replace("\t", "")):
        messages.append(_l("The text contains invisible control characters."))
    if messages:
        errors[name] = messages


def propose_version(
    session: Session,
    item: Item,
    data: VersionInput,
    *,
    source: str,
    user: User | None = None,
    now: datetime | None = None,
) -> ItemVersion:
    """Store the version in its language (replacing one there) and record who proposed it.

    An editor's version is approved at once; a submitter's or translator's waits for an
    editor. Raises VersionRejected, storing nothing, when the version breaks the rules.
    """
    errors = version_errors(item, data)
    if errors:
        raise VersionRejected(errors)
    origin = VersionSource(source)
    now = now or current_time()
    language = data["language"].strip()
    version = next((v for v in item.versions if v.language == language), None)
    if version is None:
        version = ItemVersion(language=language, source=origin, created_at=now)
        item.versions.append(version)
    texts = {name: str(data[name]).strip() for name in VERSION_FIELDS}  # type: ignore[literal-required]
    changed = any(getattr(version, name) != value for name, value in texts.items())
    for name, value in texts.items():
        setattr(version, name, value)
    version.description_text = markdown_to_text(version.description)
    version.source = origin
    version.updated_at = now
    user_id = user.id if user is not None else None
    if origin == VersionSource.EDITOR:
        _mark_approved(version, user_id=user_id, now=now)
    elif changed or version.status != VersionStatus.APPROVED:
        version.status = VersionStatus.SUBMITTED
        version.approved_at = version.approved_by_id = None
    _refresh(item, now)
    record_audit(
        item,
        "version_proposed",
        actor=str(origin),
        user_id=user_id,
        changes={"language": [None, language]},
    )
    record_event(
        session,
        "item.version_proposed",
        actor=actor_or(None, user_id, str(origin)),
        now=now,
        subject=("item", item.id),
        summary=f"{language}: {version.title}",
        details={"language": language, "source": str(origin), "status": str(version.status)},
    )
    session.flush()
    return version


def approve_version(
    session: Session, version: ItemVersion, *, user: User | None, now: datetime | None = None
) -> None:
    """Publish a version: the public and the mails show it from now on."""
    now = now or current_time()
    user_id = user.id if user is not None else None
    _mark_approved(version, user_id=user_id, now=now)
    _decided(session, version, "approved", user_id=user_id, now=now)


def reject_version(
    session: Session,
    version: ItemVersion,
    *,
    user: User | None,
    reason: str = "",
    now: datetime | None = None,
) -> None:
    """Turn a version down: it stays stored (for the trail) but is never shown."""
    now = now or current_time()
    version.status = VersionStatus.REJECTED
    version.approved_at = version.approved_by_id = None
    version.updated_at = now
    _decided(session, version, "rejected", user_id=user.id if user else None, now=now, note=reason)


def approve_pending_versions(
    session: Session, item: Item, *, user_id: int | None, now: datetime
) -> list[str]:
    """Approve the versions waiting with an item (its approval covers them); return languages."""
    languages = []
    for version in item.versions:
        if version.status == VersionStatus.SUBMITTED:
            _mark_approved(version, user_id=user_id, now=now)
            languages.append(version.language)
    if languages:
        _refresh(item, now)
        record_audit(
            item,
            "version_approved",
            actor="editor",
            user_id=user_id,
            changes={"language": [None, ", ".join(languages)]},
        )
        session.flush()
    return languages


def delete_version(
    session: Session, version: ItemVersion, *, user: User | None, now: datetime | None = None
) -> None:
    """Remove a version (an editor's decision); the item's trail keeps that it was there."""
    now = now or current_time()
    item = version.item
    item.versions.remove(version)
    _refresh(item, now)
    record_audit(
        item,
        "edited",
        actor="editor",
        user_id=user.id if user else None,
        changes={"language": [version.language, None]},
    )
    session.flush()


def pending_versions(item: Item) -> list[ItemVersion]:
    """Return the versions of an item that wait for an editor."""
    return [v for v in item.versions if v.status == VersionStatus.SUBMITTED]


def item_text(item: Item, language: str | None) -> ItemText:
    """Return the item's texts in a language: its approved version there, else the original."""
    version = item.version_in(language) if language and language != item.content_language else None
    if version is None:
        return ItemText(
            title=item.title,
            summary=item.summary,
            description=item.description,
            description_text=markdown_to_text(item.description),
            language=item.content_language,
            dir=text_direction(item.content_language),
            original=True,
        )
    return ItemText(
        title=version.title,
        summary=version.summary,
        description=version.description,
        description_text=version.description_text,
        language=version.language,
        dir=text_direction(version.language),
        original=False,
    )


def _mark_approved(version: ItemVersion, *, user_id: int | None, now: datetime) -> None:
    version.status = VersionStatus.APPROVED
    version.approved_at = now
    version.approved_by_id = user_id
    version.updated_at = now


def _decided(
    session: Session,
    version: ItemVersion,
    decision: str,
    *,
    user_id: int | None,
    now: datetime,
    note: str = "",
) -> None:
    item = version.item
    _refresh(item, now)
    record_audit(
        item,
        f"version_{decision}",
        actor="editor",
        user_id=user_id,
        changes={"language": [None, version.language]},
        note=note.strip(),
    )
    record_event(
        session,
        f"item.version_{decision}",
        actor=actor_or(None, user_id, "editor"),
        now=now,
        subject=("item", item.id),
        summary=f"{version.language}: {version.title}",
        details={"language": version.language},
    )
    session.flush()


def _refresh(item: Item, now: datetime) -> None:
    """Fold the approved versions into the search text; mark the item's pages as changed."""
    item.search_text = derive_search_text(item)
    item.updated_at = now
