"""Judge one failed recipient: its reason, and whether that makes the address dead.

The rule, in the order it is applied (status codes per RFC 3463):

| evidence | reason | kind |
|---|---|---|
| status 4.x.x, or the report calls the failure temporary | from the text | soft |
| text: mailbox full, over quota (or status x.2.2) | mailbox_full | soft |
| text: message too large (or status x.2.3, x.3.4) | too_big | soft |
| text: mailbox disabled, suspended, inactive | mailbox_disabled | soft |
| text: spam, virus, content, filtered | spam | soft |
| text: block list, reputation, PTR, SPF/DKIM/DMARC, relaying, sender | blocked | soft |
| text: rate limit, too many messages or connections | rate_limit | soft |
| text: expired in the queue, retry timeout (or status x.4.7) | expired | soft |
| text: DNS failure that says "try again" | network | soft |
| status x.7.x, x.6.x (unless only the reporting MTA chose it) | policy, spam | soft |
| refused at MAIL FROM | blocked | soft |
| status x.1.6, or text "has moved" | moved | hard |
| status x.1.10, reply 521/556, text "does not accept mail", "null MX" | no_mail_domain | hard |
| status x.1.2, x.4.4, text "domain not found", "no mail exchanger" | host_unknown | hard |
| status x.1.1, x.1.0, x.1.3 (and vendors' x.1.y) | user_unknown | hard |
| text "user unknown" ... at RCPT TO, or in a mailbox system's own words | user_unknown | hard |
| text "user unknown" after DATA, or at no command we can see | spam (filtered) | soft |
| text: network, system, configuration errors | network, system | soft |
| a permanent failure with none of the above | unknown | soft |

Soft texts win over a hard status: servers answer "550 5.1.1" for a full mailbox or a
block list often enough, and a wrongly removed address costs more than one more soft
bounce of a dead one (soft bounces add up). A generic "user unknown" is believed only
when the server said it when asked about the address (RCPT TO): filtering gateways and
mobile carriers answer "user unknown" after DATA for mail a filter refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from subscribers.bounces import phrases
from subscribers.bounces.reasons import HARD_REASONS, Reason
from subscribers.models import BounceKind

# RFC 3463 subject.detail for the statuses that name a reason by themselves.
_STATUS_REASONS: dict[str, Reason] = {
    "1.1": Reason.USER_UNKNOWN,
    "1.2": Reason.HOST_UNKNOWN,
    "1.3": Reason.USER_UNKNOWN,  # bad destination mailbox address syntax
    "1.6": Reason.MOVED,
    "1.10": Reason.NO_MAIL_DOMAIN,
    "2.2": Reason.MAILBOX_FULL,
    "2.3": Reason.TOO_BIG,
    "2.4": Reason.SYSTEM,  # mailing list expansion problem
    "3.1": Reason.SYSTEM,
    "3.2": Reason.SYSTEM,
    "3.4": Reason.TOO_BIG,
    "4.1": Reason.NETWORK,
    "4.2": Reason.NETWORK,
    "4.3": Reason.NETWORK,
    "4.4": Reason.HOST_UNKNOWN,  # unable to route: no MX, no A
    "4.6": Reason.SYSTEM,  # routing loop
    "4.7": Reason.EXPIRED,
    "1.7": Reason.BLOCKED,  # the sender's address, not the recipient's
    "1.8": Reason.BLOCKED,
    "7.1": Reason.POLICY,
}
# Statuses too general to decide by themselves; the text decides, else the class.
_GENERIC_DETAILS = frozenset({"0.0", "2.0", "2.1", "3.0", "4.0", "5.0", "6.0", "7.0"})
# x.1.0 ("other address status") and vendors' own x.1.y say the address is the problem.
_ADDRESS_STATUS = re.compile(r"^1\.(?:0|[3-5]|9|1[1-9]|\d{3,})$")

_STATUS_RE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
# An enhanced status code after an SMTP reply code ("550 5.1.1", "550-5.1.1", "#550 5.1.1").
_REPLY_STATUS_RE = re.compile(r"(?<![\d.])([245])\d\d[ -]#?([245]\.\d{1,3}\.\d{1,3})(?![\d.])")
# A status code on its own, as qmail writes it: "(#5.4.4)", "#5.1.1", " 5.1.1 ".
_BARE_STATUS_RE = re.compile(r"(?:^|[\s(#\[])([45])\.(\d{1,3})\.(\d{1,3})(?![\d.]\d)")
_NOISE = re.compile(
    r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+|(?:https?|ftp)://\S+|\bwww\.\S+",
    re.IGNORECASE,
)
_REPLY_CODE_RE = re.compile(r"(?<![\d.])([45]\d\d)(?:[ -]|$)")


@dataclass(frozen=True, slots=True)
class Verdict:
    """One failed recipient's reason, kind and the status it was judged by."""

    reason: Reason
    kind: BounceKind
    status: str


def parse_status(value: str) -> str:
    """Return the first RFC 3463 status code in a value ("5.1.1"), or ""."""
    match = _STATUS_RE.search(value or "")
    return ".".join(match.groups()) if match else ""


def reply_status(text: str) -> str:
    """Return the status code an SMTP reply in the text carries ("550 5.1.1" gives 5.1.1)."""
    for match in _REPLY_STATUS_RE.finditer(text or ""):
        reply_class, status = match.groups()
        # "550 4.2.2" contradicts itself; only a consistent pair is evidence.
        if status[0] == reply_class:
            return status
    return ""


def reply_code(text: str) -> str:
    """Return the first SMTP reply code (4xx or 5xx) in a text, or ""."""
    match = _REPLY_CODE_RE.search(text or "")
    return match.group(1) if match else ""


def _first(table: phrases.Table, text: str) -> Reason | None:
    return next((reason for reason, pattern in table if pattern.search(text)), None)


def judge(
    status: str,
    text: str,
    *,
    temporary: bool = False,
    context: str = "",
    trusted: bool = False,
) -> Verdict:
    """Return why one recipient failed and whether that makes the address dead.

    `status` is the report's status code ("" when it has none), `text` the server's words
    about this recipient; `temporary` says the report itself calls the failure temporary
    (Action: delayed, a warning); `context` is the notice's lines around the recipient,
    read only for the SMTP command the server refused at; `trusted` says the notice
    comes from a system whose "user unknown" means just that (a McAfee gateway, a
    provider's "bad-mailbox" category, a carrier's reply naming the address).
    """
    text = " ".join((text or "").split())[:4000]
    # Addresses and links say nothing about the reason ("filtered@example.org", a help
    # page "…/spam-policy"), but their words would match.
    words = _NOISE.sub(" ", text)
    embedded = reply_status(words) or _bare_status(words)
    if not status or status.endswith(".0.0") or (embedded and embedded[0] == status[0]):
        # A specific status in the server's own reply beats the reporting MTA's summary.
        status = embedded or status
    code = reply_code(words)
    if not status and code:
        status = f"{code[0]}.0.0"
    detail = status.split(".", 1)[1] if status else ""
    by_status = _STATUS_REASONS.get(detail)
    if by_status is None and _ADDRESS_STATUS.match(detail):
        by_status = Reason.USER_UNKNOWN
    definite_reason = _first(phrases.DEFINITE_HARD, words)
    definite = definite_reason is not None
    soft_text = None if definite else _first(phrases.SOFT_TEXTS, words)
    hard_text = definite_reason or _first(phrases.HARD_TEXTS, words)
    late_text = _first(phrases.LATE_SOFT_TEXTS, words)
    if temporary or status.startswith("4."):
        reason = soft_text or by_status or hard_text or late_text or Reason.TEMPORARY
        return Verdict(_soft_reason(reason), BounceKind.SOFT, status)
    if soft_text is not None:
        return Verdict(soft_text, BounceKind.SOFT, status)
    # A 5.7.x the reporting MTA chose itself yields to the remote server's own words
    # ("553 Invalid recipient" reported as 5.7.1); one the remote server sent does not.
    words_decide = definite or (
        not embedded and hard_text is not None and detail.startswith(("6.", "7."))
    )
    if not words_decide and detail.startswith(("6.", "7.")):
        reason = Reason.SPAM if detail.startswith("6.") else by_status or Reason.POLICY
        return Verdict(reason, BounceKind.SOFT, status)
    if code in ("521", "556") and hard_text is None:
        hard_text = Reason.NO_MAIL_DOMAIN
    specific = by_status is not None and detail not in _GENERIC_DETAILS
    if not definite and _at_mail_from(words, context) and (hard_text or by_status in HARD_REASONS):
        # Refused at MAIL FROM: the server objects to us, before it heard of a recipient.
        return Verdict(Reason.BLOCKED, BounceKind.SOFT, status)
    if by_status is not None and specific and by_status not in HARD_REASONS and not words_decide:
        return Verdict(by_status, BounceKind.SOFT, status)
    if by_status is not None and specific and by_status in HARD_REASONS:
        # A hard text may name the reason more exactly (5.1.1 "has moved").
        return Verdict(hard_text or by_status, BounceKind.HARD, status)
    if hard_text is not None:
        believed = (trusted or _at_rcpt(words, context)) and not _after_data(words, context)
        if hard_text == Reason.USER_UNKNOWN and not definite and not believed:
            # A "user unknown" in answer to DATA, or to no command we can see, may be a
            # filter speaking (mobile carriers and filtering gateways answer so): believed
            # only when said in answer to RCPT TO, with an address status (x.1.y), or in
            # words the mailbox's own system uses for nothing else.
            return Verdict(Reason.SPAM, BounceKind.SOFT, status)
        return Verdict(hard_text, BounceKind.HARD, status)
    return Verdict(late_text or Reason.UNKNOWN, BounceKind.SOFT, status)


def _at_mail_from(words: str, context: str) -> bool:
    return _says(phrases.AT_MAIL_FROM, words, context)


def _at_rcpt(words: str, context: str) -> bool:
    return _says(phrases.AT_RCPT, words, context)


def _after_data(words: str, context: str) -> bool:
    return _says(phrases.AFTER_DATA, words, context)


def _says(pattern: re.Pattern[str], words: str, context: str) -> bool:
    return bool(pattern.search(words) or pattern.search(" ".join(context.split())))


def _bare_status(text: str) -> str:
    match = _BARE_STATUS_RE.search(text)
    return ".".join(match.groups()) if match else ""


def _soft_reason(reason: Reason) -> Reason:
    # A temporary failure never says the address is dead, whatever its words.
    return Reason.TEMPORARY if reason in HARD_REASONS else reason
