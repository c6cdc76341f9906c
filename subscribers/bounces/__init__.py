"""Classify returned mail: what a message in the bounce mailbox says, and about whom.

Every message gets one kind, decided in this order (the first that applies wins):

| # | the message | kind | about each address |
|---|---|---|---|
| 0 | empty, binary, bad header bytes, nested too deep, too large | poison | quarantined |
| 1 | RFC 5965 feedback report, Outlook.com JMRP (not auth-failure) | complaint | complained |
| 2 | Amazon SES / SNS notification (JSON) | bounce, complaint, delivered | as its fields say |
| 3 | RFC 3464 report with an Action: failed block | bounce | each failed block judged |
| 3 | ... with delayed blocks only | delay | nothing |
| 3 | ... with delivered, relayed, expanded blocks only | delivered | nothing |
| 4 | to the unsubscribe address, "unsubscribe [list]", Apple's | unsubscribe | From leaves |
| 5 | auto-replied, X-Autoreply, vacation subject, challenge | auto-reply | nothing |
| 6 | failure notice (robot sender, <> path, subject) saying "delayed" | delay | nothing |
| 6 | failure notice | bounce | each failed address judged |
| 7 | a cut-off MIME structure, and none of the above | poison | quarantined |
| 8 | anything else (a person's mail) | other | nothing; left unread |

Step 5 is never asked of a report or a failure notice: mail servers put Auto-Submitted
on their bounces. "Judged" is `judging.judge`, whose table decides hard or soft. With a
VERP return path the token names the subscriber (a forward's address in the report does
not); the report's words still decide the kind. An address is only taken from a message
after `newsticker.core.addresses` accepted it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses
from enum import StrEnum

from subscribers.bounces import autoreply, dsn, feedback, notices, requests
from subscribers.bounces.judging import Verdict, judge, parse_status
from subscribers.bounces.parsing import PoisonMessage, headers, is_damaged, read_message
from subscribers.bounces.reasons import REASON_LABELS, Reason
from subscribers.models import BounceKind

__all__ = [
    "REASON_LABELS",
    "BounceKind",
    "Classification",
    "Finding",
    "MessageKind",
    "PoisonMessage",
    "Reason",
    "Verp",
    "classify",
]

logger = logging.getLogger(__name__)

_MAX_DIAGNOSTIC = 1000


class MessageKind(StrEnum):
    """What a message in the bounce mailbox is."""

    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    DELAY = "delay"
    DELIVERED = "delivered"
    AUTO_REPLY = "auto_reply"
    UNSUBSCRIBE = "unsubscribe"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Finding:
    """What a message says about one address."""

    address: str | None
    kind: BounceKind
    reason: Reason
    status: str = ""
    diagnostic: str = ""


@dataclass(frozen=True, slots=True)
class Verp:
    """The VERP return path: "bounces+TOKEN@example.org" is prefix "bounces"."""

    prefix: str
    domain: str | None = None

    @classmethod
    def from_return_path(cls, return_path: str) -> Verp | None:
        """Return the VERP parts of a return path like "bounces+{token}@example.org"."""
        local, at, domain = return_path.strip().partition("@")
        if not at or "+" not in local:
            return None
        return cls(local.split("+", 1)[0], domain or None)


@dataclass(frozen=True, slots=True)
class Classification:
    """One message's kind and what it says about whom."""

    kind: MessageKind
    findings: tuple[Finding, ...] = ()
    verp_token: str | None = None
    list_word: str = ""  # unsubscribe: the list the subject names
    authenticated: bool = True  # unsubscribe: no failed DMARC check on the way
    note: str = ""


def classify(
    raw: bytes | Message,
    *,
    verp: Verp | None = None,
    unsubscribe_address: str = "",
) -> Classification:
    """Return what one message from the bounce mailbox is; raise PoisonMessage if unreadable."""
    message = read_message(raw) if isinstance(raw, bytes) else raw
    token = _verp_token(message, verp) if verp else None
    result = _classify(message, token, verp, unsubscribe_address)
    if result.kind == MessageKind.OTHER and is_damaged(message):
        raise PoisonMessage("truncated or broken MIME structure with nothing readable in it")
    return result


def _classify(
    message: Message, token: str | None, verp: Verp | None, unsubscribe_address: str
) -> Classification:
    complaint = feedback.feedback_report(message)
    if complaint is not None:
        if not feedback.is_complaint(complaint):
            return Classification(MessageKind.OTHER, note=f"feedback {complaint.feedback_type}")
        token = token or _original_token(complaint.original, verp)
        addresses = _valid(complaint.addresses) or _original_to(complaint.original)
        findings = tuple(Finding(a, BounceKind.COMPLAINT, Reason.COMPLAINT) for a in addresses)
        if not findings and token:
            findings = (Finding(None, BounceKind.COMPLAINT, Reason.COMPLAINT),)
        return Classification(
            MessageKind.COMPLAINT, findings, token, note=f"feedback {complaint.feedback_type}"
        )
    provider = feedback.provider_events(message)
    if provider is not None:
        return _provider(provider, token)
    blocks = dsn.recipient_blocks(message)
    if blocks:
        return _report(message, blocks, token)
    request = requests.unsubscribe_request(message, unsubscribe_address)
    if request is not None:
        return Classification(
            MessageKind.UNSUBSCRIBE,
            (Finding(request.address, BounceKind.SOFT, Reason.UNSUBSCRIBE),),
            token,
            list_word=request.list_word,
            authenticated=request.authenticated,
        )
    failure_notice = notices.is_failure_notice(message)
    if not failure_notice and autoreply.is_auto_reply(message):
        return Classification(MessageKind.AUTO_REPLY, verp_token=token)
    if failure_notice:
        return _notice(message, token)
    return Classification(MessageKind.OTHER, verp_token=token)


def _provider(events: list[feedback.ProviderEvent], token: str | None) -> Classification:
    findings: list[Finding] = []
    kinds: set[str] = set()
    for event in events:
        address = notices.valid_address(event.address)
        if address is None:
            continue
        kinds.add(event.kind)
        if event.kind == "complaint":
            findings.append(Finding(address, BounceKind.COMPLAINT, Reason.COMPLAINT))
        elif event.kind == "bounce":
            verdict = judge(
                parse_status(event.status),
                f"{event.diagnostic} {event.sub_type}",
                temporary=not event.permanent,
            )
            findings.append(
                Finding(
                    address,
                    verdict.kind,
                    verdict.reason,
                    verdict.status,
                    event.diagnostic[:_MAX_DIAGNOSTIC],
                )
            )
    if "complaint" in kinds:
        complaints = tuple(f for f in findings if f.kind == BounceKind.COMPLAINT)
        return Classification(MessageKind.COMPLAINT, complaints, token, note="provider")
    if "bounce" in kinds:
        return Classification(MessageKind.BOUNCE, tuple(findings), token, note="provider")
    if "delivery" in kinds:
        return Classification(MessageKind.DELIVERED, verp_token=token, note="provider")
    return Classification(MessageKind.OTHER, verp_token=token, note="provider")


def _report(
    message: Message, blocks: list[dsn.RecipientBlock], token: str | None
) -> Classification:
    findings: list[Finding] = []
    delayed = delivered = False
    text: str | None = None
    failures = sum(1 for b in blocks if b.action.startswith(("failed", "error")))
    for block in blocks:
        action = block.action
        if action.startswith("delayed"):
            delayed = True
            continue
        if action.startswith(("delivered", "relayed", "expanded")):
            delivered = True
            continue
        # "failed" per RFC 3464; OpenSMTPD writes "error"; a block without an Action but
        # with a 5.x.x status is a failure too.
        failed = action.startswith(("failed", "error")) or (
            not action and parse_status(block.status).startswith("5.")
        )
        if not failed:
            continue
        if text is None:
            text = notices.notice_text(message)
        # The human-readable part around the address says at which SMTP command the
        # server refused, and what it said when the report's fields do not.
        levels = notices.evidence(text, block.address) if block.address else ["", ""]
        status = parse_status(block.status)
        # With one failed recipient the whole notice is about it (a Sendmail transcript
        # names the command on a line of its own).
        context = text if failures == 1 else levels[-1]
        trusted = block.category == "bad-mailbox" or _trusted(
            message, block.address, block.diagnostic
        )
        verdict = judge(status, block.diagnostic, context=context, trusted=trusted)
        if verdict.reason == Reason.UNKNOWN:
            verdict = _judge_levels(status, levels, fallback=verdict, trusted=trusted)
        address = notices.valid_address(block.address) if block.address else None
        findings.append(
            Finding(
                address,
                verdict.kind,
                verdict.reason,
                verdict.status,
                (block.diagnostic or levels[0] or block.status)[:_MAX_DIAGNOSTIC],
            )
        )
    if findings:
        return Classification(MessageKind.BOUNCE, tuple(findings), token)
    if delayed:
        return Classification(MessageKind.DELAY, verp_token=token)
    if delivered:
        return Classification(MessageKind.DELIVERED, verp_token=token)
    return _notice(message, token)


def _judge_levels(
    status: str, levels: Sequence[str], *, fallback: Verdict, trusted: bool = False
) -> Verdict:
    """Judge the closest text that gives a reason; the fallback when none does."""
    for text in levels:
        if not text.strip():
            continue
        verdict = judge(status, text, context=levels[-1], trusted=trusted)
        if verdict.reason != Reason.UNKNOWN:
            return verdict
    return fallback


def _notice(message: Message, token: str | None) -> Classification:
    text = notices.notice_text(message)
    if notices.is_delay_warning(message, text):
        return Classification(MessageKind.DELAY, verp_token=token)
    recipients = notices.failed_recipients(message, text)
    if not recipients:
        fallback = notices.original_recipients(message)
        recipients = [notices.NoticeRecipient(a, ("", "")) for a in fallback[:1]]
    findings = []
    for recipient in recipients:
        trusted = _trusted(message, recipient.address, recipient.levels[0])
        whole = judge("", text, trusted=trusted)
        verdict = _judge_levels("", recipient.levels, fallback=whole, trusted=trusted)
        findings.append(
            Finding(
                recipient.address,
                verdict.kind,
                verdict.reason,
                verdict.status,
                _diagnostic(recipient.levels[0] or text),
            )
        )
    if not findings and token:
        whole = judge("", text)
        findings.append(Finding(None, whole.kind, whole.reason, whole.status, _diagnostic(text)))
    if not findings:
        return Classification(MessageKind.OTHER, verp_token=token, note="notice without address")
    return Classification(MessageKind.BOUNCE, tuple(findings), token)


# Mobile carriers that answer "user unknown" after DATA for mail their users' filters
# refuse: there the reply names no address; in answer to RCPT TO it names the one refused.
_CARRIERS_NAMING_AT_RCPT = ("ezweb.ne.jp", "au.com")


def _trusted(message: Message, address: str | None, text: str) -> bool:
    """Return whether a "user unknown" here means a missing mailbox whatever the command."""
    if headers(message, "X-NAI-Header"):
        # McAfee's gateway answers for the mail system behind it, not for a filter.
        return True
    if address:
        domain = address.rpartition("@")[2].casefold()
        if domain.endswith(_CARRIERS_NAMING_AT_RCPT):
            return address.casefold() in text.casefold()
    return False


def _diagnostic(text: str) -> str:
    return " ".join(text.split())[:_MAX_DIAGNOSTIC]


def _valid(addresses: tuple[str, ...]) -> list[str]:
    found = [notices.valid_address(a) for a in addresses]
    return list(dict.fromkeys(a for a in found if a))


def _original_to(original: Message | None) -> list[str]:
    if original is None:
        return []
    return _valid(tuple(a for _n, a in getaddresses(headers(original, "To"))))


def _original_token(original: Message | None, verp: Verp | None) -> str | None:
    if original is None or verp is None:
        return None
    return _token_in(original, verp, ("Return-Path", "X-Original-Return-Path"))


def _verp_token(message: Message, verp: Verp) -> str | None:
    # The MTA records the envelope recipient in Delivered-To or X-Original-To; To is the
    # last resort, as some relays rewrite it.
    names = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
    return _token_in(message, verp, names)


def _token_in(message: Message, verp: Verp, names: tuple[str, ...]) -> str | None:
    wanted_local = verp.prefix.rstrip("+").casefold() + "+"
    for name in names:
        for _display, address in getaddresses(headers(message, name)):
            local, at, address_domain = address.rpartition("@")
            if not at or not local.casefold().startswith(wanted_local):
                continue
            if verp.domain is not None and address_domain.casefold() != verp.domain.casefold():
                continue
            token = local[len(wanted_local) :]
            if token:
                return token
    return None
