"""Unsubscribe requests by mail: the mailto of List-Unsubscribe (RFC 2369).

Our List-Unsubscribe header offers `mailto:ADDRESS?subject=unsubscribe%20SLUG`; mail
programs send that mail on the person's behalf (Apple Mail marks it X-Apple-Unsubscribe).
A mail is a request when it is addressed to the configured unsubscribe address, or says
"unsubscribe" in its subject, or carries Apple's header. The person is the From address,
checked like any typed address. When the receiving server recorded a failed DMARC check
(Authentication-Results, the topmost one, which our own server wrote), the From address
may be forged, and the request is not honoured.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

from subscribers.bounces.notices import valid_address
from subscribers.bounces.parsing import header, headers

_SUBJECT = re.compile(
    r"^\s*(?:unsubscribe|abmelden|abbestellen|austragen|se d[ée]sabonner|d[ée]sinscription|"
    r"darse de baja|cancella iscrizione|uitschrijven)\b[\s:]*(?P<word>[a-z0-9-]{0,40})",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class UnsubscribeRequest:
    """Who asks to be taken off, from which list ("" when the mail names none)."""

    address: str
    list_word: str
    authenticated: bool


def unsubscribe_request(message: Message, unsubscribe_address: str) -> UnsubscribeRequest | None:
    """Return the request a mail makes, or None when it is no unsubscribe mail."""
    subject = header(message, "Subject")
    match = _SUBJECT.match(subject)
    to_us = bool(unsubscribe_address) and _addressed_to(message, unsubscribe_address)
    apple = header(message, "X-Apple-Unsubscribe").casefold() == "true"
    if not (to_us or apple or match):
        return None
    senders = getaddresses(headers(message, "From"))
    if len(senders) != 1:
        return None
    address = valid_address(senders[0][1])
    if address is None:
        return None
    word = match.group("word").casefold() if match else ""
    return UnsubscribeRequest(address, word, not _dmarc_failed(message))


def _addressed_to(message: Message, wanted: str) -> bool:
    wanted_local, _at, wanted_domain = wanted.casefold().rpartition("@")
    names = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")
    for name in names:
        for _display, address in getaddresses(headers(message, name)):
            local, at, domain = address.casefold().rpartition("@")
            # "abmelden+ticker@" is "abmelden@" with a tag (subaddressing).
            if at and domain == wanted_domain and local.split("+", 1)[0] == wanted_local:
                return True
    return False


def _dmarc_failed(message: Message) -> bool:
    results = headers(message, "Authentication-Results")
    return bool(results) and re.search(r"\bdmarc=fail\b", results[0], re.IGNORECASE) is not None
