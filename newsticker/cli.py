"""The `newsticker` command: set up, run and operate the system."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from typing import Any

import click
from flask import Flask

from newsticker import create_app
from newsticker.config import CONFIG_ENV, Settings
from newsticker.core.commandline import Context, pass_context, with_app
from newsticker.core.unit_of_work import app_unit_of_work

DEMO_EDITOR = "redaktion@flensburg.example"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"Path of config.toml (default: ${CONFIG_ENV} or ./config.toml).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
@click.pass_context
def cli(click_ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """Newsticker: submissions, subscribers and issues of a city's newsletter."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Libraries that narrate every step at INFO: keep the console readable.
    for name in ("alembic", "mail.log", "apscheduler.executors.default"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)
    click_ctx.obj = Context(config_path, create_app)


@cli.command("check-config")
@pass_context
def check_config(ctx: Context) -> None:
    """Validate the configuration and print the effective settings (secrets masked)."""
    settings = ctx.settings()
    click.echo(json.dumps(settings.masked(), indent=2, ensure_ascii=False, default=str))
    click.echo("Configuration OK.", err=True)


@cli.command("init-db")
@pass_context
def init_db(ctx: Context) -> None:
    """Create or upgrade the database schema (alembic upgrade heads)."""
    from newsticker.migrations import upgrade_database

    settings = ctx.settings()
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade_database(settings.database_url)
    except Exception as exc:
        raise click.ClickException(f"cannot upgrade the database: {exc}") from exc
    _fill_occurrences(ctx)
    click.echo("Database is up to date.")


def _fill_occurrences(ctx: Context) -> None:
    """Write the events' dates once after the upgrade that added their table."""
    from newsticker.items.services import current_time, occurrences

    app = ctx.app()
    with app_unit_of_work(app) as session:
        run = occurrences.fill_if_empty(session, tz=ctx.settings().tz, now=current_time())
    if run is not None and run.items:
        click.echo(f"Wrote {run.dates} dates of {run.items} events.")


@cli.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "editor"]), default="editor", show_default=True)
@click.option("--name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_app
def create_user_command(
    app: Flask, session: Any, email: str, role: str, name: str, password_stdin: bool
) -> None:
    """Create an editor account; the password comes from a prompt or standard input."""
    from newsticker.auth.services import UserError, create_user, normalise_login

    try:
        normalise_login(email)
    except UserError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from exc
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(session, email, password, role=role, name=name)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.role} {user.email}.")


@cli.command("demo")
@with_app
def demo_command(app: Flask, session: Any) -> None:
    """Load realistic demo content for Flensburg (safe to run again)."""
    from newsticker.demo import load_demo

    report = load_demo(session, app.config["NEWSTICKER_SETTINGS"])
    click.echo(f"Demo content: {report}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=click.IntRange(1, 65535), show_default=True)
@click.option("--debug", is_flag=True, help="Reload on code changes, show the debugger.")
@pass_context
def serve(ctx: Context, host: str, port: int, debug: bool) -> None:
    """Run the development web server (use gunicorn in production)."""
    app = ctx.app()
    app.run(host=host, port=port, debug=debug, use_reloader=debug, threaded=True)


@cli.command("catcher")
@pass_context
def catcher_command(ctx: Context) -> None:
    """Run the loopback mail catcher in the foreground."""
    from newsticker.core.catcher import MailCatcher

    settings = ctx.settings()
    catcher = _start_catcher(settings, MailCatcher)
    click.echo(f"Mail catcher listening on {settings.catcher.host}:{catcher.port}. Ctrl+C stops.")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        catcher.stop()


def _start_catcher(settings: Settings, catcher_class: Any) -> Any:
    maildir = settings.instance_dir / settings.catcher.maildir
    try:
        return catcher_class(maildir, settings.catcher.host, settings.catcher.port).start()
    except OSError as exc:
        raise click.ClickException(
            f"cannot start the mail catcher on {settings.catcher.host}:{settings.catcher.port}: "
            f"{exc} (is another Newsticker running?)"
        ) from exc


@cli.command("send-mail-queue")
@pass_context
def send_mail_queue(ctx: Context) -> None:
    """Send (or retry) the queued transactional mails that are due."""
    from newsticker import jobs

    app = ctx.app()
    with app.app_context():
        run = jobs.send_mail_queue()
    click.echo(f"sent {run.sent}, to retry {run.retried}, failed {run.failed}")


@cli.command("up")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=click.IntRange(1, 65535), show_default=True)
@click.option("--no-scheduler", is_flag=True, help="Do not start the scheduler process.")
@pass_context
def up(ctx: Context, host: str, port: int, no_scheduler: bool) -> None:
    """Set up and run everything locally: database, demo content, catcher, scheduler, web."""
    from newsticker.auth.services import find_user, set_password
    from newsticker.core.catcher import MailCatcher
    from newsticker.demo import load_demo
    from newsticker.migrations import upgrade_database

    _plain_log_unless_terminal()
    base = ctx.settings()
    # The catcher is the relay: every mail the demo sends can be read in the outbox.
    overrides = {
        "smtp.host": base.catcher.host,
        "smtp.port": base.catcher.port,
        "smtp.tls": "none",
        "smtp.user": "",
        "site.base_url": os.environ.get("NEWSTICKER_BASE_URL") or f"http://{host}:{port}",
    }
    settings = ctx.settings(**overrides)
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    upgrade_database(settings.database_url)
    app = ctx.app(**overrides)
    password = secrets.token_urlsafe(12)
    with app_unit_of_work(app) as session:
        report = load_demo(session, settings)
        user = find_user(session, DEMO_EDITOR)
        if user is None:
            from newsticker.auth.services import create_user

            create_user(session, DEMO_EDITOR, password, role="admin", name="Demo-Redaktion")
        else:
            set_password(session, user, password)
    catcher = _start_catcher(settings, MailCatcher)
    scheduler = None if no_scheduler else _start_scheduler(settings, overrides, ctx.config_path)
    url = f"http://{host}:{port}"
    click.echo(
        "\n".join(
            [
                "",
                f"  Newsticker is running on {url}",
                f"  Editor login:  {url}/redaktion/login",
                f"    e-mail:      {DEMO_EDITOR}",
                f"    password:    {password}   (new on every start)",
                f"  Outbox (mails caught on {settings.catcher.host}:{catcher.port}): "
                f"{url}/redaktion/postausgang",
                f"  Scheduler:     {'running' if scheduler else 'not started'}",
                f"  Demo content:  {report}",
                "  Ctrl+C (or SIGTERM) stops everything.",
                "",
            ]
        )
    )
    # SIGTERM (a service manager, `kill`, a container stopping) stops everything as Ctrl+C
    # does: by default it would end this process at once and leave the scheduler running.
    previous = signal.signal(signal.SIGTERM, _stop_on_signal)
    try:
        app.run(host=host, port=port, use_reloader=False, threaded=True)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if scheduler is not None:
            scheduler.terminate()
            try:
                scheduler.wait(timeout=10)
            except subprocess.TimeoutExpired:
                scheduler.kill()
                scheduler.wait(timeout=10)
        catcher.stop()
        click.echo("  Newsticker stopped.")


def _stop_on_signal(signum: int, _frame: object) -> None:
    """Leave the web server's loop as Ctrl+C does, so `up` stops what it started."""
    raise KeyboardInterrupt(f"signal {signum}")


# "\x1b[1m", "\x1b[31m", "\x1b[0m": what werkzeug colours its request log with.
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _PlainLog(logging.Filter):
    """Strip terminal colour codes from log records (for output that is not a terminal)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "\x1b[" in message:
            record.msg, record.args = _ANSI.sub("", message), None
        return True


def _plain_log_unless_terminal() -> None:
    """Keep colour codes out of the log when it goes to a file or a pipe."""
    if sys.stderr.isatty():
        return
    for handler in logging.getLogger().handlers:
        handler.addFilter(_PlainLog())


def _start_scheduler(
    settings: Settings, overrides: dict[str, Any], config_path: str | None
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["NEWSTICKER_SMTP_HOST"] = str(overrides["smtp.host"])
    env["NEWSTICKER_SMTP_PORT"] = str(overrides["smtp.port"])
    env["NEWSTICKER_BASE_URL"] = str(overrides["site.base_url"])
    env["NEWSTICKER_DATABASE_URL"] = settings.database_url
    if config_path:
        env[CONFIG_ENV] = os.path.abspath(config_path)
    process = subprocess.Popen([sys.executable, "-m", "newsticker.scheduling"], env=env)
    time.sleep(0.5)
    if process.poll() is not None:
        raise click.ClickException("the scheduler process stopped at once; see the log above")
    return process


def _add_feature_commands() -> None:
    # Feature packages define their commands at module level (import-subscribers,
    # draft-issue, send-issue, ...); imported here so the packages never import this one.
    from newsticker.delivery import commands as delivery_commands
    from newsticker.issues import commands as issue_commands
    from newsticker.items import commands as item_commands
    from subscribers import commands as subscriber_commands

    for module in (subscriber_commands, item_commands, issue_commands, delivery_commands):
        for command in module.COMMANDS:
            cli.add_command(command)


_add_feature_commands()


def main() -> int:
    """Run the command line."""
    try:
        cli.main(prog_name="newsticker", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
