"""Read the bounce mailbox, a Maildir or an IMAP folder, and act on each message once.

This is the job side of bounce handling (the scheduler's job and `newsticker
process-bounces` call it); subscribers.services.returns decides what a message means
and does it. Here we only fetch messages, hand each to `handle_message`, and move it
afterwards: read mail is marked read, a person's mail is moved out of the way but left
unread, and a message that cannot be read goes to the quarantine folder. Messages move
only after the commit (`after_commit`), so a crash can never lose one; the digests
`handle_message` keeps make a message that comes round again count once.

A long mailbox is committed in batches when the caller passes `commit` (the unit of
work's commit): the run's report and the moves so far are then safe, and the web pages
are never kept waiting for one long transaction.

The caller passes in the settings, the key ring and the suppression salts; nothing here
reads the Flask app.
"""

from subscribers.mailboxes.context import BATCH, RunContext, summary
from subscribers.mailboxes.errors import MailboxError
from subscribers.mailboxes.imap import process_imap
from subscribers.mailboxes.maildir import process_maildir

__all__ = ["BATCH", "MailboxError", "RunContext", "process_imap", "process_maildir", "summary"]
