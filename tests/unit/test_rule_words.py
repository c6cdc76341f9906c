"""Series rules read in every interface language, not in English beside Arabic text."""

from datetime import date

import pytest
from babel.dates import get_day_names

from newsticker.items.recurrence import Recurrence, describe

RULES = [
    Recurrence("weekly", weekdays=(2,)),
    Recurrence("weekly", interval=2, weekdays=(0, 3), months=(3, 4)),
    Recurrence("monthly", nth=2, weekday=1, count=6),
    Recurrence("monthly", nth=-1, weekday=4, until=date(2027, 6, 30)),
]


@pytest.mark.parametrize("language", ["ar", "fa", "uk", "tr"])
@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.freq}-{r.interval}")
def test_a_rule_reads_in_the_language_with_its_day_names(language, rule):
    text = describe(rule, language, start=date(2027, 1, 6), with_end=True)
    days = get_day_names("wide", locale=language)
    day = rule.weekdays[0] if rule.weekdays else rule.weekday
    assert days[day] in text
    for english in ("every", "week", "month", "until", "times", "once"):
        assert english not in text


def test_the_count_takes_the_plural_form_of_the_language():
    rule = Recurrence("monthly", nth=2, weekday=1, count=2)
    assert describe(rule, "ar", start=date(2027, 1, 12), with_end=True).endswith("مرتين")
    rule = Recurrence("monthly", nth=2, weekday=1, count=5)
    assert describe(rule, "uk", start=date(2027, 1, 12), with_end=True).endswith("5 разів")


def test_months_are_named_on_their_own_not_as_in_a_date():
    rule = Recurrence("weekly", weekdays=(0,), months=(3,))
    assert "березень" in describe(rule, "uk", start=date(2027, 3, 1))


def test_a_language_without_a_catalogue_reads_english():
    assert describe(RULES[0], "pl", start=date(2027, 1, 6)) == "every Wednesday"
