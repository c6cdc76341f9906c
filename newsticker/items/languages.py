"""Languages of items: the codes the forms offer and their names in the interface language.

Names come from the CLDR data in Babel, each followed by the language's own name
(its autonym), so a reader finds their language whatever the interface language is.
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale

from newsticker.core.i18n import lazy_gettext as _l

# Languages events are held in and content is written in; Flensburg's communities first.
LANGUAGE_CODES = (
    "de",
    "en",
    "da",
    "frr",
    "ar",
    "fa",
    "ps",
    "ku",
    "tr",
    "uk",
    "ru",
    "pl",
    "ro",
    "bg",
    "sq",
    "so",
    "ti",
    "fr",
    "es",
)
SIGN_LANGUAGE = "gsg"  # ISO 639-3: Deutsche Gebärdensprache


def language_name(code: str, *, autonym: bool = True) -> str:
    """Return a language's name in the interface language, with its own name beside it."""
    if code == SIGN_LANGUAGE:
        return str(_l("German Sign Language"))
    return _language_name(code, str(get_locale() or "de"), autonym)


@lru_cache(maxsize=512)
def _language_name(code: str, ui: str, autonym: bool) -> str:
    try:
        name = Locale.parse(ui).languages.get(code, code)
        own = Locale.parse(code).display_name if autonym else None
    except (ValueError, UnknownLocaleError):
        return code
    if own and own.casefold() != name.casefold():
        return f"{name} ({own})"
    return str(name)


def language_choices(*, sign_language: bool) -> list[tuple[str, str]]:
    """Return (code, name) pairs for the language fields."""
    codes = [*LANGUAGE_CODES, SIGN_LANGUAGE] if sign_language else list(LANGUAGE_CODES)
    return [(code, language_name(code)) for code in codes]
