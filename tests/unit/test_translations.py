"""The catalogues: German translates every message, Arabic, Persian, Ukrainian and Turkish
every message the public and subscribers see; placeholders survive and plurals are whole.

Which messages are public is the rule in `.ci/public_messages.py` (the editor area stays
German and English); this test loads that script rather than keep a second copy of it.
Until the translators' files are merged, the ar/fa/uk/tr cases fail with the list of
what is missing, which is the list `python .ci/public_messages.py LANG` prints.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

import pytest

from newsticker.config import InterfaceLanguage
from newsticker.core.i18n import EDITOR_LANGUAGES, LANGUAGES, MAIL_LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_ONLY = [code for code in LANGUAGES if code not in EDITOR_LANGUAGES]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@cache
def rule() -> ModuleType:
    """Load .ci/public_messages.py, the one place that says which messages are public."""
    spec = importlib.util.spec_from_file_location(
        "public_messages", ROOT / ".ci/public_messages.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def messages() -> dict[Any, list[str]]:
    """Return every message of the code and templates with the files that use it."""
    return rule().all_messages()  # type: ignore[no-any-return]


@cache
def catalogue(language: str) -> Any:
    return rule().catalogue(language)


def untranslated(language: str, wanted: dict[Any, Any]) -> list[str]:
    """Return "file: msgid" for each wanted message the catalogue lacks or has fuzzy."""
    catalog = catalogue(language)
    missing = []
    for key, where in sorted(wanted.items(), key=lambda pair: str(pair[0])):
        msgid = key[0] if isinstance(key, tuple) else key
        entry = catalog.get(msgid)
        strings = entry.string if entry is not None else ""
        if (
            entry is None
            or entry.fuzzy
            or not strings
            or (isinstance(strings, tuple) and not all(strings))
        ):
            place = where[0] if isinstance(where, list) else where
            missing.append(f"{place}: {msgid!r}")
    return missing


def test_the_languages_are_one_list():
    assert tuple(LANGUAGES) == get_args(InterfaceLanguage) == MAIL_LANGUAGES
    assert set(EDITOR_LANGUAGES) <= set(LANGUAGES)


def test_every_message_has_a_german_translation():
    missing = untranslated("de", messages())
    assert missing == [], "untranslated (run bash .ci/i18n update, then translate):\n" + "\n".join(
        missing
    )


@pytest.mark.parametrize("language", PUBLIC_ONLY)
def test_every_public_message_is_translated(language):
    missing = untranslated(language, rule().public_messages(messages()))
    assert missing == [], (
        f"{len(missing)} public messages lack a {language} translation "
        f"(python .ci/public_messages.py {language} lists them):\n" + "\n".join(missing[:40])
    )


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_placeholders_survive_translation(language):
    wrong = []
    for entry in catalogue(language):
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            if not text:
                continue
            found = set(PLACEHOLDER.findall(text))
            # A singular form may say "one" in words instead of %(num)d.
            if found - wanted or (wanted - found - {"%(num)d"}):
                wrong.append(f"{ids[0]!r} → {text!r}")
    assert wrong == [], "placeholders lost or invented:\n" + "\n".join(wrong)


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_plural_entries_have_every_form(language):
    catalog = catalogue(language)
    wrong = []
    for entry in catalog:
        if not isinstance(entry.id, tuple) or not any(entry.string):
            continue
        if len(entry.string) != catalog.num_plurals or not all(entry.string):
            wrong.append(f"{entry.id[0]!r}: {len(entry.string)} of {catalog.num_plurals} forms")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("language", PUBLIC_ONLY)
def test_catalogue_header_says_it_awaits_review(language):
    catalog = catalogue(language)
    assert "Awaiting review by a native speaker" in catalog.header_comment
    assert catalog.last_translator and "EMAIL@ADDRESS" not in catalog.last_translator
