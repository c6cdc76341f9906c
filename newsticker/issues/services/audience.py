"""Who an issue goes to: its own publication's subscribers and those of the ones chosen.

A special edition (the quarterly newsletter, say) also goes to the subscribers of other
publications. The configured `also_send_to` is the default; an editor may choose other
publications per issue in the composer, and the choice is stored with the issue. A
person who subscribed to two of them still gets one mail, through the first publication
in this order (the issue's own first), whose name and unsubscribe link their footer shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.issues.models import Issue
from newsticker.issues.rendering import needed_languages
from newsticker.issues.services.changes import IssueError, begin_change, touch
from subscribers import services as subscriber_services


def extra_publications(settings: Settings, issue: Issue) -> list[str]:
    """Return the other publications whose subscribers also receive the issue, in order.

    The editors' choice when they made one, else the publication's configured also_send_to;
    publications no longer configured are left out.
    """
    if issue.also_send_to is not None:
        chosen = issue.also_send_to
    else:
        publication = settings.publication(issue.publication)
        chosen = publication.also_send_to if publication is not None else []
    known = {p.slug for p in settings.publications}
    return [slug for slug in dict.fromkeys(chosen) if slug in known and slug != issue.publication]


def issue_publications(settings: Settings, issue: Issue) -> list[str]:
    """Return every publication whose subscribers receive the issue, its own first."""
    return [issue.publication, *extra_publications(settings, issue)]


def issue_languages(session: Session, settings: Settings, issue: Issue) -> list[str]:
    """Return the languages the issue goes out in: the default, then its audience's."""
    audience = subscriber_services.recipient_languages(session, issue_publications(settings, issue))
    return needed_languages(settings.site.default_language, audience)


def choose_publications(
    session: Session,
    issue: Issue,
    slugs: Sequence[str],
    *,
    settings: Settings,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> list[str]:
    """Store which other publications also receive this draft; return them in order.

    Refuses a publication that is not configured, and the issue's own (it always
    receives the issue).
    """
    begin_change(issue, version)
    order = [p.slug for p in settings.publications]
    for slug in slugs:
        if slug == issue.publication or slug not in order:
            raise IssueError(
                _l("Please choose only among the publications offered."), field="also_send_to"
            )
    chosen = [slug for slug in order if slug in set(slugs)]
    issue.also_send_to = chosen
    touch(session, issue, user_id=user_id, now=now)
    return chosen


@dataclass(frozen=True)
class PublicationCount:
    """How many people receive one of the issue's publications now."""

    slug: str
    name: str
    count: int


@dataclass(frozen=True)
class AudienceCount:
    """How many people an issue would reach if it were sent now."""

    publications: list[PublicationCount]
    # Each person once, however many of the publications they subscribed to.
    total: int

    @property
    def overlap(self) -> int:
        """Return how many subscriptions are counted once because their person has another."""
        return sum(p.count for p in self.publications) - self.total


def count_audience(session: Session, settings: Settings, issue: Issue) -> AudienceCount:
    """Return how many confirmed subscribers receive the issue, per publication and in all."""
    slugs = issue_publications(settings, issue)
    counts = subscriber_services.count_per_publication(session, slugs)
    names = {p.slug: p.name for p in settings.publications}
    return AudienceCount(
        publications=[
            PublicationCount(slug, names.get(slug, slug), counts[slug]) for slug in slugs
        ],
        total=subscriber_services.count_recipients(session, slugs),
    )
