"""Template globals and filters shared by web pages and e-mails."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, current_app, request
from flask_babel import format_date, format_datetime, format_time, get_locale
from markupsafe import Markup

from newsticker.core.i18n import EDITOR_LANGUAGES, LANGUAGES, in_editor_area, text_direction
from newsticker.core.i18n import lazy_gettext as _l

# Public navigation; an entry shows only when its feature's blueprint is registered.
PUBLIC_NAV = (
    ("public.index", _l("Start")),
    ("items.events", _l("Events & offers")),
    ("items.submit", _l("Submit an event")),
    ("issues.archive", _l("Archive")),
    ("subscribers.subscribe", _l("Subscribe")),
)

# Editor navigation; (endpoint, label, admin only).
EDITOR_NAV = (
    ("editor.dashboard", _l("Overview"), False),
    ("items_editor.queue", _l("Submissions"), False),
    ("issues_editor.index", _l("Issues"), False),
    ("subscribers_editor.index", _l("Subscribers"), False),
    ("delivery.index", _l("Delivery"), False),
    ("editor.outbox", _l("Outbox"), False),
    ("api_tokens.index", _l("API tokens"), False),
    ("auth.users", _l("Users"), True),
    ("auth.account", _l("My account"), False),
    ("items_editor.reasons", _l("Rejection reasons"), True),
    ("editor.audit_trail", _l("Audit trail"), True),
    ("webhooks.index", _l("Webhooks"), True),
)


def init_templating(app: Flask) -> None:
    """Register context processors and filters."""
    app.context_processor(_globals)
    app.jinja_env.filters["localdatetime"] = local_datetime
    app.jinja_env.filters["localdate"] = local_date
    app.jinja_env.filters["localtime"] = local_time
    app.jinja_env.filters["textdir"] = text_direction
    app.jinja_env.filters["markdown"] = _markdown
    app.jinja_env.globals["input_attrs"] = input_attrs
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def _globals() -> dict[str, Any]:
    settings = current_app.config["NEWSTICKER_SETTINGS"]
    locale = str(get_locale() or settings.site.default_language)
    return {
        "settings": settings,
        "site_name": settings.site.name,
        # The switch offers what the area speaks: the editor area German and English only.
        "languages": (
            {code: LANGUAGES[code] for code in EDITOR_LANGUAGES} if in_editor_area() else LANGUAGES
        ),
        "current_language": locale,
        "current_path": request.full_path.rstrip("?") if request else "/",
        "public_nav": _public_nav,
        "editor_nav": _editor_nav,
    }


def _public_nav() -> list[tuple[str, Any]]:
    return [(ep, label) for ep, label in PUBLIC_NAV if ep in current_app.view_functions]


def _editor_nav() -> list[tuple[str, Any]]:
    from flask_login import current_user

    is_admin = bool(getattr(current_user, "is_admin", False))
    return [
        (ep, label)
        for ep, label, admin_only in EDITOR_NAV
        if ep in current_app.view_functions and (is_admin or not admin_only)
    ]


def input_attrs(
    field: Any, described: list[str], required: bool, extra: dict[str, Any]
) -> dict[str, Any]:
    """Return the accessibility attributes of a form input, leaving out the absent ones.

    WTForms renders a None value as the text "None", which would mark every optional
    field as required for screen readers; absent attributes must not be passed at all.
    """
    attrs = dict(extra)
    if described:
        attrs["aria_describedby"] = " ".join(described)
    if getattr(field, "errors", None):
        attrs["aria_invalid"] = "true"
    if required:
        attrs["required"] = True
    return attrs


def local_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """Format an aware datetime in the site's time zone and the visitor's language."""
    return "" if value is None else format_datetime(value, fmt)


def local_date(value: date | datetime | None, fmt: str = "medium") -> str:
    """Format a date (or the local date of a datetime)."""
    return "" if value is None else format_date(value, fmt)


def local_time(value: datetime | None, fmt: str = "short") -> str:
    """Format the local time of an aware datetime."""
    return "" if value is None else format_time(value, fmt)


def _markdown(text: str | None) -> Markup:
    from newsticker.core.markup import render_markdown

    return render_markdown(text or "")
