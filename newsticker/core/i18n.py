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

from flask import current_app, g, has_request_context, request
from flask_babel import Babel, ngettext, refresh
from flask_babel import gettext as _gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import escape
from wtforms.fields.choices import SelectChoice

# The interface languages, each named in itself (the language switch shows these names).
# German and English cover everything; the others the public pages and subscribers' mails.
# (A test holds these to the config's InterfaceLanguage.)
LANGUAGES: dict[str, str] = {
    "de": "Deutsch",
    "en": "English",
    "ar": "العربية",
    "fa": "فارسی",
    "uk": "Українська",
    "tr": "Türkçe",
}
# The editor area, the API reference and the editors' own mails stay in these two.
EDITOR_LANGUAGES: tuple[str, ...] = ("de", "en")
# Every mail to the public (receipts, decisions, confirmations, issues) comes in these.
MAIL_LANGUAGES: tuple[str, ...] = tuple(LANGUAGES)
# Paths of the editor area (and the API reference written for its people).
EDITOR_PATHS = ("/redaktion", "/api/v1/referenz")
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
    The editor area speaks German or English only (`editor_language`).
    """
    default = str(current_app.config.get("BABEL_DEFAULT_LOCALE", "de"))
    if not has_request_context():
        return default
    if in_editor_area():
        return editor_language(request.cookies.get(LANGUAGE_COOKIE), default)
    asked = g.get("interface_language")
    if asked in LANGUAGES:
        return str(asked)
    if request.path.startswith("/api/"):
        best = request.accept_languages.best_match(list(LANGUAGES))
        return best or default
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return default


def in_editor_area() -> bool:
    """Return whether this request is for the editor area (shown in German or English)."""
    return has_request_context() and request.path.startswith(EDITOR_PATHS)


def editor_language(chosen: str | None, default: str) -> str:
    """Return the editor area's language: the chosen one if German or English, else the account's.

    A visitor who reads the public pages in Arabic and logs in gets the editor area in
    the language of their account (German unless it says English).
    """
    if chosen in EDITOR_LANGUAGES:
        return str(chosen)
    account = getattr(current_user, "language", None)
    if account in EDITOR_LANGUAGES:
        return str(account)
    return default if default in EDITOR_LANGUAGES else EDITOR_LANGUAGES[0]


def editor_mail_language(language: str | None) -> str:
    """Return the language of a mail to an editor: theirs if German or English, else German."""
    return language if language in EDITOR_LANGUAGES else EDITOR_LANGUAGES[0]


def mail_language(language: str | None, default: str) -> str:
    """Return the language of a mail to the public: theirs if the mails speak it, else `default`."""
    return language if language in MAIL_LANGUAGES else default


def mail_language_choices(codes: tuple[str, ...] = MAIL_LANGUAGES) -> list[SelectChoice]:
    """Return form choices of languages, each named in itself and marked with its lang and dir."""
    return [
        SelectChoice(code, LANGUAGES[code], {"lang": code, "dir": text_direction(code)})
        for code in codes
    ]


def text_direction(language: str | None) -> str:
    """Return "rtl" for right-to-left scripts, else "ltr"."""
    return "rtl" if (language or "").split("-")[0] in RTL_LANGUAGES else "ltr"


# Languages written right to left that the city's communities use (and a few more).
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ku", "ps", "ur", "yi", "dv", "ckb"})
