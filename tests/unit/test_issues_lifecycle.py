"""The issue's transition table: every (status, action) either moves as the table says or is
refused with the message the services gave before the table existed, changing nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from newsticker.issues.models import Issue, IssueStatus
from newsticker.issues.services import (
    REFUSALS,
    TRANSITIONS,
    IssueAction,
    IssueError,
    allows,
    require,
    transition,
)

# What each service said when it refused, written out by hand before the table.
MESSAGES = {
    IssueAction.SCHEDULE: (
        "This issue is no longer a draft, so it cannot be changed. Take it back to draft first."
    ),
    IssueAction.UNSCHEDULE: "Only a scheduled issue can be taken back to draft.",
    IssueAction.CANCEL: "Only a draft or a scheduled issue can be cancelled.",
    IssueAction.RESTORE: "Only a cancelled issue can be restored.",
    IssueAction.START_SENDING: "Only a scheduled issue can be sent.",
    IssueAction.MARK_SENT: "Only an issue that is being sent can be marked as sent.",
    IssueAction.STOP_SENDING: "This send cannot be cancelled any more.",
}


@pytest.mark.parametrize("status", list(IssueStatus))
@pytest.mark.parametrize("action", list(IssueAction))
def test_each_action_moves_as_the_table_says_or_is_refused(status, action):
    issue = Issue(status=status)
    target = TRANSITIONS.get((status, action))
    assert allows(issue, action) is (target is not None)
    if target is None:
        with pytest.raises(IssueError) as refused:
            transition(issue, action)
        assert str(refused.value) == MESSAGES[action]
        assert issue.status == status
    else:
        assert require(issue, action) == target
        assert issue.status == status  # require only checks
        assert transition(issue, action) == target
        assert issue.status == target


def test_every_action_has_its_refusal():
    assert set(REFUSALS) == set(IssueAction)


def test_the_way_of_an_issue():
    # Sent is final; a cancelled issue can only come back as a draft.
    assert not [action for action in IssueAction if (IssueStatus.SENT, action) in TRANSITIONS]
    assert [a for (s, a) in TRANSITIONS if s == IssueStatus.CANCELLED] == [IssueAction.RESTORE]
    # A draft is never sent without being scheduled first.
    assert (IssueStatus.DRAFT, IssueAction.START_SENDING) not in TRANSITIONS


def test_a_status_read_back_as_plain_text_moves_too():
    issue = Issue(status="scheduled")
    assert transition(issue, IssueAction.UNSCHEDULE) == IssueStatus.DRAFT


def test_delivery_services_do_not_import_the_mails():
    # The cycle delivery.mails <-> delivery.services is gone: services tell a Notifier.
    code = (
        "import sys, newsticker.delivery.services; "
        "sys.exit('newsticker.delivery.mails' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
