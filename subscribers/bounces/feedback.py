"""Spam complaints and provider notifications: RFC 5965 feedback reports, Microsoft's
JMRP, and the JSON that Amazon SES (directly or through SNS) sends about bounces,
complaints and deliveries.

A feedback report names the complaining recipient in Original-Rcpt-To when the provider
does not redact it; otherwise the attached original message does: its To header, or our
VERP return path in its Return-Path. A DMARC or SPF failure report (Feedback-Type
auth-failure, RFC 6591) and a "not-spam" report are no complaints: nobody asked to be
taken off the list. Anything in a provider's JSON that is not an address (a hash, a
redacted value, a nested object) is dropped here, never passed on as one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from typing import Any

from subscribers.bounces.parsing import header, part_text, raw_text, walk

NOT_COMPLAINTS = frozenset({"auth-failure", "not-spam", "dkim", "spf"})
_JSON_START = re.compile(r"\{\s*\"")
_MAX_JSON = 200_000


@dataclass(frozen=True, slots=True)
class Complaint:
    """A feedback report: who complained (if it says) and the attached original's headers."""

    addresses: tuple[str, ...]
    feedback_type: str
    original: Message | None


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """One recipient of a provider's JSON notification."""

    kind: str  # "bounce", "complaint", "delivery"
    address: str
    permanent: bool
    status: str
    diagnostic: str
    sub_type: str


def feedback_report(message: Message) -> Complaint | None:
    """Return the complaint of an RFC 5965 report or a Microsoft JMRP mail, else None."""
    for part in walk(message):
        if part.get_content_type() != "message/feedback-report":
            continue
        fields = _fields(part)
        feedback_type = header(fields, "Feedback-Type").casefold()
        addresses = [*_values(fields, "Original-Rcpt-To"), *_values(fields, "Removal-Recipient")]
        return Complaint(tuple(addresses), feedback_type or "abuse", original_headers(message))
    original = original_headers(message)
    if original is not None:
        # Outlook.com's JMRP forwards the complained-about mail with this header in it.
        reported = _values(original, "X-HmXmrOriginalRecipient")
        if reported:
            return Complaint(tuple(reported), "abuse", original)
    return None


def is_complaint(complaint: Complaint) -> bool:
    """Return whether a report asks for the address to come off the list."""
    return complaint.feedback_type not in NOT_COMPLAINTS


def _fields(part: Message) -> Message:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        # Parsed like an attached mail: one header block (sometimes more, as a body).
        first = payload[0]
        extra = raw_text(first)
        if extra.strip():
            merged = HeaderParser(policy=compat32).parsestr(_as_header_text(first) + extra)
            return merged
        return first
    return HeaderParser(policy=compat32).parsestr(part_text(part) or raw_text(part))


def _as_header_text(block: Message) -> str:
    return "".join(f"{name}: {value}\n" for name, value in block.items())


def _values(block: Message, name: str) -> list[str]:
    try:
        values = block.get_all(name) or []
    except Exception:
        return []
    return [" ".join(str(v).split()).strip("<> ") for v in values if str(v).strip()]


def original_headers(message: Message) -> Message | None:
    """Return the headers of the mail a report returns (message/rfc822 or rfc822-headers)."""
    for part in walk(message):
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        elif content_type == "text/rfc822-headers":
            return HeaderParser(policy=compat32).parsestr(part_text(part) or raw_text(part))
    return None


def provider_events(message: Message) -> list[ProviderEvent] | None:
    """Return the recipients of an Amazon SES notification, or None if this is none."""
    for part in walk(message):
        if part.is_multipart() or part.get_content_maintype() not in ("text", "application"):
            continue
        text = part_text(part)
        match = _JSON_START.search(text)
        if match is None or len(text) > _MAX_JSON:
            continue
        data = _load(text[match.start() :])
        if isinstance(data, dict) and isinstance(data.get("Message"), str):
            data = _load(data["Message"])  # SNS wraps the notification as a string
        if isinstance(data, dict) and (data.get("notificationType") or data.get("eventType")):
            return _ses_events(data)
    return None


def _load(text: str) -> Any:
    decoder = json.JSONDecoder()
    try:
        data, _end = decoder.raw_decode(text.strip())
    except (ValueError, RecursionError):
        # Mail clients break long lines; a notification split by them is rejoined once.
        try:
            data, _end = decoder.raw_decode(re.sub(r"!?\r?\n ?", "", text.strip()))
        except (ValueError, RecursionError):
            return None
    return data


def _ses_events(data: dict[str, Any]) -> list[ProviderEvent]:
    kind = str(data.get("notificationType") or data.get("eventType") or "").casefold()
    events: list[ProviderEvent] = []
    if kind == "bounce":
        bounce = _section(data, "bounce")
        permanent = str(bounce.get("bounceType", "")).casefold() == "permanent"
        sub_type = str(bounce.get("bounceSubType", ""))
        for item in _items(bounce.get("bouncedRecipients")):
            events.append(
                ProviderEvent(
                    "bounce",
                    _text(item.get("emailAddress")),
                    permanent,
                    _text(item.get("status")),
                    _text(item.get("diagnosticCode")),
                    sub_type,
                )
            )
    elif kind == "complaint":
        complaint = _section(data, "complaint")
        feedback_type = _text(complaint.get("complaintFeedbackType"))
        for item in _items(complaint.get("complainedRecipients")):
            events.append(
                ProviderEvent(
                    "complaint", _text(item.get("emailAddress")), True, "", "", feedback_type
                )
            )
    elif kind == "delivery":
        delivery = _section(data, "delivery")
        recipients = delivery.get("recipients")
        for address in recipients if isinstance(recipients, list) else []:
            events.append(ProviderEvent("delivery", _text(address), False, "2.0.0", "", ""))
    return [e for e in events if e.address]


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str:
    # Only strings are taken: a number, a list or an object in a provider's JSON is no
    # address and no status.
    return value.strip()[:1000] if isinstance(value, str) else ""
