"""CSV cells a spreadsheet will not run as formulas (every export of the site uses this).

OWASP CSV injection: a spreadsheet runs a cell that starts with one of =, +, -, @, tab
or carriage return as a formula, so such cells get a leading quote. Cells that already
start with quotes before such a character get one more, so that reading strips
exactly one and every value round-trips.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

FORMULA_START = re.compile(r"'*[=+\-@\t\r]")

__all__ = ["FORMULA_START", "safe_cell", "write_csv"]


def safe_cell(value: object) -> str:
    """Return a cell's text, with a leading quote if a spreadsheet would run it."""
    text = "" if value is None else str(value)
    if FORMULA_START.match(text):
        return "'" + text
    return text


def write_csv(
    rows: Iterable[Sequence[object]], header: Sequence[object], *, delimiter: str = ","
) -> str:
    """Return CSV text whose cells a spreadsheet will not run as formulas."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
