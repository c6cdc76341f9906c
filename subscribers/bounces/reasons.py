"""Why a delivery failed, in words an editor understands, and which reasons mean a dead address.

The rule that gives a failed recipient its reason is in subscribers.bounces.judging; the
phrases it looks for are in subscribers.bounces.phrases.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from newsticker.core.i18n import lazy_gettext as _l


class Reason(StrEnum):
    """Why a delivery failed, in the words an editor understands."""

    USER_UNKNOWN = "user_unknown"
    HOST_UNKNOWN = "host_unknown"
    NO_MAIL_DOMAIN = "no_mail_domain"
    MOVED = "moved"
    MAILBOX_FULL = "mailbox_full"
    MAILBOX_DISABLED = "mailbox_disabled"
    TOO_BIG = "too_big"
    SPAM = "spam"
    BLOCKED = "blocked"
    POLICY = "policy"
    RATE_LIMIT = "rate_limit"
    EXPIRED = "expired"
    TEMPORARY = "temporary"
    NETWORK = "network"
    SYSTEM = "system"
    UNKNOWN = "unknown"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"


HARD_REASONS = frozenset(
    {Reason.USER_UNKNOWN, Reason.HOST_UNKNOWN, Reason.NO_MAIL_DOMAIN, Reason.MOVED}
)

REASON_LABELS: dict[str, Any] = {
    Reason.USER_UNKNOWN: _l("The mailbox does not exist."),
    Reason.HOST_UNKNOWN: _l("The domain of the address does not exist."),
    Reason.NO_MAIL_DOMAIN: _l("The domain of the address accepts no mail."),
    Reason.MOVED: _l("The person has moved to another address."),
    Reason.MAILBOX_FULL: _l("The mailbox is full."),
    Reason.MAILBOX_DISABLED: _l("The mailbox is disabled or suspended for now."),
    Reason.TOO_BIG: _l("The mail was too large for the mailbox."),
    Reason.SPAM: _l("The receiving server took the mail for spam or refused its content."),
    Reason.BLOCKED: _l(
        "The receiving server refused our mail server (block list, reputation, authentication)."
    ),
    Reason.POLICY: _l("The receiving server refused the mail for a rule of its own."),
    Reason.RATE_LIMIT: _l("The receiving server got too many mails at once."),
    Reason.EXPIRED: _l("The mail could not be delivered in time; the server gave up."),
    Reason.TEMPORARY: _l("A temporary failure; the server tries again."),
    Reason.NETWORK: _l("A network or DNS problem on the way."),
    Reason.SYSTEM: _l("The receiving mail system had an error."),
    Reason.UNKNOWN: _l("The report gives no reason."),
    Reason.COMPLAINT: _l("The person marked our mail as spam."),
    Reason.UNSUBSCRIBE: _l("The person asked to unsubscribe by e-mail."),
}
