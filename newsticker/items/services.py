"""Services for items: submitting, moderating, listing, searching and expiring them."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, Text, cast, func, or_, select
from sqlalchemy.orm import Session

from newsticker.core.db import utcnow
from newsticker.core.errors import UserError
from newsticker.core.markup import markdown_to_text
from newsticker.core.tokens import random_token, token_digest
from newsticker.items.images import ProcessedImage, delete_image, store_image
from newsticker.items.models import (
    FIELDS_OF_ACTION,
    Item,
    ItemAudit,
    ItemKind,
    ItemStatus,
)
from newsticker.items.recurrence import Recurrence, RecurrenceError, occurrences, validate

logger = logging.getLogger(__name__)

FAR_FUTURE = datetime(2200, 1, 1, tzinfo=UTC)
# How far ahead an event may start, and how long one occurrence may last.
MAX_YEARS_AHEAD = 2
MAX_EVENT_DAYS = 90
# Announcements without an end date stay this long.
DEFAULT_VISIBLE_DAYS = 56
# The private link works at least this long, and until the item's last date.
TOKEN_MIN_DAYS = 90
# Receipts per address within the configured window (rate_limits.*_hours).
RECEIPTS_PER_ADDRESS = 10
# The public list shows dates up to this far ahead.
LIST_HORIZON_DAYS = 366
MAX_SEARCH_WORDS = 8

# Fields a submitter or an editor may change, in the order the audit shows them.
EDITABLE_FIELDS = (
    "kind",
    "title",
    "summary",
    "description",
    "field_of_action",
    "tags",
    "event_languages",
    "content_language",
    "starts_at",
    "ends_at",
    "all_day",
    "recurrence",
    "visible_until",
    "place_name",
    "place_address",
    "accessibility_note",
    "organiser",
    "contact_name",
    "contact_email",
    "contact_phone",
    "link",
    "image_alt",
)
# Fields a merge copies into the kept item when it has none of its own.
MERGE_FILL_FIELDS = (
    "description",
    "place_name",
    "place_address",
    "accessibility_note",
    "contact_name",
    "contact_email",
    "contact_phone",
    "link",
)


class ItemError(UserError):
    """A change to an item that is not allowed now, with a message for the user."""


def current_time() -> datetime:
    """Return now as an aware UTC datetime (one place for tests to freeze the clock)."""
    return utcnow()


def fold(text: str) -> str:
    """Return text case-folded, NFKC-normalised and with runs of space collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


def search_fold(text: str) -> str:
    """Return text folded for searching: as fold(), and without accents or vowel marks."""
    decomposed = unicodedata.normalize("NFKD", fold(text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", stripped)


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def search_text_of(text: str) -> str:
    """Return the folded words of a text, plus the "ae/oe/ue" spelling of German umlauts.

    A visitor may type "Frühstück", "Fruhstuck" or "Fruehstueck"; all three must match.
    """
    plain = search_fold(text)
    known = set(plain.split())
    extra = [w for w in search_fold(text.translate(_UMLAUTS)).split() if w not in known]
    return " ".join([plain, *dict.fromkeys(extra)]).strip()


def search_words(query: str) -> list[str]:
    """Return the distinct folded words of a search query (at most MAX_SEARCH_WORDS)."""
    words: list[str] = []
    for word in search_fold(query[:200]).split():
        word = word.strip(".,;:!?\"'()[]{}")
        if word and word not in words:
            words.append(word)
    return words[:MAX_SEARCH_WORDS]


# ---------------------------------------------------------------- derived fields


def item_recurrence(item: Item) -> Recurrence | None:
    """Return the item's recurrence rule, or None."""
    return Recurrence.from_dict(item.recurrence) if item.recurrence else None


def last_end(item: Item, tz: ZoneInfo) -> datetime | None:
    """Return when the item's last occurrence ends (announcements: end of visible_until)."""
    if item.starts_at is None:
        if item.visible_until is None:
            return None
        return datetime.combine(item.visible_until + timedelta(days=1), time(), tz).astimezone(UTC)
    rule = item_recurrence(item)
    found = occurrences(
        item.starts_at,
        item.ends_at,
        rule,
        tz=tz,
        window_start=item.starts_at,
        window_end=FAR_FUTURE,
    )
    if not found:
        return item.ends_at or item.starts_at
    start, end = found[-1]
    return end or start


def derive_fields(item: Item, tz: ZoneInfo) -> None:
    """Recompute what is derived from the item's own fields (keys, search text, end)."""
    item.title_key = fold(item.title)[:200]
    item.search_text = search_text_of(
        " ".join(
            [
                item.title,
                item.summary,
                markdown_to_text(item.description),
                " ".join(item.tags or []),
                item.organiser,
                item.place_name,
            ]
        )
    )
    item.last_ends_at = last_end(item, tz)


# ---------------------------------------------------------------- input


@dataclass
class ItemData:
    """The content of an item as a form or an import gives it (already cleaned)."""

    kind: str
    title: str
    summary: str
    organiser: str
    description: str = ""
    field_of_action: str = "general"
    tags: list[str] = field(default_factory=list)
    event_languages: list[str] = field(default_factory=list)
    content_language: str = "de"
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    all_day: bool = False
    recurrence: Recurrence | None = None
    visible_until: date | None = None
    place_name: str = ""
    place_address: str = ""
    accessibility_note: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    link: str = ""
    image_alt: str = ""


def check_item_data(
    data: ItemData, *, tz: ZoneInfo, now: datetime, has_image: bool = False
) -> dict[str, Any]:
    """Return messages for rules across fields, keyed by field name (empty when fine)."""
    errors: dict[str, Any] = {}
    today = now.astimezone(tz).date()
    if data.kind not in {k.value for k in ItemKind}:
        errors["kind"] = _l("Please choose what you are submitting.")
    if data.field_of_action not in FIELDS_OF_ACTION:
        errors["field_of_action"] = _l("Please choose a field of action.")
    if has_image and not data.image_alt.strip():
        errors["image_alt"] = _l(
            "Please describe the image in a few words for people who cannot see it."
        )
    if data.kind == ItemKind.EVENT.value:
        errors.update(_check_event_dates(data, tz=tz, now=now))
    elif data.visible_until is not None:
        if data.visible_until < today:
            errors["visible_until"] = _l("This date is in the past. Please choose a later date.")
        elif data.visible_until > today + relativedelta(years=MAX_YEARS_AHEAD):
            errors["visible_until"] = _l(
                "This date is more than %(years)d years ahead. Please choose an earlier date.",
                years=MAX_YEARS_AHEAD,
            )
    return errors


def _check_event_dates(data: ItemData, *, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    start, end = data.starts_at, data.ends_at
    if start is None:
        return {"start_date": _l("Please enter the date of the event.")}
    if start > now + relativedelta(years=MAX_YEARS_AHEAD):
        errors["start_date"] = _l(
            "The event starts more than %(years)d years from now. We only publish events "
            "up to %(years)d years ahead.",
            years=MAX_YEARS_AHEAD,
        )
    if end is not None and end < start:
        errors["end_date"] = _l("The end must not be before the start.")
        return errors
    if end is not None and end - start > timedelta(days=MAX_EVENT_DAYS):
        errors["end_date"] = _l(
            "An event may last at most %(days)d days. For a longer offer, submit an "
            "announcement instead.",
            days=MAX_EVENT_DAYS,
        )
        return errors
    if data.recurrence is not None:
        try:
            validate(data.recurrence, start, tz)
        except RecurrenceError as exc:
            errors["repeat"] = exc.message
            return errors
    if errors:
        return errors
    probe = Item(starts_at=start, ends_at=end, recurrence=_rule_dict(data.recurrence))
    last = last_end(probe, tz)
    if last is not None and last < now:
        errors["start_date"] = _l(
            "This date is in the past. We only publish events that are still to come."
        )
    return errors


def _rule_dict(rule: Recurrence | None) -> dict[str, Any] | None:
    return rule.to_dict() if rule is not None else None


def _values(data: ItemData, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {f.name: getattr(data, f.name) for f in fields(ItemData)}
    values["recurrence"] = _rule_dict(data.recurrence)
    values["tags"] = list(dict.fromkeys(data.tags))
    values["event_languages"] = list(dict.fromkeys(data.event_languages))
    if data.kind == ItemKind.EVENT.value:
        values["visible_until"] = None
    else:
        values["starts_at"] = values["ends_at"] = values["recurrence"] = None
        values["all_day"] = False
        if values["visible_until"] is None:
            values["visible_until"] = now.astimezone(tz).date() + timedelta(
                days=DEFAULT_VISIBLE_DAYS
            )
    return values


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _apply(item: Item, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set the values on the item; return {field: [old, new]} for what changed."""
    changes: dict[str, list[Any]] = {}
    for name in EDITABLE_FIELDS:
        if name not in values:
            continue
        old, new = getattr(item, name), values[name]
        if old != new:
            changes[name] = [_jsonable(old), _jsonable(new)]
            setattr(item, name, new)
    return changes


def _audit(
    item: Item,
    action: str,
    *,
    actor: str,
    user_id: int | None = None,
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> None:
    item.audit.append(
        ItemAudit(action=action, actor=actor, user_id=user_id, changes=changes or {}, note=note)
    )


# ---------------------------------------------------------------- submitting


class TooManyReceipts(ItemError):
    """The address has had as many receipts as the window allows."""


def receipts_left(session: Session, address: str, *, hours: int, now: datetime) -> int:
    """Return how many more receipts this address may get in the current window."""
    from newsticker.core.mailqueue import count_recent

    sent = count_recent(
        session, to=address, purpose="item_receipt", since=now - timedelta(hours=hours)
    )
    return max(RECEIPTS_PER_ADDRESS - sent, 0)


def find_duplicate(session: Session, item: Item) -> Item | None:
    """Return an earlier live item with the same title and start, preferring approved ones."""
    query = select(Item).where(
        Item.title_key == item.title_key,
        Item.status.in_((ItemStatus.SUBMITTED.value, ItemStatus.APPROVED.value)),
    )
    if item.id is not None:
        query = query.where(Item.id != item.id)
    if item.starts_at is None:
        query = query.where(Item.starts_at.is_(None))
    else:
        query = query.where(Item.starts_at == item.starts_at)
    candidates = list(session.scalars(query.order_by(Item.id)))
    candidates.sort(key=lambda c: (c.status != ItemStatus.APPROVED.value, c.id))
    return candidates[0] if candidates else None


def submit_item(
    session: Session,
    data: ItemData,
    *,
    submitter_email: str,
    submitter_language: str,
    image: ProcessedImage | None,
    upload_dir: Path,
    tz: ZoneInfo,
    now: datetime,
    receipt_window_hours: int = 24,
) -> tuple[Item, str]:
    """Store a new submission and queue its receipt; return the item and its private token."""
    if receipts_left(session, submitter_email, hours=receipt_window_hours, now=now) <= 0:
        raise TooManyReceipts(
            _l(
                "We have sent many confirmation mails to this address recently. Please try "
                "again tomorrow, or write to the editors directly."
            )
        )
    token = random_token()
    item = Item(
        status=ItemStatus.SUBMITTED.value,
        submitter_email=submitter_email,
        submitter_language=submitter_language,
        consent_at=now,
        edit_token_digest=token_digest(token),
        created_at=now,
        updated_at=now,
        tags=[],
        event_languages=[],
    )
    _apply(item, _values(data, tz, now))
    if image is not None:
        item.image_file = store_image(upload_dir, image)
    derive_fields(item, tz)
    session.add(item)
    session.flush()
    duplicate = find_duplicate(session, item)
    if duplicate is not None:
        item.duplicate_of_id = duplicate.id
    _audit(item, "submitted", actor="submitter")
    session.flush()
    from newsticker.items.mails import queue_receipt

    queue_receipt(session, item, token)
    return item, token


def find_by_token(session: Session, token: str) -> Item | None:
    """Return the item a private link belongs to, or None for an unknown link."""
    if not token or len(token) > 200:
        return None
    return session.scalars(
        select(Item).where(Item.edit_token_digest == token_digest(token))
    ).first()


def token_expires_at(item: Item) -> datetime:
    """Return when the item's private link stops working."""
    created = item.created_at or utcnow()
    floor = created + timedelta(days=TOKEN_MIN_DAYS)
    return max(floor, item.last_ends_at) if item.last_ends_at is not None else floor


def submitter_may_edit(item: Item) -> bool:
    """Return whether the submitter may still edit or withdraw (not yet moderated)."""
    return item.status == ItemStatus.SUBMITTED.value


def update_item(
    session: Session,
    item: Item,
    data: ItemData,
    *,
    actor: str,
    tz: ZoneInfo,
    now: datetime,
    user_id: int | None = None,
    image: ProcessedImage | None = None,
    remove_image: bool = False,
    upload_dir: Path | None = None,
) -> dict[str, list[Any]]:
    """Change an item's content; record what changed; return the changes."""
    if actor == "submitter" and not submitter_may_edit(item):
        raise ItemError(
            _l("This submission has already been reviewed, so it can no longer be changed here.")
        )
    changes = _apply(item, _values(data, tz, now))
    if (image is not None or remove_image) and item.image_file and upload_dir is not None:
        changes["image_file"] = [item.image_file, None]
        delete_image(upload_dir, item.image_file)
        item.image_file = None
    if image is not None and upload_dir is not None:
        item.image_file = store_image(upload_dir, image)
        changes["image_file"] = [changes.get("image_file", [None])[0], item.image_file]
    if not item.image_file:
        item.image_alt = ""
    if changes:
        derive_fields(item, tz)
        duplicate = find_duplicate(session, item)
        item.duplicate_of_id = duplicate.id if duplicate is not None else None
        item.updated_at = now
        _audit(item, "edited", actor=actor, user_id=user_id, changes=changes)
    session.flush()
    return changes


def withdraw_item(session: Session, item: Item, *, now: datetime) -> None:
    """Withdraw a submission at the submitter's request."""
    if not submitter_may_edit(item):
        raise ItemError(
            _l("This submission has already been reviewed, so it can no longer be withdrawn here.")
        )
    item.status = ItemStatus.WITHDRAWN
    item.updated_at = now
    _audit(item, "withdrawn", actor="submitter")
    session.flush()


# ---------------------------------------------------------------- moderating


def approve_item(session: Session, item: Item, *, user_id: int | None, now: datetime) -> None:
    """Publish an item and tell its submitter."""
    if item.status not in (ItemStatus.SUBMITTED.value, ItemStatus.REJECTED.value):
        raise ItemError(_l("Only submitted or rejected items can be approved."))
    if item.last_ends_at is not None and item.last_ends_at < now:
        raise ItemError(_l("This item is already over, so it cannot be published any more."))
    item.status = ItemStatus.APPROVED
    item.approved_at = now
    item.approved_by_id = user_id
    item.rejection_reason = ""
    item.updated_at = now
    _audit(item, "approved", actor="editor", user_id=user_id)
    session.flush()
    from newsticker.items.mails import queue_decision

    queue_decision(session, item, "item_approved")


def reject_item(
    session: Session, item: Item, *, reason: str, user_id: int | None, now: datetime
) -> None:
    """Reject an item with a reason and tell its submitter."""
    if item.status not in (ItemStatus.SUBMITTED.value, ItemStatus.APPROVED.value):
        raise ItemError(_l("Only submitted or approved items can be rejected."))
    if not reason.strip():
        raise ItemError(_l("Please give a reason; the submitter will read it."))
    item.status = ItemStatus.REJECTED
    item.rejection_reason = reason.strip()
    item.updated_at = now
    _audit(item, "rejected", actor="editor", user_id=user_id, note=item.rejection_reason)
    session.flush()
    from newsticker.items.mails import queue_decision

    queue_decision(session, item, "item_rejected")


def merge_item(
    session: Session,
    duplicate: Item,
    target: Item,
    *,
    user_id: int | None,
    now: datetime,
    tz: ZoneInfo,
) -> dict[str, list[Any]]:
    """Fold a duplicate into the item it repeats: fill gaps, close it, tell its submitter."""
    if duplicate.id == target.id:
        raise ItemError(_l("An item cannot be merged into itself."))
    live = (ItemStatus.SUBMITTED.value, ItemStatus.APPROVED.value)
    if duplicate.status not in live or target.status not in live:
        raise ItemError(_l("Only submitted or approved items can be merged."))
    filled: dict[str, list[Any]] = {}
    for name in MERGE_FILL_FIELDS:
        if not getattr(target, name) and getattr(duplicate, name):
            filled[name] = ["", getattr(duplicate, name)]
            setattr(target, name, getattr(duplicate, name))
    for name in ("tags", "event_languages"):
        merged = list(dict.fromkeys([*getattr(target, name), *getattr(duplicate, name)]))
        if merged != getattr(target, name):
            filled[name] = [getattr(target, name), merged]
            setattr(target, name, merged)
    if not target.image_file and duplicate.image_file:
        filled["image_file"] = [None, duplicate.image_file]
        target.image_file, target.image_alt = duplicate.image_file, duplicate.image_alt
        duplicate.image_file = None
    derive_fields(target, tz)
    target.updated_at = now
    _audit(
        target,
        "merged",
        actor="editor",
        user_id=user_id,
        changes=filled,
        note=f"#{duplicate.id}",
    )
    duplicate.status = ItemStatus.REJECTED
    duplicate.duplicate_of_id = target.id
    duplicate.updated_at = now
    _audit(duplicate, "merged_into", actor="editor", user_id=user_id, note=f"#{target.id}")
    session.flush()
    from newsticker.items.mails import queue_decision

    queue_decision(session, duplicate, "item_merged", target=target)
    return filled


# ---------------------------------------------------------------- editor lists


@dataclass
class EditorFilters:
    """What the moderation queue shows."""

    status: str = ItemStatus.SUBMITTED.value
    field_of_action: str = ""
    date_from: date | None = None
    date_to: date | None = None
    query: str = ""


def _editor_query(filters: EditorFilters, tz: ZoneInfo) -> Select[Any]:
    query = select(Item)
    if filters.status:
        query = query.where(Item.status == filters.status)
    if filters.field_of_action:
        query = query.where(Item.field_of_action == filters.field_of_action)
    if filters.date_from is not None:
        start = datetime.combine(filters.date_from, time(), tz)
        query = query.where(or_(Item.last_ends_at.is_(None), Item.last_ends_at >= start))
    if filters.date_to is not None:
        end = datetime.combine(filters.date_to + timedelta(days=1), time(), tz)
        query = query.where(func.coalesce(Item.starts_at, Item.created_at) < end)
    for word in search_words(filters.query):
        query = query.where(Item.search_text.contains(word, autoescape=True))
    return query


def editor_items(
    session: Session, filters: EditorFilters, *, tz: ZoneInfo, page: int = 1, per_page: int = 50
) -> tuple[list[Item], int]:
    """Return one page of items for the moderation queue, newest first, and the total."""
    query = _editor_query(filters, tz)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(Item.created_at.desc(), Item.id.desc())
        .offset((max(page, 1) - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(items), total


def status_counts(session: Session) -> dict[str, int]:
    """Return the number of items per status (every status, zero included)."""
    counts = {status.value: 0 for status in ItemStatus}
    for status, count in session.execute(select(Item.status, func.count()).group_by(Item.status)):
        counts[status] = count
    return counts


# ---------------------------------------------------------------- public lists


@dataclass
class PublicFilters:
    """What a visitor filters the public list by."""

    query: str = ""
    field_of_action: str = ""
    language: str = ""
    kind: str = ""


@dataclass(frozen=True)
class Occurrence:
    """One date of an event."""

    item: Item
    starts_at: datetime
    ends_at: datetime | None


def _public_query(filters: PublicFilters, now: datetime) -> Select[Any]:
    query = select(Item).where(Item.status == ItemStatus.APPROVED.value, Item.last_ends_at > now)
    if filters.field_of_action:
        query = query.where(Item.field_of_action == filters.field_of_action)
    if filters.language:
        # Portable "JSON list contains": the stored list is JSON text on both backends.
        needle = f'"{filters.language}"'
        query = query.where(cast(Item.event_languages, Text).contains(needle, autoescape=True))
    for word in search_words(filters.query):
        query = query.where(Item.search_text.contains(word, autoescape=True))
    return query


def upcoming_occurrences(
    session: Session,
    filters: PublicFilters,
    *,
    now: datetime,
    tz: ZoneInfo,
    offset: int = 0,
    limit: int = 30,
) -> tuple[list[Occurrence], bool]:
    """Return the next dates of approved events from now, recurring ones expanded.

    Single events come from the database in date order; recurring ones are expanded in
    Python only up to the date where the page is certainly full.
    """
    need = offset + limit + 1
    base = _public_query(filters, now).where(Item.kind == ItemKind.EVENT.value)
    singles = list(
        session.scalars(
            base.where(Item.recurrence.is_(None)).order_by(Item.starts_at, Item.id).limit(need)
        )
    )
    found = [Occurrence(i, i.starts_at, i.ends_at) for i in singles if i.starts_at is not None]
    horizon = now + timedelta(days=LIST_HORIZON_DAYS)
    if len(singles) == need and singles[-1].starts_at is not None:
        horizon = min(horizon, singles[-1].starts_at + timedelta(seconds=1))
    for item in session.scalars(base.where(Item.recurrence.is_not(None), Item.starts_at < horizon)):
        rule = item_recurrence(item)
        if item.starts_at is None:
            continue
        dates = occurrences(
            item.starts_at, item.ends_at, rule, tz=tz, window_start=now, window_end=horizon
        )
        found.extend(Occurrence(item, start, end) for start, end in dates[:need])
    found.sort(key=lambda o: (o.starts_at, o.item.id))
    return found[offset : offset + limit], len(found) > offset + limit


def current_notices(
    session: Session,
    filters: PublicFilters,
    *,
    now: datetime,
    offset: int = 0,
    limit: int = 30,
) -> tuple[list[Item], bool]:
    """Return current announcements and calls for volunteers, newest first."""
    kinds = (
        [filters.kind]
        if filters.kind in (ItemKind.ANNOUNCEMENT.value, ItemKind.CALL.value)
        else [ItemKind.ANNOUNCEMENT.value, ItemKind.CALL.value]
    )
    query = _public_query(filters, now).where(Item.kind.in_(kinds))
    items = list(
        session.scalars(
            query.order_by(Item.approved_at.desc(), Item.id.desc()).offset(offset).limit(limit + 1)
        )
    )
    return items[:limit], len(items) > limit


def public_item(session: Session, item_id: int) -> Item | None:
    """Return an item the public may see (approved, or approved once and now over)."""
    item = session.get(Item, item_id)
    if item is None or item.status not in (ItemStatus.APPROVED.value, ItemStatus.EXPIRED.value):
        return None
    if item.status == ItemStatus.EXPIRED.value and item.approved_at is None:
        return None
    return item


def next_dates(item: Item, *, now: datetime, tz: ZoneInfo, limit: int = 12) -> list[Occurrence]:
    """Return the item's next dates (ongoing ones included)."""
    if item.starts_at is None:
        return []
    dates = occurrences(
        item.starts_at,
        item.ends_at,
        item_recurrence(item),
        tz=tz,
        window_start=now,
        window_end=FAR_FUTURE if item.recurrence is None else now + timedelta(days=3 * 366),
    )
    return [Occurrence(item, start, end) for start, end in dates[:limit]]


def feed_events(
    session: Session, *, now: datetime, field_of_action: str = "", keep_days: int = 30
) -> list[Item]:
    """Return approved events for the iCal feed: current ones and those ended recently."""
    query = select(Item).where(
        Item.status.in_((ItemStatus.APPROVED.value, ItemStatus.EXPIRED.value)),
        Item.approved_at.is_not(None),
        Item.kind == ItemKind.EVENT.value,
        Item.last_ends_at > now - timedelta(days=keep_days),
    )
    if field_of_action:
        query = query.where(Item.field_of_action == field_of_action)
    return list(session.scalars(query.order_by(Item.starts_at, Item.id)))


def feed_fingerprint(session: Session, *, field_of_action: str = "") -> str:
    """Return a short string that changes whenever the iCal feed's content may change."""
    query = select(func.count(), func.max(Item.updated_at)).where(
        Item.kind == ItemKind.EVENT.value,
        Item.status.in_((ItemStatus.APPROVED.value, ItemStatus.EXPIRED.value)),
    )
    if field_of_action:
        query = query.where(Item.field_of_action == field_of_action)
    count, latest = session.execute(query).one()
    return f"{count}-{latest.timestamp() if latest else 0}"


def feed_entries(session: Session, *, now: datetime, limit: int = 50) -> list[Item]:
    """Return the newest approved, current items for the Atom feed."""
    query = (
        select(Item)
        .where(Item.status == ItemStatus.APPROVED.value, Item.last_ends_at > now)
        .order_by(Item.approved_at.desc(), Item.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


# ---------------------------------------------------------------- expiry


@dataclass
class ExpiryRun:
    """What one expiry run did."""

    expired: int = 0
    purged: int = 0
    anonymised: int = 0


def expire_items(
    session: Session,
    *,
    now: datetime,
    retention_days: int,
    upload_dir: Path,
) -> ExpiryRun:
    """Mark ended items expired; delete old unpublished ones; forget old submitters."""
    run = ExpiryRun()
    ended = session.scalars(
        select(Item).where(
            Item.status.in_((ItemStatus.APPROVED.value, ItemStatus.SUBMITTED.value)),
            Item.last_ends_at < now,
        )
    )
    for item in ended:
        item.status = ItemStatus.EXPIRED
        item.updated_at = now
        _audit(item, "expired", actor="system")
        run.expired += 1
    cutoff = now - timedelta(days=retention_days)
    old_unpublished = session.scalars(
        select(Item).where(
            Item.status.in_((ItemStatus.REJECTED.value, ItemStatus.WITHDRAWN.value)),
            Item.updated_at < cutoff,
        )
    )
    for item in old_unpublished:
        delete_image(upload_dir, item.image_file)
        session.delete(item)
        run.purged += 1
    # Published items stay (issues and links refer to them), but not who sent them in.
    old_expired = session.scalars(
        select(Item).where(
            Item.status == ItemStatus.EXPIRED.value,
            Item.updated_at < cutoff,
            or_(Item.submitter_email != "", Item.edit_token_digest.is_not(None)),
        )
    )
    for item in old_expired:
        item.submitter_email = ""
        item.edit_token_digest = None
        run.anonymised += 1
    session.flush()
    return run
