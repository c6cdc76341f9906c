"""Recurrence rules in words for the languages beyond German and English.

German and English have their own hand-made grammar in recurrence.describe. For the
other interface languages the phrases come from their catalogues, built so that no
word has to agree with a day's gender or case ("every week: Tuesday", "monthly: the
last Tuesday of the month"); the city's translators can correct them in the .po files
like any other message. The catalogue is read directly, not through Flask-Babel,
because describe() is asked for a language, not for the current request's.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


@lru_cache(maxsize=8)
def _words(language: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [language])


def weekly(language: str, interval: int, days: str) -> str:
    """Return "every week: Tuesday", "every 2 weeks", … in the language."""
    words = _words(language)
    if interval == 1:
        if days:
            return words.gettext("every week: %(days)s") % {"days": days}
        return words.gettext("every week")
    if days:
        text = words.gettext("every %(interval)d weeks: %(days)s")
        return text % {"interval": interval, "days": days}
    return words.gettext("every %(interval)d weeks") % {"interval": interval}


def monthly(language: str, interval: int, nth: int, day: str) -> str:
    """Return "monthly: Tuesday, week 2 of the month" and the like in the language."""
    words = _words(language)
    if interval == 1:
        if nth == -1:
            return words.gettext("monthly: the last %(day)s of the month") % {"day": day}
        text = words.gettext("monthly: %(day)s, week %(n)d of the month")
        return text % {"day": day, "n": nth}
    values = {"interval": interval, "day": day, "n": nth}
    if nth == -1:
        return words.gettext("every %(interval)d months: the last %(day)s of the month") % values
    return words.gettext("every %(interval)d months: %(day)s, week %(n)d of the month") % values


def in_months(language: str, rule: str, months: str) -> str:
    """Return the rule limited to some months."""
    return _words(language).gettext("%(rule)s, in %(months)s") % {"rule": rule, "months": months}


def until(language: str, rule: str, day: str) -> str:
    """Return the rule with its last date."""
    return _words(language).gettext("%(rule)s, until %(date)s") % {"rule": rule, "date": day}


def times(language: str, rule: str, count: int) -> str:
    """Return the rule with the number of its dates."""
    text = _words(language).ngettext("%(rule)s, %(num)d time", "%(rule)s, %(num)d times", count)
    return text % {"rule": rule, "num": count}
