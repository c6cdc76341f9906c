"""Properties of the recurrence rules as stored data: any JSON is refused cleanly.

Extends tests/unit/test_recurrence.py (expansion, iCal, windows) with hostile input to
`Recurrence.from_dict`, which reads what the database (or an old export) holds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsticker.items.recurrence import Recurrence, RecurrenceError, occurrences, validate

TZ = ZoneInfo("Europe/Berlin")
KEYS = ["freq", "interval", "weekdays", "nth", "weekday", "months", "until", "count", "exceptions"]
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**6), 10**6),
        st.floats(allow_nan=False),
        st.text(max_size=20),
    ),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
rule_dicts = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), json_values, max_size=9)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(rule_dicts)
def test_from_dict_accepts_or_refuses_with_recurrence_error_only(data: dict) -> None:
    try:
        rule = Recurrence.from_dict(data)
    except RecurrenceError:
        return
    start = datetime(2026, 3, 10, 18, 30, tzinfo=TZ)
    try:
        validate(rule, start, TZ)
    except RecurrenceError:
        return
    # A rule that passes validation expands to a bounded, ordered list in any window.
    found = occurrences(
        start,
        start + timedelta(hours=2),
        rule,
        tz=TZ,
        window_start=start.astimezone(UTC),
        window_end=start.astimezone(UTC) + timedelta(days=3 * 366),
    )
    starts = [s for s, _e in found]
    assert starts == sorted(starts)
    assert len(starts) == len(set(starts))
    assert len(starts) <= 3 * 366
