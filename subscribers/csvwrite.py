"""Write CSV files that are safe to open in a spreadsheet (exports and import reports).

OWASP CSV injection: a spreadsheet runs a cell that starts with one of =, +, -, @, tab
or carriage return as a formula, so such cells get a leading quote. Cells that already
start with quotes before such a character get one more, so that reading
(`unescape_cell`) strips exactly one and every value round-trips.
"""

import re
from collections.abc import Iterable, Sequence

from newsticker.core.csvsafe import write_csv
from newsticker.core.i18n import lazy_gettext as _l
from subscribers.csvcheck import ReportLine

__all__ = ["unescape_cell", "write_export", "write_report_csv"]

_ESCAPED_FORMULA_START = re.compile(r"'+[=+\-@\t\r]")


def unescape_cell(cell: str) -> str:
    """Undo write_export's formula escaping, so an export imports unchanged."""
    return cell[1:] if _ESCAPED_FORMULA_START.match(cell) else cell


def write_export(
    rows: Iterable[Sequence[object]],
    header: Sequence[object],
    *,
    delimiter: str = ",",
) -> str:
    """Return CSV text whose cells a spreadsheet will not run as formulas."""
    return write_csv(rows, header, delimiter=delimiter)


def write_report_csv(lines: Iterable[ReportLine], *, delimiter: str = ",") -> str:
    """Return the import report as CSV text in the current locale."""
    header = (_l("Row"), _l("Value"), _l("Problem"), _l("Reason"))
    return write_export(
        ((line.row_number, line.value, line.kind, line.reason) for line in lines),
        header,
        delimiter=delimiter,
    )
