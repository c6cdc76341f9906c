"""Commands: import-subscribers, export-subscribers, process-bounces, erase-subscriber."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy.orm import Session

from newsticker.core.commandline import with_app
from newsticker.core.i18n import lazy_gettext as _l
from subscribers.csvio import MAX_IMPORT_BYTES

PROGRESS_FROM_ROWS = 2000


def _publication_option(func: Any) -> Any:
    return click.option(
        "--publication",
        "publication",
        required=True,
        metavar="SLUG",
        help="Slug of the publication (see [[publications]] in the config).",
    )(func)


def _check_publication(app: Flask, slug: str) -> None:
    settings = app.config["NEWSTICKER_SETTINGS"]
    if settings.publication(slug) is None:
        known = ", ".join(p.slug for p in settings.publications)
        raise click.BadParameter(
            f"unknown publication {slug!r}; configured: {known}", param_hint="--publication"
        )


class _ProgressBars:
    """Show one progress bar per phase on standard error, for large files only."""

    LABELS = {"check": _l("Checking rows"), "save": _l("Saving")}

    def __init__(self) -> None:
        self.bar: Any = None
        self.phase = ""
        self.shown = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if total < PROGRESS_FROM_ROWS:
            return
        if phase != self.phase:
            self.close()
            self.phase, self.shown = phase, 0
            self.bar = click.progressbar(
                length=total, label=str(self.LABELS.get(phase, phase)), file=sys.stderr
            )
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _report_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}-report.csv")


@click.command("import-subscribers")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_publication_option
@click.option(
    "--consent-note",
    required=True,
    help='How the people on the list consented, e.g. "Signed up at the office, 2021-2025".',
)
@click.option("--dry-run", is_flag=True, help="Check the file and print the report only.")
@click.option(
    "--language",
    type=click.Choice(["de", "en"]),
    default=None,
    help="Language of the report (default: the site's default language).",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the report (default: FILE-report.csv next to the file).",
)
@with_app
def import_command(
    app: Flask,
    session: Session,
    file: Path,
    publication: str,
    consent_note: str,
    dry_run: bool,
    language: str | None,
    report_file: Path | None,
) -> None:
    """Import a CSV list as confirmed subscribers; print a report of what was not imported."""
    from flask_babel import force_locale

    _check_publication(app, publication)
    chosen = language or app.config["NEWSTICKER_SETTINGS"].site.default_language
    # The whole report in one language: the frame, each row's reason and the CSV file.
    with force_locale(chosen):
        _import(app, session, file, publication, consent_note, dry_run, report_file)


def _import(
    app: Flask,
    session: Session,
    file: Path,
    publication: str,
    consent_note: str,
    dry_run: bool,
    report_file: Path | None,
) -> None:
    from newsticker.core.db import utcnow
    from newsticker.core.i18n import gettext as _
    from subscribers import importing
    from subscribers.csvio import ImportFileError, write_report_csv
    from subscribers.site import site_salts

    note = consent_note.strip()
    if len(note) < 10:
        raise click.BadParameter(
            _("say how the people on the list consented (at least 10 characters)"),
            param_hint="--consent-note",
        )
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise click.BadParameter(
            _("cannot read %(path)s: %(error)s", path=str(file), error=str(exc.strerror)),
            param_hint="FILE",
        ) from exc
    if size > MAX_IMPORT_BYTES:
        raise click.ClickException(
            _(
                "%(path)s: the file is too large (%(size)d MB); at most %(limit)d MB are allowed.",
                path=str(file),
                size=round(size / 1024 / 1024),
                limit=MAX_IMPORT_BYTES // (1024 * 1024),
            )
        )
    data = file.read_bytes()
    progress = _ProgressBars()
    try:
        plan = importing.plan_import(
            session,
            data,
            publication=publication,
            salts=site_salts(app),
            progress=progress,
        )
        progress.close()
        if dry_run:
            imported, problems = len(plan.accepted), plan.problems
        else:
            result = importing.run_import(
                session,
                plan,
                publication=publication,
                consent_note=note,
                actor="cli",
                channel="cli",
                filename=file.name,
                now=utcnow(),
                progress=progress,
            )
            progress.close()
            imported, problems = result.imported, result.problems
    except ImportFileError as exc:
        progress.close()
        raise click.ClickException(f"{file}: {exc}") from exc
    for line in problems:
        click.echo(
            _(
                "row %(row)d: %(value)s: %(reason)s",
                row=line.row_number,
                value=repr(line.value),
                reason=str(line.reason),
            )
        )
    target = report_file or _report_path(file)
    if problems:
        try:
            target.write_text(write_report_csv(problems), encoding="utf-8-sig")
        except OSError as exc:
            click.echo(
                _(
                    "Could not write the report to %(path)s: %(error)s",
                    path=str(target),
                    error=str(exc.strerror),
                ),
                err=True,
            )
        else:
            click.echo(_("Report written to %(path)s", path=str(target)))
    counts = {
        "rows": plan.rows_total,
        "imported": imported,
        "unchanged": plan.unchanged,
        "rejected": len(problems),
    }
    if dry_run:
        summary = _(
            "%(rows)d rows: would import %(imported)d, skipped %(unchanged)d (already "
            "subscribed), not imported %(rejected)d (invalid, duplicate, erased or unsubscribed).",
            **counts,
        )
    else:
        summary = _(
            "%(rows)d rows: imported %(imported)d, skipped %(unchanged)d (already "
            "subscribed), not imported %(rejected)d (invalid, duplicate, erased or unsubscribed).",
            **counts,
        )
    click.echo(summary)


@click.command("export-subscribers")
@_publication_option
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(["confirmed", "pending", "unsubscribed", "bounced"]),
    help="Statuses to export (repeatable; default: confirmed).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
@with_app
def export_command(
    app: Flask,
    session: Session,
    publication: str,
    statuses: tuple[str, ...],
    output: Path | None,
) -> None:
    """Write a publication's subscribers as CSV (formula-safe cells) to standard output."""
    from subscribers.importing import export_csv

    _check_publication(app, publication)
    text = export_csv(session, publication, statuses=statuses or None)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8-sig")
        click.echo(f"Written to {output}", err=True)


@click.command("process-bounces")
@click.option(
    "--maildir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Maildir with returned mails (default: schedule.bounce_maildir).",
)
@click.option("--imap", "use_imap", is_flag=True, help="Read the [bounces] IMAP mailbox.")
@with_app
def process_bounces_command(
    app: Flask, session: Session, maildir: Path | None, use_imap: bool
) -> None:
    """Read returned mails, count bounces and complaints, take dead addresses off the list.

    Messages that cannot be read go to the quarantine folder and do not stop the run;
    the command still exits 0 and says how many it quarantined.
    """
    from newsticker.core.site import site_keyring
    from newsticker.core.unit_of_work import app_dispatcher, commit
    from subscribers.mailboxes import MailboxError, RunContext, process_imap, process_maildir
    from subscribers.mailboxes import summary as run_summary
    from subscribers.site import site_salts

    settings = app.config["NEWSTICKER_SETTINGS"]
    path = maildir or (
        Path(settings.schedule.bounce_maildir) if settings.schedule.bounce_maildir else None
    )
    if path is None and not use_imap:
        raise click.UsageError("give --maildir PATH or --imap (or set schedule.bounce_maildir)")
    context = RunContext(
        settings=settings,
        keyring=site_keyring(app),
        salts=site_salts(app),
        trigger="cli",
        # Each batch is committed (and its messages moved) before the next one is read.
        commit=lambda: commit(session, app_dispatcher(app)),
    )
    try:
        if path is not None:
            run = process_maildir(session, path, context)
            click.echo(f"{path}: {run_summary(run)}")
            _report_quarantine(run.quarantined, path)
        if use_imap:
            run = process_imap(session, context)
            click.echo(f"IMAP {settings.bounces.imap_host}: {run_summary(run)}")
            _report_quarantine(run.quarantined, settings.bounces.quarantine_folder)
    except MailboxError as exc:
        raise click.ClickException(str(exc)) from exc


def _report_quarantine(notes: list[dict[str, str]], where: object) -> None:
    for note in notes or []:
        click.echo(f"  quarantined {note.get('message', '')}: {note.get('reason', '')}")
    if notes:
        click.echo(f"  (moved to the quarantine folder of {where})")


@click.command("erase-subscriber")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_app
def erase_command(app: Flask, session: Session, email: str, yes: bool) -> None:
    """Erase a subscriber and everything about them (GDPR Art. 17)."""
    from newsticker.core.audit import Actor
    from newsticker.core.db import utcnow
    from subscribers import services
    from subscribers.site import site_salts

    subscriber = services.find_subscriber(session, email)
    if subscriber is None:
        raise click.ClickException(f"no subscriber with the address {email!r}")
    if not yes:
        click.confirm(f"Erase {subscriber.email} and all their data?", abort=True)
    services.erase_subscriber(
        session, subscriber, salts=site_salts(app), who=Actor.system("cli"), now=utcnow()
    )
    click.echo(f"Erased {email}.")


COMMANDS = [import_command, export_command, process_bounces_command, erase_command]
