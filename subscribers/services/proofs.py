"""The proof of each double opt-in: the confirmation mail as sent, and who used its link.

Kept, for each confirmation mail: the raw message, the language the consent text was
shown in and its version, the form and the IP address of the request, and (once the link
is used) the time and IP address of the confirmation. The raw message is taken when the
mail is queued, in the same transaction as the consent log line: a consent can never
exist without its proof. It is byte for byte what the sender hands to the relay, at any
attempt (core.mail builds a queued mail with its queueing time as Date and a boundary
derived from its content).

The proof outlives the mail queue (retention.mail_queue_days): it is kept while any
subscription it proves is confirmed, and `retention.consent_proof_years` after the last
of them ended. A proof whose link was never used is deleted with the unconfirmed sign-up;
erasure deletes every proof with the person.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Select, and_, delete, or_, select
from sqlalchemy.orm import Session

from newsticker.core.mailqueue import QueuedMail, raw_message
from subscribers.models import (
    Confirmation,
    ConsentProof,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)

DAYS_PER_YEAR = 365.25


def keep_proof(
    session: Session,
    subscriber: Subscriber,
    confirmation: Confirmation,
    mail: QueuedMail,
    *,
    consent_language: str,
    consent_text_version: str,
    channel: str,
    form_url: str,
    ip: str | None,
    now: datetime,
) -> ConsentProof:
    """Keep the confirmation mail just queued as the proof of this request."""
    proof = ConsentProof(
        subscriber_id=subscriber.id,
        confirmation_id=confirmation.id,
        publications=list(confirmation.publications),
        address=mail.to_addr,
        consent_text_version=consent_text_version[:40],
        consent_language=consent_language[:5],
        channel=channel[:20],
        form_url=form_url[:500],
        requested_at=now,
        requested_ip=ip,
        message_id=mail.message_id,
        mail_queued_at=mail.created_at,
        raw_message=raw_message(mail),
    )
    session.add(proof)
    session.flush()
    return proof


def confirm_proof(
    session: Session, confirmation: Confirmation, *, ip: str | None, now: datetime
) -> None:
    """Note on the proof of a confirmation mail that its link was used, when and from where."""
    proof = session.scalars(
        select(ConsentProof).where(ConsentProof.confirmation_id == confirmation.id)
    ).first()
    if proof is not None and proof.confirmed_at is None:
        proof.confirmed_at = now
        proof.confirmed_ip = ip
        session.flush()


def proof_language(session: Session, confirmation: Confirmation) -> str:
    """Return the language the consent text of a confirmation's request was shown in."""
    proof = session.scalars(
        select(ConsentProof).where(ConsentProof.confirmation_id == confirmation.id)
    ).first()
    return proof.consent_language if proof is not None else ""


def consent_proofs(session: Session, subscriber: Subscriber) -> list[ConsentProof]:
    """Return a subscriber's proofs, newest first."""
    return list(
        session.scalars(
            select(ConsentProof)
            .where(ConsentProof.subscriber_id == subscriber.id)
            .order_by(ConsentProof.requested_at.desc(), ConsentProof.id.desc())
        )
    )


def get_proof(session: Session, subscriber: Subscriber, proof_id: int) -> ConsentProof | None:
    """Return one proof of this subscriber, or None."""
    proof = session.get(ConsentProof, proof_id)
    return proof if proof is not None and proof.subscriber_id == subscriber.id else None


@dataclass(frozen=True)
class ProofMail:
    """The confirmation mail of a proof, read for people: its headers and its text."""

    headers: list[tuple[str, str]]
    text: str
    sha256: str
    size: int


_SHOWN_HEADERS = ("From", "To", "Reply-To", "Subject", "Date", "Message-ID")


def read_proof_mail(proof: ConsentProof) -> ProofMail:
    """Return the headers and text part of a proof's confirmation mail."""
    raw = bytes(proof.raw_message)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    shown = [(name, str(message[name])) for name in _SHOWN_HEADERS if message[name] is not None]
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return ProofMail(shown, str(text), hashlib.sha256(raw).hexdigest(), len(raw))


def proof_ended_at(session: Session, proof: ConsentProof) -> datetime | None:
    """Return when the consent a proof proves ended, or None while it lasts (or never began)."""
    if proof.confirmed_at is None:
        return None
    subscriptions = session.scalars(
        select(Subscription).where(
            Subscription.subscriber_id == proof.subscriber_id,
            Subscription.publication.in_(proof.publications or [""]),
        )
    ).all()
    if any(s.status == SubscriptionStatus.CONFIRMED for s in subscriptions):
        return None
    ends = [s.unsubscribed_at or s.bounced_at or s.updated_at for s in subscriptions]
    # No subscription left at all (an old purge): the proof's own time is all we know.
    return max([e for e in ends if e is not None], default=proof.confirmed_at)


def purge_consent_proofs(session: Session, *, now: datetime, years: int) -> int:
    """Delete the proofs of consents that ended more than `years` ago; return how many."""
    cutoff = now - timedelta(days=round(years * DAYS_PER_YEAR))
    old = session.scalars(
        select(ConsentProof).where(
            ConsentProof.confirmed_at.is_not(None), ConsentProof.confirmed_at < cutoff
        )
    ).all()
    expired = [p.id for p in old if (ended := proof_ended_at(session, p)) and ended < cutoff]
    if expired:
        session.execute(delete(ConsentProof).where(ConsentProof.id.in_(expired)))
    return len(expired)


def purge_unconfirmed_proofs(session: Session, *, stale: Select[Any], cutoff: datetime) -> int:
    """Delete the proofs of sign-ups never confirmed (stale links, or gone ones past the cutoff)."""
    result = session.execute(
        delete(ConsentProof).where(
            ConsentProof.confirmed_at.is_(None),
            or_(
                ConsentProof.confirmation_id.in_(stale),
                and_(ConsentProof.confirmation_id.is_(None), ConsentProof.requested_at < cutoff),
            ),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
