"""The delivery commands: send-issue with its exit codes, pause-, resume-, cancel-issue."""

from datetime import timedelta

import pytest

from newsticker.core.db import utcnow
from newsticker.core.site import site_links
from newsticker.delivery import services
from newsticker.issues.models import Issue, IssueStatus
from tests.conftest import CommandRunner, fresh_database
from tests.factories import (
    Relay,
    config_app,
    in_transaction,
    scheduled_issue,
    seed_subscribers,
    write_config,
)


@pytest.fixture
def relay():
    with Relay() as running:
        yield running


@pytest.fixture
def cli(tmp_path, relay):
    url = fresh_database(tmp_path)
    config = write_config(tmp_path, url, relay.port)
    runner = CommandRunner(config, url)
    runner.app = config_app(config)
    return runner


def seed(cli, count=5, **issue):
    in_transaction(cli.app, lambda s: seed_subscribers(s, count))
    return in_transaction(cli.app, lambda s: scheduled_issue(s, **issue).id)


def test_send_issue_sends_everyone_and_prints_the_counts(cli, relay):
    issue_id = seed(cli)
    relay.behaviour.refuse_rcpt = {"leser2@example.org": "550 5.1.1 unknown"}
    result = cli.invoke("send-issue", str(issue_id))
    assert result.exit_code == 0, result.output
    assert "sent 4, failed 1, skipped 0, cancelled 0, pending 0 (of 5)" in result.output
    assert len(relay.received) == 4
    again = cli.invoke("send-issue", str(issue_id))  # finished: nothing more to do
    assert again.exit_code == 0
    assert "sent 4, failed 1" in again.output and len(relay.received) == 4


def test_a_future_issue_is_only_queued_unless_now(cli, relay):
    issue_id = seed(cli, send_at=utcnow() + timedelta(days=1))
    result = cli.invoke("send-issue", str(issue_id))
    assert result.exit_code == 3
    assert "the scheduler sends it then" in result.output
    assert relay.received == []
    result = cli.invoke("send-issue", str(issue_id), "--now")
    assert result.exit_code == 0, result.output
    assert len(relay.received) == 5


def test_drafts_and_unknown_issues_are_refused(cli, relay):
    issue_id = seed(cli)

    def to_draft(session):
        session.get(Issue, issue_id).status = IssueStatus.DRAFT.value

    in_transaction(cli.app, to_draft)
    result = cli.invoke("send-issue", str(issue_id), "--now")
    assert result.exit_code != 0 and "is a draft" in result.output
    assert cli.invoke("send-issue", "999").exit_code != 0
    assert relay.received == []


def test_pause_resume_and_cancel_from_the_command_line(cli, relay):
    issue_id = seed(cli, count=3)
    settings = cli.app.config["NEWSTICKER_SETTINGS"]
    in_transaction(
        cli.app,
        lambda s: services.start_issue(
            s, issue_id, now=utcnow(), settings=settings, links=site_links(cli.app)
        ),
    )
    assert cli.invoke("pause-issue", str(issue_id)).exit_code == 0
    paused = cli.invoke("send-issue", str(issue_id))
    assert paused.exit_code == 1 and "resume-issue" in paused.output
    assert cli.invoke("pause-issue", str(issue_id)).exit_code != 0  # already paused
    assert cli.invoke("resume-issue", str(issue_id)).exit_code == 0
    result = cli.invoke("cancel-issue", str(issue_id))
    assert result.exit_code == 0, result.output
    assert "not sent 3" in result.output
    assert relay.received == []  # no editors here, so not even a report
    state = in_transaction(cli.app, lambda s: services.get_report(s, issue_id).state)
    assert state == "cancelled"
