"""The `newsticker draft-issue` command."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask

from newsticker.core.commandline import with_app


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

    settings = app.config["NEWSTICKER_SETTINGS"]
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


COMMANDS = [draft_issue_command]
