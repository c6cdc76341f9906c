"""Who receives an issue: one set of receiving conditions for listing, counting and re-checking.

Delivery lists the recipients once when a send starts and asks again just before each
batch, so someone who unsubscribed in between gets nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from subscribers.models import Subscriber, Subscription, SubscriptionStatus


def _receives(publication_slugs: Sequence[str]) -> tuple[ColumnElement[bool], ...]:
    """Return the conditions under which a subscription receives issues (joined to Subscriber)."""
    return (
        Subscription.publication.in_(list(publication_slugs)),
        Subscription.status == SubscriptionStatus.CONFIRMED,
        Subscriber.blocked_at.is_(None),
    )


class Recipient(NamedTuple):
    """One address an issue goes to."""

    subscriber_id: int
    address: str
    name: str
    language: str
    # The first of the requested publications this subscriber receives: the one the
    # unsubscribe link in the mail should name.
    publication: str


def recipient_rows(
    session: Session, publication_slugs: Sequence[str], *, batch_size: int = 2000
) -> Iterator[Recipient]:
    """Yield each confirmed, unblocked subscriber of any of the publications once, by id.

    Streamed from the database in batches, so 100,000 recipients never sit in memory.
    Unconfirmed, unsubscribed, bounced and blocked addresses are left out; erased ones
    no longer exist.
    """
    slugs = list(dict.fromkeys(publication_slugs))
    if not slugs:
        return
    rank = case({slug: index for index, slug in enumerate(slugs)}, value=Subscription.publication)
    query = (
        select(
            Subscriber.id,
            Subscriber.email,
            Subscriber.name,
            Subscriber.language,
            Subscription.publication,
        )
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(*_receives(slugs))
        .order_by(Subscriber.id, rank)
        .execution_options(yield_per=batch_size)
    )
    last_id: int | None = None
    for row in session.execute(query):
        if row[0] == last_id:
            continue
        last_id = row[0]
        yield Recipient(row[0], row[1], row[2], row[3], row[4])


def receiving_subscriber_ids(
    session: Session, publication_slugs: Sequence[str], subscriber_ids: Iterable[int]
) -> set[int]:
    """Return those of the subscribers who still receive any of the publications now.

    Delivery asks this just before sending a batch, so someone who unsubscribed after
    the recipient list was made gets nothing.
    """
    ids = list(subscriber_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 5000):
        found.update(
            session.scalars(
                select(Subscription.subscriber_id)
                .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
                .where(
                    Subscription.subscriber_id.in_(ids[start : start + 5000]),
                    *_receives(publication_slugs),
                )
            )
        )
    return found


def count_recipients(session: Session, publication_slugs: Sequence[str]) -> int:
    """Return how many addresses recipient_rows would yield."""
    return (
        session.scalar(
            select(func.count(func.distinct(Subscription.subscriber_id)))
            .join(Subscriber, Subscription.subscriber_id == Subscriber.id)
            .where(*_receives(publication_slugs))
        )
        or 0
    )


def count_per_publication(session: Session, publication_slugs: Sequence[str]) -> dict[str, int]:
    """Return how many addresses receive each of the publications (a person in two counts twice)."""
    slugs = list(dict.fromkeys(publication_slugs))
    counts = dict.fromkeys(slugs, 0)
    if not slugs:
        return counts
    rows = session.execute(
        select(Subscription.publication, func.count(func.distinct(Subscription.subscriber_id)))
        .join(Subscriber, Subscription.subscriber_id == Subscriber.id)
        .where(*_receives(slugs))
        .group_by(Subscription.publication)
    )
    for slug, count in rows:
        counts[slug] = int(count)
    return counts


def recipient_languages(session: Session, publication_slugs: Sequence[str]) -> list[str]:
    """Return the languages of the people who receive any of the publications, sorted.

    What an issue must be rendered in: one rendering per language, never per person.
    """
    slugs = list(dict.fromkeys(publication_slugs))
    if not slugs:
        return []
    return sorted(
        session.scalars(
            select(Subscriber.language)
            .distinct()
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(*_receives(slugs))
        )
    )
