"""The German catalogue translates every message of the code and templates."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
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


def extracted_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        if filename.startswith(("tests", ".venv")):
            continue
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, filename)
    return found


def test_every_message_has_a_german_translation():
    with (ROOT / "newsticker/translations/de/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    missing = []
    for msgid, filename in sorted(extracted_messages().items()):
        entry = catalog.get(msgid)
        if (
            entry is None
            or not entry.string
            or entry.fuzzy
            or (isinstance(entry.string, tuple) and not all(entry.string))
        ):
            missing.append(f"{filename}: {msgid!r}")
    assert missing == [], "untranslated (run bash .ci/i18n update, then translate):\n" + "\n".join(
        missing
    )


def test_placeholders_survive_translation():
    import re

    with (ROOT / "newsticker/translations/de/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    placeholder = re.compile(r"%\(\w+\)[sd]")
    wrong = []
    for entry in catalog:
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = set(placeholder.findall(ids[-1]))
        for text in strings:
            if set(placeholder.findall(text)) - wanted or (
                wanted - set(placeholder.findall(text)) - {"%(num)d"}
            ):
                wrong.append(entry.id)
    assert wrong == []
