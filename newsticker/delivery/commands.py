"""The `newsticker` commands of delivery: send-issue, pause/resume/cancel-issue, worker.

The services are imported when a command runs: `newsticker --help` need not load the
sending engine, the renderer and the subscribers package.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import TYPE_CHECKING, Any

import click
from flask import Flask

if TYPE_CHECKING:
    from newsticker.delivery.services import Progress

from newsticker.core.commandline import pass_context, with_app
from newsticker.core.db import utcnow
from newsticker.core.errors import UserError
from newsticker.core.site import app_settings, site_links
from newsticker.delivery.models import SendState

# Exit codes of send-issue besides 0 (every recipient sent or finally failed).
EXIT_NOT_DONE = 1  # paused, cancelled or stopped: not every recipient was handled
EXIT_QUEUED = 3  # scheduled for later: the scheduler sends it then


@click.command("send-issue")
@click.argument("issue_id", type=int)
@click.option(
    "--now",
    "send_now",
    is_flag=True,
    help="Send a scheduled issue now, before its time (drafts are never sent).",
)
@pass_context
def send_issue_command(ctx: Any, issue_id: int, send_now: bool) -> None:
    """Send an issue here with a progress bar (or join workers already sending it).

    Exits 0 only when every recipient was sent or finally failed; 1 when the send is
    paused, cancelled or interrupted; 3 when the issue is scheduled for later and
    --now was not given (the scheduler sends it then).
    """
    app = ctx.app()
    code = _send_issue(app, issue_id, send_now)
    if code:
        raise SystemExit(code)


@click.command("pause-issue")
@click.argument("issue_id", type=int)
@click.option("--reason", default="paused from the command line", show_default=True)
@with_app
def pause_issue_command(app: Flask, session: Any, issue_id: int, reason: str) -> None:
    """Pause sending an issue: workers stop claiming; resume-issue goes on."""
    from newsticker.delivery import services

    if not services.pause_issue(session, issue_id, reason=reason, now=utcnow(), actor="cli"):
        raise click.ClickException(f"issue {issue_id} is not being sent, so it cannot pause")
    click.echo(f"Issue {issue_id} paused.")


@click.command("resume-issue")
@click.argument("issue_id", type=int)
@with_app
def resume_issue_command(app: Flask, session: Any, issue_id: int) -> None:
    """Resume a paused issue (run send-issue, or let the scheduler send the rest)."""
    from newsticker.delivery import services

    if not services.resume_issue(session, issue_id, now=utcnow(), actor="cli"):
        raise click.ClickException(f"issue {issue_id} is not paused")
    click.echo(f"Issue {issue_id} resumed; the scheduler sends the rest (or: send-issue).")


@click.command("cancel-issue")
@click.argument("issue_id", type=int)
@with_app
def cancel_issue_command(app: Flask, session: Any, issue_id: int) -> None:
    """Cancel an issue; once sending, recipients not yet reached get nothing."""
    from newsticker.delivery import services
    from newsticker.delivery.mails import EditorMails
    from newsticker.issues.models import Issue
    from newsticker.issues.services import cancel_issue

    now = utcnow()
    # The write first: it decides (and on SQLite takes the lock before any read).
    notify = EditorMails(site_links(app))
    if services.cancel_sending(session, issue_id, now=now, notify=notify, actor="cli"):
        report = services.get_report(session, issue_id)
        click.echo(
            f"Issue {issue_id} cancelled: sent {report.sent if report else 0}, "
            f"not sent {report.cancelled if report else 0}."
        )
        return
    issue = session.get(Issue, issue_id)
    if issue is None:
        raise click.ClickException(f"there is no issue {issue_id}")
    try:
        cancel_issue(session, issue, version=None, user_id=None, now=now)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Issue {issue_id} cancelled.")


@click.command("worker")
@click.option(
    "--connections",
    type=click.IntRange(1, 32),
    default=None,
    help="SMTP connections of this process (default: delivery.connections).",
)
@click.option(
    "--poll-seconds",
    type=click.FloatRange(0.1, 600),
    default=2.0,
    show_default=True,
    help="How long to wait before looking again when nothing is being sent.",
)
@pass_context
def worker_command(ctx: Any, connections: int | None, poll_seconds: float) -> None:
    """Send issues: join every issue being sent and drain it, until SIGTERM or Ctrl-C.

    Run one or more per host (under systemd); the scheduler starts the sends. On
    SIGTERM each connection finishes the message it is sending, records what went out
    and gives back the rest of its claimed batch, then the process exits with 0.
    """
    import logging

    from newsticker.delivery.sender import run_sender_worker

    app = ctx.app()
    settings = app_settings(app)
    stop = threading.Event()
    previous = _install_stop_handlers(stop)
    log = logging.getLogger("newsticker.worker")

    def on_drain(issue_id: int, run: Any) -> None:
        if run.sent or run.failed or run.retried:
            log.info(
                "issue %s: sent %s, to retry %s, failed %s",
                issue_id,
                run.sent,
                run.retried,
                run.failed,
            )

    click.echo(f"worker started (pid {os.getpid()}); stop with SIGTERM")
    try:
        total = run_sender_worker(
            app,
            settings,
            stop=stop,
            poll_seconds=poll_seconds,
            connections=connections,
            on_drain=on_drain,
        )
    finally:
        _restore_handlers(previous)
    click.echo(
        f"worker stopped: sent {total.sent}, failed {total.failed}, to retry {total.retried}, "
        f"skipped {total.skipped}"
    )


def _send_issue(app: Flask, issue_id: int, send_now: bool) -> int:
    from newsticker.delivery import services
    from newsticker.delivery.sender import IssueSender
    from newsticker.delivery.services import SendDecision

    settings = app_settings(app)
    sender = IssueSender(app, settings)
    now = utcnow()
    try:
        result = sender.in_transaction(
            lambda session: services.send_or_queue(
                session,
                issue_id,
                now=now,
                send_now=send_now,
                settings=settings,
                links=sender.links,
                actor="cli",
            )
        )
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    decision = result.decision
    if decision == SendDecision.MISSING:
        raise click.ClickException(f"there is no issue {issue_id}")
    if decision == SendDecision.DRAFT:
        raise click.ClickException(
            f"issue {issue_id} is a draft: an editor must schedule it first (a draft is never sent)"
        )
    if decision == SendDecision.UNSENDABLE:
        raise click.ClickException(f"issue {issue_id} is {result.status}; there is nothing to send")
    if decision == SendDecision.QUEUED:
        assert result.scheduled_at is not None
        when = result.scheduled_at.astimezone(settings.tz)
        click.echo(
            f"Issue {issue_id} is scheduled for {when:%Y-%m-%d %H:%M}; "
            "the scheduler sends it then. Use --now to send it now."
        )
        return EXIT_QUEUED
    if decision == SendDecision.PAUSED:
        reason = result.report.pause_reason if result.report else ""
        click.echo(
            f"Issue {issue_id} is paused ({reason}). Resume it first: resume-issue {issue_id}"
        )
        return EXIT_NOT_DONE
    if decision == SendDecision.STARTED and result.report is not None:
        click.echo(f"Issue {issue_id}: {result.report.recipients} recipients.")
    elif decision == SendDecision.JOINED:
        click.echo(f"Issue {issue_id} was started elsewhere; joining its workers.")
    return _drain_with_progress(sender, issue_id)


def _drain_with_progress(sender: Any, issue_id: int) -> int:
    stop = sender.stop
    previous = _install_stop_handlers(stop)
    try:
        first = sender.progress(issue_id)
        with click.progressbar(
            length=max(first.total, 1), label=f"Issue {issue_id}", show_pos=True
        ) as bar:
            shown = [first.done]
            bar.update(first.done)

            def on_progress(progress: Progress) -> None:
                bar.update(max(progress.done - shown[0], 0))
                shown[0] = max(shown[0], progress.done)

            run = sender.drain(issue_id, wait=True, on_progress=on_progress)
    finally:
        _restore_handlers(previous)
    final = sender.progress(issue_id)
    click.echo(
        f"sent {final.sent}, failed {final.failed}, skipped {final.skipped}, "
        f"cancelled {final.cancelled}, pending {final.pending} (of {final.total}); "
        f"by this process: sent {run.sent}, failed {run.failed}, to retry {run.retried}"
    )
    if run.state == SendState.FINISHED and final.pending == 0:
        return 0
    report = final.report
    if run.state == SendState.PAUSED:
        click.echo(f"Paused: {report.pause_reason if report else ''}")
    elif run.state == SendState.CANCELLED:
        click.echo("Cancelled.")
    else:
        click.echo("Stopped before every recipient was handled; run it again to go on.")
    return EXIT_NOT_DONE


def _install_stop_handlers(stop: threading.Event) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(_signum: int, _frame: Any) -> None:
        stop.set()

    previous: dict[int, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, handler)
    return previous


def _restore_handlers(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


COMMANDS = [
    send_issue_command,
    pause_issue_command,
    resume_issue_command,
    cancel_issue_command,
    worker_command,
]
