"""The `newsticker` commands of issues: draft-issue, schedule-issue, unschedule-issue.

Scheduling from the command line goes through the composer's own service, so a draft is
refused for the same reasons and with the same messages as in the composer. The services
are imported when a command runs: `newsticker --help` need not load the renderer.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

import click
from flask import Flask
from sqlalchemy.orm import Session

from newsticker.core.audit import Actor
from newsticker.core.commandline import with_app
from newsticker.core.site import app_settings, site_links

LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M"
_LOCAL_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2}) +(\d{1,2}):(\d{2})")


@click.command("draft-issue")
@click.option(
    "--publication",
    "slug",
    required=True,
    metavar="SLUG",
    help="The publication's slug from the configuration, e.g. ticker.",
)
@with_app
def draft_issue_command(app: Flask, session: Any, slug: str) -> None:
    """Build the next issue's draft from approved items and print its id."""
    from newsticker.issues.services import IssueError, current_time, draft_issue

    settings = app_settings(app)
    try:
        result = draft_issue(session, settings, slug, now=current_time())
    except IssueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--publication'") from exc
    issue = result.issue
    state = "new draft" if result.created else "existing draft"
    click.echo(
        f"{slug} issue {issue.number}: {state}, {result.added} entries added, "
        f"{len(issue.entries)} in all.",
        err=True,
    )
    click.echo(str(issue.id))


def _local_time(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[date, time]:
    """Read --at as a local date and wall-clock time, or stop with what is expected."""
    match = _LOCAL_TIME.fullmatch(value.strip())
    try:
        if match is None:
            raise ValueError(value)
        year, month, day, hour, minute = (int(part) for part in match.groups())
        return date(year, month, day), time(hour, minute)
    except ValueError:
        raise click.BadParameter(
            f'{value!r} is not a date and time such as "2026-12-24 10:00" '
            "(YYYY-MM-DD HH:MM, local time)"
        ) from None


def _issue(session: Session, issue_id: int) -> Any:
    from newsticker.issues.models import Issue

    issue = session.get(Issue, issue_id)
    if issue is None:
        raise click.ClickException(f"there is no issue {issue_id}")
    return issue


@click.command("schedule-issue")
@click.argument("issue_id", type=int)
@click.option(
    "--at",
    "at",
    required=True,
    callback=_local_time,
    metavar='"YYYY-MM-DD HH:MM"',
    help="When to send it, in the site's time zone.",
)
@click.option(
    "--override-size",
    is_flag=True,
    help="Send it even though its HTML is above the size limit (Gmail cuts it off).",
)
@with_app
def schedule_issue_command(
    app: Flask, session: Session, issue_id: int, at: tuple[date, time], override_size: bool
) -> None:
    """Approve a draft for sending at a local date and time, as the composer does."""
    from newsticker.issues.services import IssueError, current_time, schedule_at_local_time

    settings = app_settings(app)
    issue = _issue(session, issue_id)
    try:
        send_at = schedule_at_local_time(
            session,
            issue,
            day=at[0],
            at=at[1],
            settings=settings,
            links=site_links(app),
            now=current_time(),
            override_size=override_size,
            version=None,
            user_id=None,
            actor=Actor.system("cli"),
        )
    except IssueError as exc:
        # Rendered here, in the app's language, like the composer shows it.
        raise click.ClickException(str(exc)) from exc
    local = send_at.astimezone(settings.tz)
    click.echo(
        f"Issue {issue.id} ({issue.publication} no. {issue.number}) is scheduled for "
        f"{local:{LOCAL_TIME_FORMAT}} ({settings.site.timezone})."
    )


@click.command("unschedule-issue")
@click.argument("issue_id", type=int)
@with_app
def unschedule_issue_command(app: Flask, session: Session, issue_id: int) -> None:
    """Take a scheduled issue back to draft, so it can be changed (or scheduled again)."""
    from newsticker.issues.services import IssueError, current_time, unschedule_issue

    issue = _issue(session, issue_id)
    try:
        unschedule_issue(
            session,
            issue,
            version=None,
            user_id=None,
            now=current_time(),
            actor=Actor.system("cli"),
        )
    except IssueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Issue {issue.id} ({issue.publication} no. {issue.number}) is a draft again.")


COMMANDS = [draft_issue_command, schedule_issue_command, unschedule_issue_command]
