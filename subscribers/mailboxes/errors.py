"""The one error a mailbox raises: it cannot be read at all (a single message never raises)."""


class MailboxError(Exception):
    """The mailbox cannot be read; the message says which and why."""
