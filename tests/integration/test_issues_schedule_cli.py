"""`newsticker schedule-issue` and `unschedule-issue`: what the composer does, from a shell.

A draft is scheduled through the composer's own service, so every refusal carries the
composer's message (checked against the composer itself, on the same database); a
refused command exits non-zero and changes nothing.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from newsticker import create_app
from newsticker.config import load_settings
from newsticker.core.unit_of_work import app_unit_of_work
from newsticker.issues.models import Issue, IssueStatus
from tests.factories import create_editor, login, make_issue, make_item

BERLIN = ZoneInfo("Europe/Berlin")


def app_of(runner: Any, **config: Any) -> Flask:
    """Return an app on the runner's database (after adding config sections to its file)."""
    with runner.config_file.open("a", encoding="utf-8") as handle:
        for section, values in config.items():
            handle.write(f"[{section}]\n")
            handle.writelines(f"{key} = {value!r}\n" for key, value in values.items())
    return create_app(load_settings(runner.config_file, environ={}))


@pytest.fixture
def app(runner: Any) -> Flask:
    """Return an app on the runner's database, to seed it and to look at it."""
    return app_of(runner)


def seed(app: Flask, *, items: int = 1) -> int:
    with app_unit_of_work(app) as session:
        made = [make_item(session) for _ in range(items)]
        return make_issue(session, items=made).id


def state(app: Flask, issue_id: int) -> tuple[IssueStatus, datetime | None, int]:
    with app_unit_of_work(app) as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        return issue.status, issue.scheduled_at, issue.version


def tomorrow_at(hour: int) -> tuple[str, datetime]:
    day = (datetime.now(BERLIN) + timedelta(days=1)).date()
    local = datetime(day.year, day.month, day.day, hour, 30, tzinfo=BERLIN)
    return local.strftime("%Y-%m-%d %H:%M"), local.astimezone(UTC)


def refused(runner: Any, app: Flask, issue_id: int, *args: str) -> str:
    """Run a command that must be refused; check that nothing changed; return its output."""
    before = state(app, issue_id)
    result = runner.invoke(*args)
    assert result.exit_code != 0, result.output
    assert state(app, issue_id) == before
    return str(result.output)


def composer_page(app: Flask, issue_id: int, at: str) -> str:
    """Schedule the issue in the composer for the same time; return the page it answers."""
    app.config["WTF_CSRF_ENABLED"] = False
    with app_unit_of_work(app) as session:
        create_editor(session)
    client = app.test_client()
    login(client)
    day, time = at.split()
    response = client.post(
        f"/redaktion/ausgaben/{issue_id}/planen",
        data={"version": state(app, issue_id)[2], "send_date": day, "send_time": time},
    )
    assert response.status_code in (409, 422)
    return html.unescape(response.get_data(as_text=True))


# ---------------------------------------------------------------- what goes through


def test_a_draft_is_scheduled_for_a_local_time(runner, app):
    issue_id = seed(app)
    at, expected = tomorrow_at(10)
    result = runner.invoke("schedule-issue", str(issue_id), "--at", at)
    assert result.exit_code == 0, result.output
    assert f"is scheduled for {at} (Europe/Berlin)" in result.output
    status, scheduled_at, _version = state(app, issue_id)
    assert status == IssueStatus.SCHEDULED
    assert scheduled_at == expected


def test_unschedule_takes_it_back_to_draft(runner, app):
    issue_id = seed(app)
    at, _expected = tomorrow_at(10)
    assert runner.invoke("schedule-issue", str(issue_id), "--at", at).exit_code == 0
    result = runner.invoke("unschedule-issue", str(issue_id))
    assert result.exit_code == 0, result.output
    assert "is a draft again" in result.output
    assert state(app, issue_id)[:2] == (IssueStatus.DRAFT, None)
    # And it can be scheduled again.
    assert runner.invoke("schedule-issue", str(issue_id), "--at", at).exit_code == 0


def test_the_size_override_lets_a_large_draft_go(runner):
    small = app_of(runner, delivery={"max_html_bytes": 10_000})
    issue_id = seed(small, items=8)
    at, _expected = tomorrow_at(10)
    refused(runner, small, issue_id, "schedule-issue", str(issue_id), "--at", at)
    result = runner.invoke("schedule-issue", str(issue_id), "--at", at, "--override-size")
    assert result.exit_code == 0, result.output
    assert state(small, issue_id)[0] == IssueStatus.SCHEDULED


# ---------------------------------------------------------------- refused as in the composer


def _last_sunday_of_march() -> date:
    year = datetime.now(BERLIN).year + 1
    return max(date(year, 3, d) for d in range(25, 32) if date(year, 3, d).weekday() == 6)


def _empty_draft(runner: Any, app: Flask) -> tuple[Flask, int, str]:
    return app, seed(app, items=0), tomorrow_at(10)[0]


def _in_the_past(runner: Any, app: Flask) -> tuple[Flask, int, str]:
    yesterday = datetime.now(BERLIN) - timedelta(days=1)
    return app, seed(app), yesterday.strftime("%Y-%m-%d %H:%M")


def _skipped_by_the_clocks(runner: Any, app: Flask) -> tuple[Flask, int, str]:
    # In Berlin 02:30 does not exist on the night the clocks go forward.
    return app, seed(app), f"{_last_sunday_of_march()} 02:30"


def _too_large(runner: Any, app: Flask) -> tuple[Flask, int, str]:
    small = app_of(runner, delivery={"max_html_bytes": 10_000})
    return small, seed(small, items=8), tomorrow_at(10)[0]


def _not_a_draft(runner: Any, app: Flask) -> tuple[Flask, int, str]:
    issue_id = seed(app)
    assert runner.invoke("schedule-issue", str(issue_id), "--at", tomorrow_at(10)[0]).exit_code == 0
    return app, issue_id, tomorrow_at(11)[0]


@pytest.mark.parametrize(
    ("case", "words"),
    [
        (_empty_draft, "keine Beiträge"),
        (_in_the_past, "Vergangenheit"),
        (_skipped_by_the_clocks, "02:30"),
        (_too_large, "zu groß"),
        (_not_a_draft, "kein Entwurf"),
    ],
)
def test_refused_with_the_composers_message(runner, app, case, words):
    app, issue_id, at = case(runner, app)
    output = refused(runner, app, issue_id, "schedule-issue", str(issue_id), "--at", at)
    said = output.split("Error: ", 1)[1].strip()
    assert words in said
    assert said in composer_page(app, issue_id, at)


@pytest.mark.parametrize(
    "at", ["tomorrow", "2026-13-01 10:00", "2026-12-24", "24.12.2026 10:00", "2026-12-24 25:00"]
)
def test_a_malformed_time_is_a_usage_error(runner, app, at):
    issue_id = seed(app)
    output = refused(runner, app, issue_id, "schedule-issue", str(issue_id), "--at", at)
    assert "YYYY-MM-DD HH:MM" in output


def test_the_time_is_required(runner, app):
    issue_id = seed(app)
    assert "--at" in refused(runner, app, issue_id, "schedule-issue", str(issue_id))


def test_an_unknown_issue_is_refused(runner):
    for args in (
        ("schedule-issue", "999", "--at", tomorrow_at(10)[0]),
        ("unschedule-issue", "999"),
    ):
        result = runner.invoke(*args)
        assert result.exit_code != 0
        assert "there is no issue 999" in result.output


def test_only_a_scheduled_issue_can_be_unscheduled(runner, app):
    issue_id = seed(app)
    output = refused(runner, app, issue_id, "unschedule-issue", str(issue_id))
    assert "Nur eine geplante Ausgabe" in output
