"""The public blueprint of items, and what every template gets from it.

Its routes live in `views` (the directory, feeds and the submission form) and in
`private_views` (the submitter's private link). The enums are Jinja globals, so
templates (mails included) compare `item.status == ItemStatus.APPROVED`, never strings.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import get_locale

from newsticker.config import get_settings
from newsticker.items.display import (
    item_when,
    languages_text,
    rule_text,
    series_text,
    short_date,
    when_text,
)
from newsticker.items.languages import language_name
from newsticker.items.models import (
    FIELDS_OF_ACTION,
    KIND_LABELS,
    STATUS_LABELS,
    Item,
    ItemKind,
    ItemStatus,
)
from newsticker.items.services import ItemText, item_text

bp = Blueprint("items", __name__)

bp.add_app_template_global(ItemKind, "ItemKind")
bp.add_app_template_global(ItemStatus, "ItemStatus")


@bp.app_template_global("item_when")
def _item_when(item: Item) -> str:
    return item_when(item, get_settings().tz)


@bp.app_template_global("occurrence_when")
def _occurrence_when(item: Item, start: Any, end: Any, with_date: bool = True) -> str:
    return when_text(start, end, item.all_day, get_settings().tz, with_date=with_date)


@bp.app_template_global("item_languages")
def _item_languages(codes: list[str]) -> str:
    return languages_text(codes)


@bp.app_template_global("item_rule")
def _item_rule(item: Item) -> str:
    return rule_text(item, get_settings().tz)


@bp.app_template_global("series_text")
def _series_text(item: Item) -> str:
    return series_text(item, get_settings().tz)


@bp.app_template_global("text_of")
def _text_of(item: Item, language: str | None = None) -> ItemText:
    """Return the item's texts in a language (default: the page's), else the original."""
    return item_text(item, language or str(get_locale() or item.content_language))


@bp.app_template_global("language_name")
def _language_name(code: str) -> str:
    return language_name(code)


@bp.app_template_global("short_date")
def _short_date(moment: Any) -> str:
    return short_date(moment, get_settings().tz)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "fields_of_action": FIELDS_OF_ACTION,
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
    }
