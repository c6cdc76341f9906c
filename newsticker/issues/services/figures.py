"""Key figures of "facts and figures": label, value, unit, period and source, in order.

A value is stored as canonical decimal text ("1234.5"): no float rounding and no
difference between the databases. Editors type it as they write numbers, German
("1.234,5") or English ("1,234.5"); the editor's language is tried first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from babel.numbers import NumberFormatError, get_decimal_symbol, parse_decimal
from sqlalchemy.orm import Session

from newsticker.core.i18n import lazy_gettext as _l
from newsticker.issues.models import Issue, KeyFigure
from newsticker.issues.services.changes import IssueError, begin_change, touch
from newsticker.issues.services.composing import put_in_order, renumber, single_line

MAX_FIGURES = 30
MAX_FIGURE_ABS = Decimal("1e15")
_NUMBER_CHARS = re.compile(r"[+\-−]?[0-9][0-9.,]*")


def parse_figure_value(raw: str, language: str = "de") -> str:
    """Return a key figure's number as canonical decimal text; German "1.234,5" is fine."""
    text = "".join(raw.split()).replace("\u2212", "-")
    if not text or _NUMBER_CHARS.fullmatch(text) is None:
        raise IssueError(
            _l("Please enter the value as a number, e.g. 1234 or 12,5."), field="value"
        )
    other = "en" if language == "de" else "de"
    number: Decimal | None = None
    for locale in (language, other):
        try:
            number = parse_decimal(text, locale=locale, strict=True)
            break
        except NumberFormatError:
            continue
    if number is None or not number.is_finite() or abs(number) >= MAX_FIGURE_ABS:
        raise IssueError(
            _l("Please enter the value as a number, e.g. 1234 or 12,5."), field="value"
        )
    result = format(number.normalize(), "f")
    return "0" if result in ("-0", "") else result


@dataclass
class FigureData:
    """A key figure as the form gives it."""

    label: str
    value: str
    unit: str = ""
    period: str = ""
    source: str = ""


def add_figure(
    session: Session,
    issue: Issue,
    data: FigureData,
    *,
    language: str,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> KeyFigure:
    """Add a key figure at the end of the chart."""
    begin_change(issue, version)
    if len(issue.figures) >= MAX_FIGURES:
        raise IssueError(_l("An issue can show at most %(max)d key figures.", max=MAX_FIGURES))
    figure = KeyFigure(
        position=len(issue.figures),
        label=single_line(data.label, "label", 200, required=True),
        value=parse_figure_value(data.value, language),
        unit=single_line(data.unit, "unit", 40, required=False),
        period=single_line(data.period, "period", 100, required=False),
        source=single_line(data.source, "source", 300, required=False),
    )
    issue.figures.append(figure)
    touch(session, issue, user_id=user_id, now=now)
    return figure


def update_figure(
    session: Session,
    issue: Issue,
    figure_id: int,
    data: FigureData,
    *,
    language: str,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> KeyFigure:
    """Change a key figure in place: label, value, unit, period and source (its place stays)."""
    begin_change(issue, version)
    figure = _figure(issue, figure_id)
    label = single_line(data.label, "label", 200, required=True)
    value = parse_figure_value(data.value, language)
    unit = single_line(data.unit, "unit", 40, required=False)
    period = single_line(data.period, "period", 100, required=False)
    source = single_line(data.source, "source", 300, required=False)
    # Checked all first: a refused change leaves every field as it was.
    figure.label, figure.value, figure.unit = label, value, unit
    figure.period, figure.source = period, source
    touch(session, issue, user_id=user_id, now=now)
    return figure


def figure_input_value(value: str, language: str) -> str:
    """Return a stored value as an editor types it in their language ("1234.5" → "1234,5")."""
    # The stored text is canonical ("-1234.5"): only the decimal sign differs, and no
    # digit may be rounded away (babel's format_decimal keeps three decimals).
    return value.replace(".", get_decimal_symbol(language))


def _figure(issue: Issue, figure_id: int) -> KeyFigure:
    for figure in issue.figures:
        if figure.id == figure_id:
            return figure
    raise IssueError(_l("This key figure is no longer part of the issue."))


def remove_figure(
    session: Session,
    issue: Issue,
    figure_id: int,
    *,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> None:
    """Take a key figure out of the chart."""
    begin_change(issue, version)
    issue.figures.remove(_figure(issue, figure_id))
    renumber(sorted(issue.figures, key=lambda f: f.position))
    touch(session, issue, user_id=user_id, now=now)


def move_figure(
    session: Session,
    issue: Issue,
    figure_id: int,
    offset: int,
    *,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> None:
    """Move a key figure up (-1) or down (+1)."""
    begin_change(issue, version)
    figures = sorted(issue.figures, key=lambda f: (f.position, f.id))
    figure = _figure(issue, figure_id)
    index = figures.index(figure)
    target = min(max(index + offset, 0), len(figures) - 1)
    figures.insert(target, figures.pop(index))
    renumber(figures)
    touch(session, issue, user_id=user_id, now=now)


def reorder_figures(
    session: Session,
    issue: Issue,
    figure_ids: Sequence[int],
    *,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> None:
    """Put the key figures in the given order (the whole order, as with a section's)."""
    begin_change(issue, version)
    put_in_order(issue.figures, figure_ids)
    touch(session, issue, user_id=user_id, now=now)
