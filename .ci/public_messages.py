"""The messages the public and subscribers see, for the catalogues beyond German and English.

`python .ci/public_messages.py LANG` prints, as JSON, every such message that the LANG
catalogue does not translate yet: {"msgid": "", ...}, and for a plural message
{"msgid": ["", "", ...]} with one slot per plural form of LANG. Fill in the strings and
apply them with `python .ci/po_set.py FILE.json LANG`.

A message is public unless every place that uses it belongs to the editor area (its
templates, views, commands and the editors' mails); the editor area stays German and
English.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
}
METHODS = [
    ("newsticker/**.py", "python"),
    ("subscribers/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]
# Where the editor area lives: a message used only in such files stays German and English.
# Volunteer translators read their pages and mails in German or English as they chose.
EDITOR_ONLY = re.compile(
    r"^(templates/(editor|items_editor|issues_editor|auth|api|webhooks|delivery|subscribers/editor"
    r"|translators|translators_editor)/"
    r"|templates/email/(delivery_|password_reset|translation_)"
    r"|newsticker/(editor|auth|api|webhooks|delivery|translators)/"
    r"|.*editor_\w*\.py$|.*/(import_views|bounce_views|proof_views|commands|demo|csvdemo"
    r"|importing|csvcheck|bulk)\.py$|newsticker/cli\.py$"
    r"|subscribers/(bounces|mailboxes)/)"
)


def all_messages() -> dict[str | tuple[str, str], list[str]]:
    """Return every message of the code and templates (a plural one as its pair) and its files."""
    places: dict[str | tuple[str, str], list[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        if filename.startswith(("tests", ".venv")) or not message:
            continue
        key = tuple(message[:2]) if isinstance(message, tuple) else message
        places.setdefault(key, []).append(filename.replace("\\", "/"))
    return places


def public_messages(
    places: dict[str | tuple[str, str], list[str]] | None = None,
) -> dict[str | tuple[str, str], str]:
    """Return every public message (a plural one as its pair) and one file that uses it."""
    return {
        key: files[0]
        for key, files in (places if places is not None else all_messages()).items()
        if not all(EDITOR_ONLY.match(f) for f in files)
    }


def catalogue(language: str):  # type: ignore[no-untyped-def]
    """Return the parsed catalogue of one language."""
    path = ROOT / "newsticker/translations" / language / "LC_MESSAGES/messages.po"
    with path.open("rb") as handle:
        return read_po(handle)


def untranslated(language: str) -> dict[str, object]:
    """Return the public messages the catalogue of `language` lacks, ready to be filled."""
    catalog = catalogue(language)
    todo: dict[str, object] = {}
    for key in sorted(public_messages(), key=str):
        msgid = key[0] if isinstance(key, tuple) else key
        entry = catalog.get(msgid)
        strings = entry.string if entry is not None else ""
        complete = (
            entry is not None
            and not entry.fuzzy
            and (all(strings) if isinstance(strings, tuple) else bool(strings))
        )
        if not complete:
            todo[msgid] = [""] * catalog.num_plurals if isinstance(key, tuple) else ""
    return todo


if __name__ == "__main__":
    json.dump(untranslated(sys.argv[1]), sys.stdout, ensure_ascii=False, indent=1)
    print()
