"""Languages of the interface: choose one per request, remember the visitor's choice.

Also the one lazy translation function of the project. Flask-Babel's lazy strings
carry `__html__`, so Jinja treats them as safe markup: a message that quotes input,
`_l("„%(address)s“ is not valid", address=typed)`, would reach the page unescaped.
Ours escape like any other text (no catalogue message contains markup), so a value
interpolated into a message can never become markup. Import `lazy_gettext` (as `_l`)
from here; a test refuses Flask-Babel's own lazy functions anywhere else.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from flask_babel import Babel, ngettext, refresh
from flask_babel import gettext as _gettext
from flask_babel.speaklater import LazyString
from markupsafe import escape

LANGUAGES: dict[str, str] = {"de": "Deutsch", "en": "English"}
LANGUAGE_COOKIE = "newsticker_lang"

babel = Babel()


class LazyText(LazyString):
    """A message translated when it is shown, in the reader's language, escaped in pages."""

    def __html__(self) -> str:
        return str(escape(str(self)))


def gettext(string: str, **variables: Any) -> str:
    """Return a message in the current language now (Flask-Babel's gettext, typed)."""
    return str(_gettext(string, **variables))


def lazy_gettext(string: str, **variables: Any) -> LazyText:
    """Return a message that is translated when shown (values are escaped in pages)."""
    return LazyText(_gettext, string, **variables)


def lazy_ngettext(singular: str, plural: str, num: int, **variables: Any) -> LazyText:
    """Return a singular/plural message that is translated when shown."""
    return LazyText(ngettext, singular, plural, num, **variables)


def use_language(language: str | None) -> None:
    """Show this request in the given language when it is one of ours (else as usual).

    For pages inside other sites' frames, where our language cookie is not sent.
    """
    if language in LANGUAGES:
        g.interface_language = language
        refresh()


def select_locale() -> str:
    """Return the language this request asked for, the remembered one, or the default.

    API calls (under /api/) carry no cookie that counts: they choose by Accept-Language.
    """
    asked = g.get("interface_language") if request else None
    if asked in LANGUAGES:
        return str(asked)
    if request and request.path.startswith("/api/"):
        best = request.accept_languages.best_match(list(LANGUAGES))
        return best or str(current_app.config.get("BABEL_DEFAULT_LOCALE", "de"))
    chosen = request.cookies.get(LANGUAGE_COOKIE) if request else None
    if chosen in LANGUAGES:
        return chosen
    return str(current_app.config.get("BABEL_DEFAULT_LOCALE", "de"))


def text_direction(language: str | None) -> str:
    """Return "rtl" for right-to-left scripts, else "ltr"."""
    return "rtl" if (language or "").split("-")[0] in RTL_LANGUAGES else "ltr"


# Languages written right to left that the city's communities use (and a few more).
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ku", "ps", "ur", "yi", "dv", "ckb"})
