"""Set translations: `python .ci/po_set.py FILE.json [LANG]` with {"msgid": "msgstr", ...}.

LANG is the catalogue's language (de when not given).

Only the given entries change; the catalogue is read and written in one go, so several
people can add their translations one after the other without overwriting each other.
"""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "newsticker/translations"


def main() -> int:
    """Apply the translations in the JSON file to the catalogue of one language."""
    language = sys.argv[2] if len(sys.argv) > 2 else "de"
    po = TRANSLATIONS / language / "LC_MESSAGES/messages.po"
    wanted = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    with po.open("rb") as handle:
        catalog = read_po(handle)
    missing = []
    for msgid, msgstr in wanted.items():
        message = catalog.get(msgid) or next(
            (m for m in catalog if isinstance(m.id, tuple) and m.id[0] == msgid), None
        )
        if message is None:
            missing.append(msgid)
            continue
        # A plural entry takes a list with one form per plural form of the language:
        # ["eine Mail", "%(num)d Mails"] in German, six forms in Arabic.
        message.string = tuple(msgstr) if isinstance(msgstr, list) else msgstr
        message.flags.discard("fuzzy")
    with po.open("wb") as handle:
        write_po(handle, catalog, width=76, omit_header=False)  # as pybabel update writes
    for msgid in missing:
        print(f"not in the catalogue (run bash .ci/i18n update first): {msgid!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
