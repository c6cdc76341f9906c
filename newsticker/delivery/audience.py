"""What delivery asks of the subscribers package: who receives an issue, their links, bounces.

One thin seam, so the sending engine never reads the subscribers' tables itself (and
tests can put a list of their own in its place).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.links import Links
from newsticker.core.tokens import KeyRing
from subscribers import services as subscriber_services

# RFC 3463 status in an SMTP reply ("550 5.1.1 ...").
_POLICY_STATUSES = ("5.7.", "5.2.2")


@dataclass(frozen=True)
class Listed:
    """One recipient as the subscribers package lists them."""

    subscriber_id: int
    address: str
    name: str
    language: str
    publication: str


def recipients(session: Session, publication_slugs: Sequence[str]) -> Iterator[Listed]:
    """Stream the confirmed, unblocked subscribers of the publications, each once."""
    for row in subscriber_services.recipient_rows(session, publication_slugs):
        yield Listed(row.subscriber_id, row.address, row.name, row.language, row.publication)


def still_receiving(
    session: Session, publication_slugs: Sequence[str], subscriber_ids: Iterable[int]
) -> set[int]:
    """Return those of the subscribers who still receive any of the publications now."""
    ids = list(subscriber_ids)
    if not ids:
        return set()
    return subscriber_services.receiving_subscriber_ids(session, publication_slugs, ids)


def link_prefixes(site_links: Links) -> subscriber_services.LinkPrefixes:
    """Return the URLs of the personal pages up to their token (once per send)."""
    return subscriber_services.LinkPrefixes.from_links(site_links)


def links(
    keyring: KeyRing,
    prefixes: subscriber_services.LinkPrefixes,
    subscriber_id: int,
    publication: str,
) -> dict[str, str]:
    """Return the unsubscribe and preferences URLs of one subscriber (two HMACs, no query)."""
    return subscriber_services.personal_links(keyring, prefixes, subscriber_id, publication)


def verp_token(keyring: KeyRing, subscriber_id: int) -> str:
    """Return the token of a subscriber's VERP return path."""
    return subscriber_services.verp_token(keyring, subscriber_id)


def reply_status(reply: str) -> str:
    """Return the enhanced status code (e.g. "5.1.1") of an SMTP reply, or ""."""
    match = re.search(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.])", reply)
    return match.group(1) if match else ""


def record_refusal(
    session: Session, subscriber_id: int, reply: str, *, now: datetime, settings: Settings
) -> None:
    """Count a 5xx reply as a bounce: hard, or soft for policy refusals (5.7.x, full mailbox).

    A relay on a blocklist refuses everyone with 5.7.x; that must not take the whole list
    off, so such refusals count as soft bounces (as the bounce processing does). The
    thresholds are those of [bounces].
    """
    status = reply_status(reply)
    policy = subscriber_services.BouncePolicy.from_settings(settings)
    if status.startswith(_POLICY_STATUSES):
        subscriber_services.record_soft_bounce(
            session, subscriber_id, reply, status=status, now=now, policy=policy
        )
    else:
        subscriber_services.record_hard_bounce(
            session, subscriber_id, reply, status=status, now=now, policy=policy
        )
