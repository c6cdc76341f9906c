"""Languages of the interface: choose one per request, remember the visitor's choice."""

from __future__ import annotations

from flask import current_app, request
from flask_babel import Babel

LANGUAGES: dict[str, str] = {"de": "Deutsch", "en": "English"}
LANGUAGE_COOKIE = "newsticker_lang"

babel = Babel()


def select_locale() -> str:
    """Return the visitor's remembered language, else the site's default."""
    chosen = request.cookies.get(LANGUAGE_COOKIE) if request else None
    if chosen in LANGUAGES:
        return chosen
    return str(current_app.config.get("BABEL_DEFAULT_LOCALE", "de"))


def text_direction(language: str | None) -> str:
    """Return "rtl" for right-to-left scripts, else "ltr"."""
    return "rtl" if (language or "").split("-")[0] in RTL_LANGUAGES else "ltr"


# Languages written right to left that the city's communities use (and a few more).
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ku", "ps", "ur", "yi", "dv", "ckb"})
