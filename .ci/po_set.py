"""Set German translations: `python .ci/po_set.py FILE.json` with {"msgid": "msgstr", ...}.

Only the given entries change; the catalogue is read and written in one go, so several
people can add their translations one after the other without overwriting each other.
"""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "newsticker/translations/de/LC_MESSAGES/messages.po"


def main() -> int:
    """Apply the translations in the JSON file to the German catalogue."""
    wanted = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    missing = []
    for msgid, msgstr in wanted.items():
        message = catalog.get(msgid) or next(
            (m for m in catalog if isinstance(m.id, tuple) and m.id[0] == msgid), None
        )
        if message is None:
            missing.append(msgid)
            continue
        # A plural entry takes a list: ["eine Mail", "%(num)d Mails"].
        message.string = tuple(msgstr) if isinstance(msgstr, list) else msgstr
        message.flags.discard("fuzzy")
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False)
    for msgid in missing:
        print(f"not in the catalogue (run bash .ci/i18n update first): {msgid!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
