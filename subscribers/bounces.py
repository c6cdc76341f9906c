"""Tell from a returned mail which recipient failed, and whether for good.

Classification, in this order:

1. An RFC 3464 delivery status report (multipart/report with a
   message/delivery-status part) is authoritative. The first recipient with
   Action "failed" decides; a report with only "delayed" (or "relayed",
   "delivered", "expanded") recipients is no bounce and gives None.
2. An auto-reply (out-of-office, vacation notice) gives None.
3. flufl.bounce's heuristics recognise the many non-standard formats of older
   servers. Its "temporary" findings are delay warnings and give None.
4. A message to a VERP address that matches none of the above is reported as
   a soft bounce, so it counts only if it repeats.

Status codes (RFC 3463): 4.x.x is soft. 5.x.x is hard, with two exceptions
that are soft: 5.7.x (policy: spam filters, blocklisted relays, DMARC) says
more about our relay or our content than about the address, and a blocklisted
relay must not wipe out the whole list in one send; 5.2.2 (mailbox full) is
transient by nature, whatever class the remote server gave it.
"""

import contextlib
import email
import email.policy
import logging
import re
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.iterators import typed_subpart_iterator
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

import flufl.bounce

from subscribers.models import BounceKind

__all__ = ["BounceKind", "BounceResult", "parse_bounce"]

logger = logging.getLogger(__name__)

_STATUS_RE = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")
# An enhanced status code after an SMTP reply code ("550 5.1.1", "550-5.1.1",
# "#550 5.1.1"); a bare x.y.z in prose is too often a version or an address.
_REPLY_STATUS_RE = re.compile(r"(?<!\d)([245])\d\d[ -]([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)")
_SOFT_HARD_STATUSES = ("5.7.", "5.2.2")
_STATUS_PARTS = ("message/delivery-status", "message/global-delivery-status")
_MAX_REASON = 1000

_AUTO_REPLY_SUBJECT = re.compile(
    r"out of (the )?office|abwesenheitsnotiz|automatische antwort|"
    r"automatic reply|auto[- ]?reply|autoantwort",
    re.IGNORECASE,
)

_STATUS_TEXTS = {
    "1.1": "Bad destination mailbox address",
    "1.2": "Bad destination system address",
    "1.10": "Recipient address has null MX",
    "2.1": "Mailbox disabled, not accepting messages",
    "2.2": "Mailbox full",
    "4.4": "Unable to route",
    "4.7": "Delivery time expired",
    "7.1": "Delivery not authorized, message refused",
}


@dataclass(frozen=True, slots=True)
class BounceResult:
    """The outcome of one bounce: who failed, how, and the server's words."""

    recipient: str | None
    verp_token: str | None
    kind: BounceKind
    status: str
    reason: str

    @property
    def is_policy(self) -> bool:
        """Return whether the receiver refused for policy, not for the address."""
        return self.status.startswith("5.7.")


@dataclass(frozen=True, slots=True)
class _Failure:
    recipient: str | None
    status: str
    reason: str


def parse_bounce(
    msg: Message | bytes,
    *,
    verp_prefix: str | None = None,
    verp_domain: str | None = None,
) -> BounceResult | None:
    """Return what a returned mail says about its recipient, or None if no bounce."""
    message = (
        email.message_from_bytes(msg, policy=email.policy.default)
        if isinstance(msg, bytes)
        else msg
    )
    token = _verp_token(message, verp_prefix, verp_domain) if verp_prefix else None

    blocks = _recipient_blocks(message)
    if blocks:
        failure = _failure_from_report(blocks)
        if failure is None:
            return None
        return _result(failure, token)
    if _is_auto_reply(message):
        return None
    failure = _failure_from_heuristics(message)
    if failure is not None:
        return _result(failure, token)
    if token is not None:
        return BounceResult(
            recipient=None,
            verp_token=token,
            kind=BounceKind.SOFT,
            status="",
            reason="Unrecognised message to the bounce address",
        )
    return None


def _result(failure: _Failure, token: str | None) -> BounceResult:
    return BounceResult(
        recipient=failure.recipient,
        verp_token=token,
        kind=_kind(failure.status),
        status=failure.status,
        reason=failure.reason,
    )


def _kind(status: str) -> BounceKind:
    if status.startswith("4.") or status.startswith(_SOFT_HARD_STATUSES):
        return BounceKind.SOFT
    # 5.x.x, or a failure the server gave no usable status for: RFC 3464's
    # Action "failed" and the heuristic detectors both mean "will not arrive".
    return BounceKind.HARD


def _header(message: Message, name: str) -> str:
    """Return a header as plain text, whichever email policy parsed it."""
    try:
        value = message.get(name)
    except Exception:  # a malformed header is no header
        return ""
    if value is None:
        return ""
    text = str(value)
    if "=?" in text:
        # compat32 messages keep RFC 2047 encoded words undecoded.
        with contextlib.suppress(LookupError, UnicodeError, ValueError):
            text = str(make_header(decode_header(text)))
    return " ".join(text.split())


def _header_values(message: Message, name: str) -> list[str]:
    try:
        values = message.get_all(name) or []
    except Exception:  # a malformed header is no header
        return []
    return [" ".join(str(value).split()) for value in values]


def _verp_token(message: Message, prefix: str, domain: str | None) -> str | None:
    # The MTA records the envelope recipient in Delivered-To or X-Original-To;
    # To is the last resort, as some relays rewrite it.
    # "bounces" and "bounces+" both mean bounces+TOKEN@domain.
    wanted_local = prefix.rstrip("+").casefold() + "+"
    for name in ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To"):
        for _display, address in getaddresses(_header_values(message, name)):
            local, at, address_domain = address.rpartition("@")
            if not at or not local.casefold().startswith(wanted_local):
                continue
            if domain is not None and address_domain.casefold() != domain.casefold():
                continue
            token = local[len(wanted_local) :]
            if token:
                return token
    return None


def _recipient_blocks(message: Message) -> list[Message]:
    blocks: list[Message] = []
    for content_type in _STATUS_PARTS:
        maintype, subtype = content_type.split("/")
        for part in typed_subpart_iterator(message, maintype, subtype):
            blocks.extend(
                block
                for block in _status_blocks(part)
                # The first block describes the whole message, not a recipient.
                if block.get("Final-Recipient") or block.get("Original-Recipient")
            )
    return blocks


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if not isinstance(payload, list):
        return _parse_blocks(part)
    blocks: list[Message] = []
    for item in payload:
        if not isinstance(item, Message):
            continue
        blocks.append(item)
        # message/global-delivery-status (RFC 6533) is parsed like an attached
        # mail: the first block becomes its headers, the rest its body.
        if not item.is_multipart():
            blocks.extend(_parse_blocks(item))
    return blocks


def _parse_blocks(part: Message) -> list[Message]:
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes) or not raw.strip():
        return []
    text = raw.decode("utf-8", "replace")
    parser = HeaderParser(policy=email.policy.compat32)
    return [
        parser.parsestr(chunk.strip() + "\n")
        for chunk in re.split(r"\r?\n[ \t]*\r?\n", text)
        if chunk.strip()
    ]


def _failure_from_report(blocks: list[Message]) -> _Failure | None:
    for block in blocks:
        action = _header(block, "Action").casefold()
        # "failed" per RFC 3464; OpenSMTPD has been seen to write "error".
        if not action.startswith(("failed", "error")):
            continue
        diagnostic = _typed_value(_header(block, "Diagnostic-Code"))
        status = _status(_header(block, "Status")) or _reply_status(diagnostic)
        recipient = _recipient(_header(block, "Original-Recipient")) or _recipient(
            _header(block, "Final-Recipient")
        )
        return _Failure(recipient, status, _reason(diagnostic, status))
    return None


def _typed_value(value: str) -> str:
    # DSN fields are "type; value", as in "rfc822; a@example.org" or
    # "smtp; 550 5.1.1 User unknown".
    _type, semicolon, rest = value.partition(";")
    return rest.strip() if semicolon else value.strip()


def _recipient(value: str) -> str | None:
    address_type, _semicolon, _rest = value.partition(";")
    address = _typed_value(value).strip("<> ")
    if address_type.strip().casefold() == "utf-8":
        # RFC 6533 writes non-ASCII characters as \x{HEX}.
        address = re.sub(r"\\x\{([0-9A-Fa-f]{1,6})\}", lambda m: chr(int(m.group(1), 16)), address)
    return address if "@" in address else None


def _status(value: str) -> str:
    match = _STATUS_RE.match(value.strip())
    return ".".join(match.groups()) if match else ""


def _reply_status(text: str) -> str:
    for match in _REPLY_STATUS_RE.finditer(text):
        reply_class, status = match.groups()
        # "550 4.2.2" is a contradiction; only a consistent pair is evidence.
        if status[0] == reply_class:
            return status
    return ""


def _reason(diagnostic: str, status: str) -> str:
    if diagnostic:
        return diagnostic[:_MAX_REASON]
    if status:
        return _STATUS_TEXTS.get(status.split(".", 1)[1], "")
    return ""


def _is_auto_reply(message: Message) -> bool:
    # Exchange marks its non-delivery reports "auto-replied" too.
    if message.get("X-MS-Exchange-Message-Is-Ndr") is not None:
        return False
    auto_submitted = _header(message, "Auto-Submitted").casefold()
    if auto_submitted.startswith("auto-replied"):
        return True
    if message.get("X-Autoreply") is not None or message.get("X-Autorespond"):
        return True
    if _header(message, "Precedence").casefold() == "auto_reply":
        return True
    return bool(_AUTO_REPLY_SUBJECT.search(_header(message, "Subject")))


def _failure_from_heuristics(message: Message) -> _Failure | None:
    try:
        _temporary, permanent = flufl.bounce.all_failures(message)
    except Exception:  # a heuristic must not stop bounce processing
        logger.warning("flufl.bounce failed on a message", exc_info=True)
        return None
    if not permanent:
        # flufl.bounce reports only delay warnings as temporary.
        return None
    recipient = sorted(permanent)[0].decode("ascii")
    line = _status_line(message)
    status = _reply_status(line)
    return _Failure(recipient, status, line or "Non-standard bounce report")


def _status_line(message: Message) -> str:
    for part in typed_subpart_iterator(message, "text", "plain"):
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            text = payload.decode(charset, "replace")
        except LookupError:
            text = payload.decode("utf-8", "replace")
        for line in text.splitlines():
            if _reply_status(line):
                return " ".join(line.split())[:_MAX_REASON]
    return ""
