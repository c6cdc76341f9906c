"""Tests for recurrence rules: validation, expansion, iCal export and description."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from dateutil.rrule import rruleset, rrulestr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event, vRecur

from newsticker.items.recurrence import (
    MAX_COUNT,
    Recurrence,
    RecurrenceError,
    dates_counted,
    describe,
    exdates,
    occurrences,
    series_dates,
    to_rrule,
    validate,
)

TZ = ZoneInfo("Europe/Berlin")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)

ROUND_TABLE = Recurrence(
    freq="monthly",
    nth=2,
    weekday=TUE,
    months=(2, 4, 6, 9, 11, 12),
    until=date(2027, 12, 31),
)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return an aware datetime in Berlin wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def starts(
    start: datetime,
    rule: Recurrence | None,
    end: datetime | None = None,
    window: tuple[datetime, datetime] = (FAR_PAST, FAR_FUTURE),
) -> list[datetime]:
    """Return occurrence starts as naive Berlin wall-clock times, for readable asserts."""
    pairs = occurrences(start, end, rule, tz=TZ, window_start=window[0], window_end=window[1])
    return [s.astimezone(TZ).replace(tzinfo=None) for s, _e in pairs]


def _recur_text(rule: dict[str, Any]) -> bytes:
    """Serialise an RRULE dict the way the iCal feed will."""
    return bytes(vRecur(rule).to_ical())  # type: ignore[no-untyped-call]


# --- the acceptance example -------------------------------------------------------------


def test_round_table_yields_exactly_the_six_dates() -> None:
    start = local(2027, 2, 9, 18, 30)
    validate(ROUND_TABLE, start, TZ)
    assert starts(start, ROUND_TABLE) == [
        datetime(2027, 2, 9, 18, 30),
        datetime(2027, 4, 13, 18, 30),
        datetime(2027, 6, 8, 18, 30),
        datetime(2027, 9, 14, 18, 30),
        datetime(2027, 11, 9, 18, 30),
        datetime(2027, 12, 14, 18, 30),
    ]


def test_round_table_results_are_utc_with_duration_kept() -> None:
    start = local(2027, 2, 9, 18, 30)
    pairs = occurrences(
        start.astimezone(UTC),
        local(2027, 2, 9, 20, 30).astimezone(UTC),
        ROUND_TABLE,
        tz=TZ,
        window_start=FAR_PAST,
        window_end=FAR_FUTURE,
    )
    assert len(pairs) == 6
    for occ_start, occ_end in pairs:
        assert occ_start.tzinfo is UTC
        assert occ_end is not None
        assert occ_end.tzinfo is UTC
        assert occ_end - occ_start == timedelta(hours=2)
    # Winter dates are UTC+1, summer dates UTC+2: 18:30 local either way.
    assert pairs[0][0] == datetime(2027, 2, 9, 17, 30, tzinfo=UTC)
    assert pairs[1][0] == datetime(2027, 4, 13, 16, 30, tzinfo=UTC)


def test_round_table_window_clipping() -> None:
    start = local(2027, 2, 9, 18, 30)
    window = (local(2027, 4, 1), local(2027, 7, 1))
    assert starts(start, ROUND_TABLE, window=window) == [
        datetime(2027, 4, 13, 18, 30),
        datetime(2027, 6, 8, 18, 30),
    ]


def test_round_table_description() -> None:
    assert describe(ROUND_TABLE, "en") == (
        "every 2nd Tuesday in February, April, June, September, November, and December"
    )
    assert describe(ROUND_TABLE, "de") == (
        "jeden 2. Dienstag im Februar, April, Juni, September, November und Dezember"
    )


def test_round_table_as_ical() -> None:
    rule = to_rrule(ROUND_TABLE, tz=TZ)
    assert rule == {
        "FREQ": "MONTHLY",
        "BYDAY": "2TU",
        "BYMONTH": [2, 4, 6, 9, 11, 12],
        "UNTIL": datetime(2027, 12, 31, 22, 59, 59, tzinfo=UTC),
    }
    assert _recur_text(rule) == (
        b"FREQ=MONTHLY;UNTIL=20271231T225959Z;BYDAY=2TU;BYMONTH=2,4,6,9,11,12"
    )


# --- weekly rules, exceptions, count ------------------------------------------------------


def test_weekly_defaults_to_the_weekday_of_the_start() -> None:
    start = local(2027, 3, 3, 10)  # a Wednesday
    rule = Recurrence(freq="weekly", count=3)
    validate(rule, start, TZ)
    assert starts(start, rule) == [
        datetime(2027, 3, 3, 10),
        datetime(2027, 3, 10, 10),
        datetime(2027, 3, 17, 10),
    ]


def test_weekly_on_several_days_with_interval_and_until() -> None:
    start = local(2027, 1, 4, 17)  # a Monday
    rule = Recurrence(freq="weekly", interval=2, weekdays=(THU, MON), until=date(2027, 1, 28))
    validate(rule, start, TZ)
    assert starts(start, rule) == [
        datetime(2027, 1, 4, 17),
        datetime(2027, 1, 7, 17),
        datetime(2027, 1, 18, 17),
        datetime(2027, 1, 21, 17),
    ]


def test_until_day_is_inclusive() -> None:
    start = local(2027, 1, 4, 23, 30)
    rule = Recurrence(freq="weekly", until=date(2027, 1, 18))
    assert starts(start, rule)[-1] == datetime(2027, 1, 18, 23, 30)


def test_weekly_exceptions_are_skipped_and_count_includes_them() -> None:
    start = local(2027, 3, 1, 18, 30)  # a Monday
    rule = Recurrence(
        freq="weekly",
        weekdays=(MON, THU),
        count=6,
        exceptions=(date(2027, 3, 4), date(2027, 3, 11)),
    )
    validate(rule, start, TZ)
    # Like RRULE;COUNT=6 with two EXDATEs in a calendar client: four dates remain.
    assert starts(start, rule) == [
        datetime(2027, 3, 1, 18, 30),
        datetime(2027, 3, 8, 18, 30),
        datetime(2027, 3, 15, 18, 30),
        datetime(2027, 3, 18, 18, 30),
    ]


def test_the_first_date_itself_can_be_excepted() -> None:
    start = local(2027, 3, 1, 18, 30)
    rule = Recurrence(freq="weekly", count=3, exceptions=(date(2027, 3, 1),))
    validate(rule, start, TZ)
    assert starts(start, rule) == [datetime(2027, 3, 8, 18, 30), datetime(2027, 3, 15, 18, 30)]


def test_monthly_last_weekday_and_months_across_years() -> None:
    start = local(2027, 11, 26, 9)  # last Friday of November 2027
    rule = Recurrence(freq="monthly", nth=-1, weekday=FRI, months=(11, 1), count=3)
    validate(rule, start, TZ)
    assert starts(start, rule) == [
        datetime(2027, 11, 26, 9),
        datetime(2028, 1, 28, 9),
        datetime(2028, 11, 24, 9),
    ]


def test_monthly_with_interval() -> None:
    start = local(2027, 1, 5, 19)  # 1st Tuesday
    rule = Recurrence(freq="monthly", interval=3, nth=1, weekday=TUE, count=4)
    assert starts(start, rule) == [
        datetime(2027, 1, 5, 19),
        datetime(2027, 4, 6, 19),
        datetime(2027, 7, 6, 19),
        datetime(2027, 10, 5, 19),
    ]


# --- daylight saving time -------------------------------------------------------------------


def test_weekly_keeps_local_time_across_spring_change() -> None:
    # Clocks go forward on Sunday 28 March 2027.
    start = local(2027, 3, 18, 18, 30)
    pairs = occurrences(
        start,
        None,
        Recurrence(freq="weekly", count=3),
        tz=TZ,
        window_start=FAR_PAST,
        window_end=FAR_FUTURE,
    )
    assert [s for s, _e in pairs] == [
        datetime(2027, 3, 18, 17, 30, tzinfo=UTC),
        datetime(2027, 3, 25, 17, 30, tzinfo=UTC),
        datetime(2027, 4, 1, 16, 30, tzinfo=UTC),
    ]


def test_weekly_keeps_local_time_across_autumn_change() -> None:
    # Clocks go back on Sunday 31 October 2027.
    start = local(2027, 10, 21, 18, 30)
    pairs = occurrences(
        start,
        local(2027, 10, 21, 20),
        Recurrence(freq="weekly", count=3),
        tz=TZ,
        window_start=FAR_PAST,
        window_end=FAR_FUTURE,
    )
    assert pairs == [
        (datetime(2027, 10, 21, 16, 30, tzinfo=UTC), datetime(2027, 10, 21, 18, tzinfo=UTC)),
        (datetime(2027, 10, 28, 16, 30, tzinfo=UTC), datetime(2027, 10, 28, 18, tzinfo=UTC)),
        (datetime(2027, 11, 4, 17, 30, tzinfo=UTC), datetime(2027, 11, 4, 19, tzinfo=UTC)),
    ]


def test_time_skipped_in_spring_moves_forward_and_ambiguous_time_takes_summer_time() -> None:
    rule = Recurrence(freq="weekly", count=2)
    spring = occurrences(
        local(2027, 3, 21, 2, 30),
        None,
        rule,
        tz=TZ,
        window_start=FAR_PAST,
        window_end=FAR_FUTURE,
    )
    # 02:30 does not exist on 28 March; it becomes 03:30 summer time.
    assert spring[1][0] == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert spring[1][0].astimezone(TZ).hour == 3
    autumn = occurrences(
        local(2027, 10, 24, 2, 30),
        None,
        rule,
        tz=TZ,
        window_start=FAR_PAST,
        window_end=FAR_FUTURE,
    )
    # 02:30 happens twice on 31 October; the first (summer time) reading is used.
    assert autumn[1][0] == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("first_day", "dst_day", "hours"),
    [
        (date(2027, 3, 21), date(2027, 3, 28), 23),
        (date(2027, 10, 24), date(2027, 10, 31), 25),
    ],
)
def test_all_day_events_stay_midnight_to_midnight_on_dst_days(
    first_day: date, dst_day: date, hours: int
) -> None:
    start = datetime.combine(first_day, time(), tzinfo=TZ)
    end = start + timedelta(days=1)
    pairs = occurrences(
        start.astimezone(UTC),
        end.astimezone(UTC),
        Recurrence(freq="weekly", count=3),
        tz=TZ,
        window_start=FAR_PAST,
        window_end=FAR_FUTURE,
    )
    for occ_start, occ_end in pairs:
        assert occ_end is not None
        assert occ_start.astimezone(TZ).time() == time(0)
        assert occ_end.astimezone(TZ).time() == time(0)
        assert occ_end.astimezone(TZ).date() - occ_start.astimezone(TZ).date() == timedelta(1)
    dst_start, dst_end = pairs[1]
    assert dst_start.astimezone(TZ).date() == dst_day
    assert dst_end is not None
    assert dst_end - dst_start == timedelta(hours=hours)


def test_overnight_event_keeps_wall_clock_times_over_the_dst_night() -> None:
    start = local(2027, 3, 20, 22)  # Saturday 22:00 until Sunday 06:00
    pairs = occurrences(
        start,
        local(2027, 3, 21, 6),
        Recurrence(freq="weekly", count=2),
        tz=TZ,
        window_start=FAR_PAST,
        window_end=FAR_FUTURE,
    )
    occ_start, occ_end = pairs[1]
    assert occ_end is not None
    assert occ_start.astimezone(TZ).replace(tzinfo=None) == datetime(2027, 3, 27, 22)
    assert occ_end.astimezone(TZ).replace(tzinfo=None) == datetime(2027, 3, 28, 6)
    assert occ_end - occ_start == timedelta(hours=7)


# --- multi-day events and windows -------------------------------------------------------


def test_multi_day_event_overlapping_the_window_start_is_included() -> None:
    start = local(2027, 5, 7, 16)  # 1st Friday, until Sunday 13:00
    end = local(2027, 5, 9, 13)
    rule = Recurrence(freq="monthly", nth=1, weekday=FRI, count=3)
    validate(rule, start, TZ)
    window = (local(2027, 6, 5), local(2027, 6, 6))  # the Saturday of the 2nd date
    pairs = occurrences(start, end, rule, tz=TZ, window_start=window[0], window_end=window[1])
    assert pairs == [
        (local(2027, 6, 4, 16).astimezone(UTC), local(2027, 6, 6, 13).astimezone(UTC)),
    ]


def test_window_is_half_open() -> None:
    start = local(2027, 3, 1, 18)
    end = local(2027, 3, 1, 20)
    rule = Recurrence(freq="weekly", count=3)
    second_start, second_end = local(2027, 3, 8, 18), local(2027, 3, 8, 20)
    # Ends exactly when the window starts: not included.
    assert starts(start, rule, end, (second_end, FAR_FUTURE)) == [datetime(2027, 3, 15, 18)]
    # Starts exactly when the window ends: not included.
    assert starts(start, rule, end, (FAR_PAST, second_start)) == [datetime(2027, 3, 1, 18)]


def test_events_without_end_count_when_they_start_inside_the_window() -> None:
    start = local(2027, 3, 1, 18)
    rule = Recurrence(freq="weekly", count=3)
    window = (local(2027, 3, 8, 18), local(2027, 3, 15, 18))
    assert starts(start, rule, None, window) == [datetime(2027, 3, 8, 18)]
    assert starts(start, rule, start, window) == [datetime(2027, 3, 8, 18)]


def test_window_before_or_after_the_series_is_empty() -> None:
    start = local(2027, 2, 9, 18, 30)
    assert starts(start, ROUND_TABLE, window=(local(2026, 1, 1), local(2027, 2, 1))) == []
    assert starts(start, ROUND_TABLE, window=(local(2028, 1, 1), local(2029, 1, 1))) == []


def test_no_rule_returns_the_single_event_if_it_overlaps() -> None:
    start = local(2027, 6, 1, 10)
    end = local(2027, 6, 3, 12)
    inside = occurrences(
        start, end, None, tz=TZ, window_start=local(2027, 6, 2), window_end=local(2027, 6, 5)
    )
    assert inside == [(start.astimezone(UTC), end.astimezone(UTC))]
    assert inside[0][0].tzinfo is UTC
    outside = occurrences(
        start, end, None, tz=TZ, window_start=local(2027, 6, 4), window_end=local(2027, 6, 5)
    )
    assert outside == []
    single = occurrences(
        start, None, None, tz=TZ, window_start=local(2027, 6, 1), window_end=local(2027, 6, 2)
    )
    assert single == [(start.astimezone(UTC), None)]


def test_naive_datetimes_and_inverted_events_are_programming_errors() -> None:
    naive = datetime(2027, 1, 1, 10)
    aware = local(2027, 1, 1, 10)
    with pytest.raises(ValueError, match="start must be an aware"):
        occurrences(naive, None, None, tz=TZ, window_start=aware, window_end=aware)
    with pytest.raises(ValueError, match="window_end must be an aware"):
        occurrences(aware, None, None, tz=TZ, window_start=aware, window_end=naive)
    with pytest.raises(ValueError, match="end must not be before start"):
        occurrences(
            aware,
            aware - timedelta(hours=1),
            None,
            tz=TZ,
            window_start=FAR_PAST,
            window_end=FAR_FUTURE,
        )


def test_occurrences_refuses_an_unbounded_rule() -> None:
    with pytest.raises(RecurrenceError):
        occurrences(
            local(2027, 1, 4),
            None,
            Recurrence(freq="weekly"),
            tz=TZ,
            window_start=FAR_PAST,
            window_end=FAR_FUTURE,
        )


# --- validation ------------------------------------------------------------------------------

START = local(2027, 2, 9, 18, 30)  # 2nd Tuesday of February 2027


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            Recurrence(freq="weekly"),
            "The recurrence must end: give an end date or a number of dates.",
        ),
        (
            Recurrence(freq="weekly", until=date(2027, 3, 1), count=3),
            "Give either an end date or a number of dates, not both.",
        ),
        (Recurrence(freq="weekly", count=0), "The number of dates must be between 1 and 500."),
        (
            Recurrence(freq="weekly", count=MAX_COUNT + 1),
            "The number of dates must be between 1 and 500.",
        ),
        (
            Recurrence(freq="weekly", until=date(2027, 2, 8)),
            "The end date must not be before the first date.",
        ),
        (
            Recurrence(freq="weekly", interval=0, count=2),
            "The interval must be between 1 and 52.",
        ),
        (
            Recurrence(freq="weekly", interval=53, count=2),
            "The interval must be between 1 and 52.",
        ),
        (
            Recurrence(freq="weekly", weekdays=(TUE, 7), count=2),
            "Choose weekdays from Monday to Sunday.",
        ),
        (
            Recurrence(freq="monthly", nth=2, weekday=-1, count=2),
            "Choose weekdays from Monday to Sunday.",
        ),
        (
            Recurrence(freq="monthly", nth=5, weekday=TUE, count=2),
            "The position in the month must be 1st to 4th or last.",
        ),
        (
            Recurrence(freq="monthly", nth=0, weekday=TUE, count=2),
            "The position in the month must be 1st to 4th or last.",
        ),
        (
            Recurrence(freq="monthly", nth=2, weekday=TUE, months=(2, 13), count=2),
            "Choose months from January to December.",
        ),
        (
            Recurrence(freq="monthly", count=2),
            "Choose which weekday of the month the event falls on, e.g. the 2nd Tuesday.",
        ),
        (
            Recurrence(freq="monthly", nth=2, weekday=TUE, weekdays=(TUE,), count=2),
            "A monthly rule takes one weekday and its position in the month.",
        ),
        (
            Recurrence(freq="weekly", nth=2, count=2),
            "A weekly rule takes weekdays, not a position in the month.",
        ),
        (
            Recurrence(freq="daily", count=2),  # type: ignore[arg-type]
            "Choose whether the event repeats weekly or monthly.",
        ),
        (
            Recurrence(freq="weekly", weekdays=(MON, WED), count=4),
            "The first date does not follow the rule: choose a first date that is one of the "
            "recurring dates.",
        ),
        (
            Recurrence(freq="monthly", nth=1, weekday=TUE, count=4),
            "The first date does not follow the rule: choose a first date that is one of the "
            "recurring dates.",
        ),
        (
            Recurrence(freq="monthly", nth=2, weekday=TUE, months=(3, 4), count=4),
            "The first date does not follow the rule: choose a first date that is one of the "
            "recurring dates.",
        ),
        (
            Recurrence(freq="weekly", count=2, exceptions=(date(2027, 2, 9), date(2027, 2, 16))),
            "The rule yields no date at all: every date is left out.",
        ),
        (
            Recurrence(freq="weekly", count=3, exceptions=(date(2027, 2, 10),)),
            "2027-02-10 is not one of the recurring dates, so it cannot be left out.",
        ),
        (
            Recurrence(freq="weekly", until=date(2032, 2, 10)),
            "The dates must not span more than 5 years.",
        ),
        (
            Recurrence(freq="weekly", interval=52, count=7),
            "The dates must not span more than 5 years.",
        ),
        (
            Recurrence(freq="weekly", until=datetime(2027, 3, 1, tzinfo=UTC)),
            "The end date is not a valid date.",
        ),
        (
            Recurrence(freq="weekly", count=True),
            "The number of dates must be between 1 and 500.",
        ),
        (
            Recurrence(freq="weekly", count=3, exceptions=("2027-02-16",)),  # type: ignore[arg-type]
            "A date to leave out is not a valid date.",
        ),
    ],
)
def test_validate_rejects_with_a_clear_message(rule: Recurrence, message: str) -> None:
    with pytest.raises(RecurrenceError) as caught:
        validate(rule, START, TZ)
    # No application context here: the lazy message still renders, in English.
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "rule",
    [
        Recurrence(freq="weekly", count=MAX_COUNT, weekdays=tuple(range(7))),
        Recurrence(freq="weekly", count=1),
        Recurrence(freq="weekly", interval=52, count=6),
        Recurrence(freq="weekly", until=date(2032, 2, 9)),
        Recurrence(freq="weekly", until=date(2027, 2, 9)),
        Recurrence(freq="monthly", nth=2, weekday=TUE, months=(2,), count=5),
    ],
)
def test_validate_accepts_boundaries(rule: Recurrence) -> None:
    validate(rule, START, TZ)


def test_validate_works_in_local_time_for_aware_and_naive_starts() -> None:
    # 00:30 on Tuesday in Berlin is still Monday in UTC: the weekday must come from Berlin.
    start = local(2027, 2, 9, 0, 30)
    rule = Recurrence(freq="monthly", nth=2, weekday=TUE, count=2)
    validate(rule, start.astimezone(UTC), TZ)
    validate(rule, start.replace(tzinfo=None))
    with pytest.raises(ValueError, match="tz is required"):
        validate(rule, start)


def test_recurrence_error_is_a_value_error_with_the_message() -> None:
    error = RecurrenceError("plain text")
    assert isinstance(error, ValueError)
    assert str(error) == "plain text"
    assert error.message == "plain text"


# --- storage ------------------------------------------------------------------------------


def test_to_dict_and_from_dict_round_trip_through_json() -> None:
    rule = Recurrence(
        freq="weekly",
        interval=2,
        weekdays=(MON, THU),
        months=(1, 2),
        count=9,
        exceptions=(date(2027, 1, 7),),
    )
    stored = json.dumps(rule.to_dict())
    assert json.loads(stored)["exceptions"] == ["2027-01-07"]
    assert Recurrence.from_dict(json.loads(stored)) == rule
    assert Recurrence.from_dict(json.loads(json.dumps(ROUND_TABLE.to_dict()))) == ROUND_TABLE
    assert ROUND_TABLE.to_dict()["until"] == "2027-12-31"


def test_from_dict_fills_defaults() -> None:
    assert Recurrence.from_dict({"freq": "weekly", "count": 3}) == Recurrence(
        freq="weekly", count=3
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "The recurrence rule is malformed."),
        ({"freq": "weekly", "count": 3, "colour": "red"}, "Unknown recurrence field: colour."),
        ({"freq": "yearly", "count": 3}, "Choose whether the event repeats weekly or monthly."),
        ({"count": 3}, "Choose whether the event repeats weekly or monthly."),
        ({"freq": "weekly", "count": "3"}, "Invalid value for count."),
        ({"freq": "weekly", "count": 3, "interval": True}, "Invalid value for interval."),
        ({"freq": "weekly", "count": 3, "weekdays": "0,1"}, "Invalid value for weekdays."),
        ({"freq": "weekly", "count": 3, "weekdays": [0, "1"]}, "Invalid value for weekdays."),
        ({"freq": "weekly", "until": "31.12.2027"}, "Invalid value for until."),
        ({"freq": "weekly", "until": 20271231}, "Invalid value for until."),
        (
            {"freq": "weekly", "count": 3, "exceptions": ["2027-02-30"]},
            "Invalid value for exceptions.",
        ),
        ({"freq": "weekly"}, "The recurrence must end: give an end date or a number of dates."),
        ({"freq": "weekly", "count": 3, "weekdays": [9]}, "Choose weekdays from Monday to Sunday."),
        (
            {"freq": "monthly", "nth": 2, "weekday": 1, "count": 501},
            "The number of dates must be between 1 and 500.",
        ),
    ],
)
def test_from_dict_rejects_malformed_data(data: Any, message: str) -> None:
    with pytest.raises(RecurrenceError) as caught:
        Recurrence.from_dict(data)
    assert str(caught.value) == message


# --- iCal export ------------------------------------------------------------------------------


def test_to_rrule_weekly_with_count_and_all_day_until() -> None:
    weekly = Recurrence(freq="weekly", interval=2, weekdays=(THU, MON, THU), count=5)
    assert to_rrule(weekly) == {"FREQ": "WEEKLY", "INTERVAL": 2, "BYDAY": ["MO", "TH"], "COUNT": 5}
    assert _recur_text(to_rrule(weekly)) == b"FREQ=WEEKLY;COUNT=5;INTERVAL=2;BYDAY=MO,TH"
    until = Recurrence(freq="weekly", until=date(2027, 3, 1))
    assert to_rrule(until) == {"FREQ": "WEEKLY", "UNTIL": date(2027, 3, 1)}
    last = Recurrence(freq="monthly", nth=-1, weekday=FRI, count=2)
    assert to_rrule(last)["BYDAY"] == "-1FR"


def test_to_rrule_refuses_invalid_rules() -> None:
    with pytest.raises(RecurrenceError):
        to_rrule(Recurrence(freq="weekly"))


def test_exdates_carry_the_local_time_of_the_first_date() -> None:
    start = local(2027, 3, 1, 18, 30).astimezone(UTC)
    rule = Recurrence(
        freq="weekly",
        weekdays=(MON, THU),
        count=8,
        exceptions=(date(2027, 3, 11), date(2027, 3, 4), date(2027, 3, 5)),
    )
    values = exdates(rule, start, TZ)
    # 5 March is a Friday, not one of the dates: a useless EXDATE is left out.
    assert values == [local(2027, 3, 4, 18, 30), local(2027, 3, 11, 18, 30)]
    assert all(value.tzinfo is TZ for value in values)


def test_ical_event_round_trips_rrule_and_exdate() -> None:
    start = local(2027, 2, 9, 18, 30)
    rule = Recurrence(
        freq="monthly",
        nth=2,
        weekday=TUE,
        months=(2, 4, 6, 9, 11, 12),
        until=date(2027, 12, 31),
        exceptions=(date(2027, 6, 8),),
    )
    event = Event()
    event.add("dtstart", start)
    event.add("rrule", to_rrule(rule, tz=TZ))
    event.add("exdate", exdates(rule, start, TZ))
    text = Calendar.from_ical(event.to_ical()).to_ical().decode()
    assert "RRULE:FREQ=MONTHLY;UNTIL=20271231T225959Z;BYDAY=2TU;BYMONTH=2,4,6,9,11,12" in text
    assert "EXDATE;TZID=Europe/Berlin:20270608T183000" in text
    assert _ical_expansion(start, rule) == [
        s
        for s, _e in occurrences(
            start, None, rule, tz=TZ, window_start=FAR_PAST, window_end=FAR_FUTURE
        )
    ]


def _ical_expansion(start: datetime, rule: Recurrence) -> list[datetime]:
    """Expand the exported RRULE + EXDATE the way a calendar client would."""
    local_start = start.astimezone(TZ)
    line = _recur_text(to_rrule(rule, tz=TZ)).decode()
    expanded = rruleset()
    expanded.rrule(rrulestr(line, dtstart=local_start))
    for value in exdates(rule, start, TZ):
        expanded.exdate(value)
    return [value.astimezone(UTC) for value in expanded]


# --- properties ------------------------------------------------------------------------------


@st.composite
def rules_with_start(draw: st.DrawFn) -> tuple[Recurrence, datetime]:
    """Draw a valid rule together with a first date that follows it."""
    first = draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)))
    at = draw(st.sampled_from([time(0), time(9, 15), time(18, 30), time(23, 45)]))
    start = datetime.combine(first, at, tzinfo=TZ)
    interval = draw(st.integers(1, 3))
    month_set = draw(st.sets(st.integers(1, 12), max_size=4))
    months = tuple(sorted(month_set | {first.month})) if month_set else ()
    if draw(st.booleans()):
        extra = draw(st.sets(st.integers(0, 6), max_size=3))
        weekdays = tuple(sorted(extra | {first.weekday()})) if extra else ()
        base = Recurrence(freq="weekly", interval=interval, weekdays=weekdays, months=months)
    else:
        nth = (first.day - 1) // 7 + 1
        if nth == 5 or (draw(st.booleans()) and (first + timedelta(days=7)).month != first.month):
            nth = -1
        base = Recurrence(
            freq="monthly", interval=interval, nth=nth, weekday=first.weekday(), months=months
        )
    if draw(st.booleans()):
        bounded = Recurrence(**{**base.__dict__, "count": draw(st.integers(1, 24))})
    else:
        until = first + timedelta(days=draw(st.integers(0, 700)))
        bounded = Recurrence(**{**base.__dict__, "until": until})
    dates = [
        s.astimezone(TZ).date()
        for s, _e in occurrences(
            start, None, bounded, tz=TZ, window_start=FAR_PAST, window_end=FAR_FUTURE
        )
    ]
    # Sparse month sets with a count can run past the five-year limit; not our subject here.
    assume(dates[-1] <= first + relativedelta(years=5))
    skipped = draw(st.sets(st.sampled_from(dates), max_size=max(len(dates) - 1, 0)))
    return Recurrence(**{**bounded.__dict__, "exceptions": tuple(sorted(skipped))}), start


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules_with_start())
def test_expansion_properties(drawn: tuple[Recurrence, datetime]) -> None:
    rule, start = drawn
    validate(rule, start, TZ)
    pairs = occurrences(
        start,
        start + timedelta(hours=2),
        rule,
        tz=TZ,
        window_start=FAR_PAST,
        window_end=FAR_FUTURE,
    )
    assert pairs, "a valid rule yields at least one date"
    local_starts = [s.astimezone(TZ) for s, _e in pairs]
    assert local_starts == sorted(local_starts)
    for occ in local_starts:
        assert occ.time() == start.time()
        assert occ.date() not in rule.exceptions
        if rule.months:
            assert occ.month in rule.months
        if rule.freq == "monthly":
            assert occ.weekday() == rule.weekday
        elif rule.weekdays:
            assert occ.weekday() in rule.weekdays
        if rule.until is not None:
            assert occ.date() <= rule.until
    if rule.count is not None:
        assert len(pairs) == rule.count - len(rule.exceptions)
    assert Recurrence.from_dict(json.loads(json.dumps(rule.to_dict()))) == rule


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules_with_start())
def test_ical_export_expands_to_the_same_dates(drawn: tuple[Recurrence, datetime]) -> None:
    rule, start = drawn
    ours = [
        s
        for s, _e in occurrences(
            start, None, rule, tz=TZ, window_start=FAR_PAST, window_end=FAR_FUTURE
        )
    ]
    assert _ical_expansion(start, rule) == ours


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules_with_start(), st.integers(0, 800), st.integers(1, 60))
def test_window_returns_exactly_the_overlapping_subset(
    drawn: tuple[Recurrence, datetime], offset_days: int, length_days: int
) -> None:
    rule, start = drawn
    end = start + timedelta(days=1, hours=3)
    everything = occurrences(start, end, rule, tz=TZ, window_start=FAR_PAST, window_end=FAR_FUTURE)
    window_start = start + timedelta(days=offset_days)
    window_end = window_start + timedelta(days=length_days)
    assume(window_start < window_end)
    clipped = occurrences(start, end, rule, tz=TZ, window_start=window_start, window_end=window_end)
    assert clipped == [
        (s, e) for s, e in everything if e is not None and s < window_end and e > window_start
    ]


# --- description ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "english", "german"),
    [
        (Recurrence(freq="weekly", count=3), "every week", "jede Woche"),
        (
            Recurrence(freq="weekly", weekdays=(THU, MON), count=3),
            "every Monday and Thursday",
            "jeden Montag und Donnerstag",
        ),
        (
            Recurrence(freq="weekly", interval=2, weekdays=(WED,), count=3),
            "every 2 weeks on Wednesday",
            "alle 2 Wochen am Mittwoch",
        ),
        (
            Recurrence(freq="weekly", weekdays=(SAT,), months=(7, 8), count=3),
            "every Saturday in July and August",
            "jeden Samstag im Juli und August",
        ),
        (
            Recurrence(freq="monthly", nth=1, weekday=MON, count=3),
            "every 1st Monday of the month",
            "jeden 1. Montag im Monat",
        ),
        (
            Recurrence(freq="monthly", nth=-1, weekday=FRI, count=3),
            "every last Friday of the month",
            "jeden letzten Freitag im Monat",
        ),
        (
            Recurrence(freq="monthly", interval=3, nth=3, weekday=SUN, count=3),
            "every 3 months on the 3rd Sunday",
            "alle 3 Monate am 3. Sonntag",
        ),
    ],
)
def test_describe_in_english_and_german(rule: Recurrence, english: str, german: str) -> None:
    assert describe(rule, "en") == english
    assert describe(rule, "de") == german


def test_describe_names_the_start_weekday_and_the_end() -> None:
    rule = Recurrence(freq="weekly", count=10)
    assert describe(rule, "en", start=date(2027, 3, 3)) == "every Wednesday"
    assert (
        describe(rule, "de_DE", start=date(2027, 3, 3), with_end=True) == "jeden Mittwoch, 10-mal"
    )
    assert describe(rule, "en", with_end=True) == "every week, 10 times"
    once = Recurrence(freq="weekly", count=1)
    assert describe(once, "en", with_end=True) == "every week, once"
    assert describe(once, "de", with_end=True) == "jede Woche, einmal"
    assert describe(ROUND_TABLE, "de-DE", with_end=True).endswith(", bis zum 31. Dezember 2027")
    assert describe(ROUND_TABLE, "en", with_end=True).endswith(", until December 31, 2027")


@pytest.mark.parametrize("locale", ["fr", "pl", "xx", ""])
def test_describe_falls_back_to_english_for_languages_without_a_wording(locale: str) -> None:
    assert describe(ROUND_TABLE, locale).startswith("every 2nd Tuesday in February")


def test_the_count_in_words_leaves_out_cancelled_dates() -> None:
    start = date(2027, 3, 3)
    rule = Recurrence(freq="weekly", count=6, exceptions=(date(2027, 3, 17),))
    assert describe(rule, "de", start=start, with_end=True) == "jeden Mittwoch, 5-mal"
    assert describe(rule, "en", start=start, with_end=True) == "every Wednesday, 5 times"
    assert dates_counted(rule, start) == 5
    # An exception the rule never produces takes nothing away.
    stray = Recurrence(freq="weekly", count=6, exceptions=(date(2027, 3, 18),))
    assert dates_counted(stray, start) == 6
    assert dates_counted(Recurrence(freq="weekly", until=date(2027, 4, 1)), start) is None


def test_series_dates_keep_cancelled_dates_marked() -> None:
    rule = Recurrence(freq="weekly", count=4, exceptions=(date(2027, 3, 10),))
    first = datetime(2027, 3, 3, 16, tzinfo=TZ)
    found = series_dates(
        first,
        first + timedelta(hours=2),
        rule,
        tz=TZ,
        window_start=first,
        window_end=datetime(2027, 3, 20, tzinfo=TZ),
    )
    assert [(d.starts_at.astimezone(TZ).day, d.cancelled) for d in found] == [
        (3, False),
        (10, True),
        (17, False),
    ]
    assert found[0].ends_at == datetime(2027, 3, 3, 18, tzinfo=TZ)
    with pytest.raises(ValueError):
        series_dates(
            first.replace(tzinfo=None),
            None,
            rule,
            tz=TZ,
            window_start=first,
            window_end=first,
        )


@pytest.mark.parametrize("window_day", [date(2027, 3, 20), date(2027, 3, 28), date(2027, 10, 31)])
def test_series_dates_agree_with_occurrences_from_any_window(window_day: date) -> None:
    # Weekly on Sunday evenings across both DST changes, an overnight event, two cancelled.
    first = datetime(2027, 1, 3, 23, 30, tzinfo=TZ)
    rule = Recurrence(
        freq="weekly", until=date(2027, 12, 26), exceptions=(date(2027, 3, 28), date(2027, 10, 31))
    )
    end = first + timedelta(hours=2)
    window_start = datetime.combine(window_day, time(0, 30), TZ)
    window_end = window_start + timedelta(days=60)
    found = series_dates(first, end, rule, tz=TZ, window_start=window_start, window_end=window_end)
    expected = occurrences(
        first, end, rule, tz=TZ, window_start=window_start, window_end=window_end
    )
    assert [(d.starts_at, d.ends_at) for d in found if not d.cancelled] == expected
    assert all(d.starts_at.astimezone(TZ).date() in rule.exceptions for d in found if d.cancelled)
    only = series_dates(
        first,
        end,
        rule,
        tz=TZ,
        window_start=window_start,
        window_end=window_end,
        first_only=True,
    )
    assert only[-1] == next(d for d in found if not d.cancelled)
    assert only == found[: len(only)]
