"""Properties of the CSV import and export under hostile input.

Extends tests/unit/test_csvio.py (round trips, encodings, classification) with bytes no
spreadsheet would write and cells an attacker would.
"""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subscribers.csvio import (
    ImportFileError,
    ImportRow,
    classify_rows,
    read_import,
    write_export,
)
from tests.security.hostile import CORPUS

FORMULA = ("=", "+", "-", "@", "\t", "\r")
hostile_cells = st.one_of(
    st.sampled_from(list(CORPUS.values())),
    st.text(max_size=40),
    st.sampled_from(FORMULA).flatmap(lambda start: st.text(max_size=20).map(lambda t: start + t)),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_are_read_or_refused_with_a_message(data: bytes) -> None:
    try:
        parsed = read_import(data)
    except ImportFileError as exc:
        assert str(exc)
        return
    accepted, report = classify_rows(
        parsed.rows, existing_keys={}, suppressed_hashes=set(), salt=b"salt-for-the-test"
    )
    assert len(accepted) + len(report) >= 0
    for row in accepted:
        assert "\x00" not in row.email + row.name
        assert "\n" not in row.name and "\r" not in row.name


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(hostile_cells, hostile_cells), max_size=10), st.sampled_from([",", ";"]))
def test_exported_cells_never_start_a_formula(rows: list[tuple[str, str]], delimiter: str) -> None:
    text = write_export(rows, ["E-Mail", "Name"], delimiter=delimiter)
    for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        for cell in record:
            assert not cell.startswith(FORMULA), cell


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(hostile_cells, hostile_cells), min_size=1, max_size=10))
def test_hostile_rows_are_classified_one_outcome_each(rows: list[tuple[str, str]]) -> None:
    import_rows = [ImportRow(n, email, name, "") for n, (email, name) in enumerate(rows, 2)]
    accepted, report = classify_rows(
        import_rows, existing_keys={}, suppressed_hashes=set(), salt=b"salt-for-the-test"
    )
    numbers = [a.row_number for a in accepted] + [line.row_number for line in report]
    blank = {r.row_number for r in import_rows if not r.email_raw.strip() and not r.name.strip()}
    assert set(numbers) | blank == {r.row_number for r in import_rows}
    for row in accepted:
        assert "<" not in row.email and "\x00" not in row.name
