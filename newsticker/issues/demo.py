"""Demo issues: last week's ticker in the archive, this week's draft, a newsletter draft."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.db import utcnow
from newsticker.core.site import site_links
from newsticker.issues.models import Issue, IssueEntry, IssueStatus, KeyFigure
from newsticker.issues.services import (
    WEEKDAYS,
    draft_issue,
    mark_sent,
    start_sending,
)
from newsticker.items.models import Item
from newsticker.items.recurrence import occurrences
from newsticker.items.services import item_recurrence

DEMO_FIGURES = (
    ("Teilnehmende an Integrationskursen", "1234", "Personen", "2025", "BAMF (Demo-Daten)"),
    ("Ehrenamtliche in der Integrationsarbeit", "412", "Personen", "2025", "Ehrenamtsakademie"),
    ("Beratungsgespräche der Migrationsberatung", "2870", "Gespräche", "2025", "Stadt Flensburg"),
    ("Anteil mit Migrationsgeschichte", "18.5", "%", "31.12.2025", "Statistikstelle (Demo)"),
    ("Anteil der Kursteilnehmenden mit Abschluss B1", "62", "%", "2025", "BAMF (Demo-Daten)"),
)
DEMO_EDITORIAL = (
    "Liebe Engagierte,\n\n"
    "auch diese Woche ist viel los in Flensburg: Sprachcafé, Gesundheitsinformationen in "
    "mehreren Sprachen und die **Basisschulung der Ehrenamtsakademie**. "
    "Schickt uns eure Termine über das [Formular auf unserer Seite](https://www.flensburg.de)!"
)
DEMO_ARTICLE = (
    "Seit fünf Jahren arbeiten Verwaltung, Vereine und Migrantenorganisationen nach dem "
    "gemeinsamen Integrationskonzept. Beim **Runden Tisch Integration** haben wir Bilanz "
    "gezogen:\n\n"
    "- mehr Sprachangebote in den Stadtteilen\n"
    "- eine offene Sprechstunde der Migrationsberatung\n"
    "- neue Ehrenamtliche durch die Basisschulung\n\n"
    "Die Zahlen unten zeigen, wo wir stehen."
)


def _last_send(settings: Settings, slug: str, now: datetime) -> datetime:
    publication = settings.publication(slug)
    assert publication is not None
    local = now.astimezone(settings.tz)
    weekday = WEEKDAYS.index(publication.send_weekday)
    days = (local.weekday() - weekday) % 7 or 7
    day = local.date() - timedelta(days=days)
    return datetime.combine(day, publication.send_time, settings.tz)


def _by_key(session: Session, key: str) -> Item | None:
    return session.scalars(select(Item).where(Item.external_key == key)).first()


def _sent_ticker(session: Session, settings: Settings, now: datetime) -> Issue:
    sent_at = _last_send(settings, "ticker", now)
    issue = Issue(
        publication="ticker",
        number=1,
        subject="Newsticker: Sprachcafé und neue Sprechzeiten",
        preheader="Was diese Woche in Flensburg los ist",
        editorial="Liebe Leserinnen und Leser,\n\nwillkommen zum ersten Newsticker aus dem "
        "neuen System!",
        status=IssueStatus.SCHEDULED,
        scheduled_at=sent_at,
        window_start=sent_at,
        created_at=sent_at - timedelta(days=3),
        updated_at=sent_at - timedelta(days=3),
    )
    cafe = _by_key(session, "demo-sprachcafe")
    if cafe is not None and cafe.starts_at is not None:
        dates = occurrences(
            cafe.starts_at,
            cafe.ends_at,
            item_recurrence(cafe),
            tz=settings.tz,
            window_start=sent_at,
            window_end=sent_at + timedelta(days=8),
        )
        if dates:
            issue.entries.append(
                IssueEntry(section="events", position=0, item=cafe, occurrence_start=dates[0][0])
            )
    notice = _by_key(session, "demo-beratungszeiten")
    if notice is not None:
        issue.entries.append(IssueEntry(section="announcements", position=0, item=notice))
    session.add(issue)
    session.flush()
    start_sending(session, issue, now=sent_at, links=site_links())
    mark_sent(session, issue, now=sent_at)
    return issue


def load_demo_issues(session: Session, settings: Settings) -> tuple[str, int]:
    """Add the demo issues that are not there yet; return ("issues", how many were added)."""
    now = utcnow()
    added = 0
    if settings.publication("ticker") is not None:
        has_ticker = session.scalar(
            select(func.count()).select_from(Issue).where(Issue.publication == "ticker")
        )
        if not has_ticker:
            _sent_ticker(session, settings, now)
            result = draft_issue(session, settings, "ticker", now=now)
            result.issue.editorial = DEMO_EDITORIAL
            result.issue.preheader = "Sprachcafé, MiMi-Gesundheitsinfos und Ehrenamt"
            added += 2
    if settings.publication("newsletter") is not None:
        has_newsletter = session.scalar(
            select(func.count()).select_from(Issue).where(Issue.publication == "newsletter")
        )
        if not has_newsletter:
            result = draft_issue(session, settings, "newsletter", now=now)
            issue = result.issue
            issue.subject = "Integration in Flensburg – Zahlen, Daten, Fakten"
            issue.preheader = "Fünf Jahre Integrationskonzept: eine Bilanz"
            issue.editorial = "Liebe Leserinnen und Leser,\n\nhier ist unsere Quartalsausgabe."
            issue.entries.append(
                IssueEntry(
                    section="articles",
                    position=0,
                    title="Fünf Jahre Integrationskonzept",
                    body=DEMO_ARTICLE,
                    link="https://www.flensburg.de/integration",
                    language="de",
                )
            )
            for position, (label, value, unit, period, source) in enumerate(DEMO_FIGURES):
                issue.figures.append(
                    KeyFigure(
                        position=position,
                        label=label,
                        value=value,
                        unit=unit,
                        period=period,
                        source=source,
                    )
                )
            added += 1
    session.flush()
    return "issues", added
