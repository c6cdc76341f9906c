"""Commands for items: `newsticker refresh-occurrences` writes every event's dates anew."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy.orm import Session

from newsticker.core.commandline import with_app
from newsticker.core.site import app_settings


@click.command("refresh-occurrences")
@with_app
def refresh_occurrences_command(app: Flask, session: Session) -> None:
    """Write the dates of every event anew (after the upgrade that adds them, or a repair)."""
    from newsticker.items.services import current_time, occurrences

    run = occurrences.rebuild_all(session, tz=app_settings(app).tz, now=current_time())
    click.echo(f"Wrote {run.dates} dates of {run.items} events.")


COMMANDS = [refresh_occurrences_command]
