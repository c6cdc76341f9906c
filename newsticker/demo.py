"""Realistic demo content for Flensburg; loading it twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.db import utcnow
from newsticker.core.markup import markdown_to_text
from newsticker.items.models import (
    Item,
    ItemAudit,
    ItemKind,
    ItemStatus,
    ItemVersion,
    VersionSource,
    VersionStatus,
)
from newsticker.items.recurrence import Recurrence
from newsticker.items.services import derive_fields, occurrences


@dataclass
class DemoReport:
    """What loading the demo added."""

    added: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        if not any(self.added.values()):
            return "already loaded, nothing added"
        return ", ".join(f"{n} {what}" for what, n in self.added.items() if n)


def _next_weekday(today: date, weekday: int, weeks_ahead: int = 0) -> date:
    days = (weekday - today.weekday()) % 7 or 7
    return today + timedelta(days=days + 7 * weeks_ahead)


def demo_items(settings: Settings, today: date) -> list[dict[str, Any]]:
    """Return the demo items, dated relative to today so the ticker always has content."""
    tz = settings.tz

    def at(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tz)

    round_table_rule = Recurrence(
        freq="monthly", nth=2, weekday=1, months=(2, 4, 6, 9, 11, 12), until=date(2027, 12, 31)
    )
    language_cafe_rule = Recurrence(freq="weekly", weekdays=(2,), until=date(2027, 12, 31))
    mimi_day = _next_weekday(today, 1)
    mimi_fa_day = _next_weekday(today, 3)
    academy_day = _next_weekday(today, 4, weeks_ahead=1)
    cafe_first = _next_weekday(today - timedelta(days=21), 2)
    return [
        {
            "external_key": "demo-round-table",
            "kind": ItemKind.EVENT,
            "title": "Runder Tisch Integration",
            "summary": "Das Netzwerk der Integrationsarbeit in Flensburg trifft sich: "
            "Vereine, Migrantenorganisationen, Verwaltung und Ehrenamtliche.",
            "description": "Der Runde Tisch Integration tagt sechsmal im Jahr, jeweils am "
            "**2. Dienstag** im Februar, April, Juni, September, November und Dezember.\n\n"
            "Tagesordnung und Protokolle gibt es bei der Stabsstelle Integration. "
            "Gäste sind willkommen – bitte meldet euch vorher an.",
            "field_of_action": "encounter",
            "tags": ["Netzwerk", "Runder Tisch", "Beteiligung"],
            "event_languages": ["de"],
            "starts_at": at(date(2026, 2, 10), 18, 30),
            "ends_at": at(date(2026, 2, 10), 20, 30),
            "recurrence": round_table_rule.to_dict(),
            "place_name": "Rathaus Flensburg, Ratssaal",
            "place_address": "Rathausplatz 1, 24937 Flensburg",
            "accessibility_note": "Stufenloser Zugang über den Haupteingang, Aufzug vorhanden.",
            "organiser": "Stadt Flensburg – Stabsstelle Integration",
            "contact_name": "Stabsstelle Integration",
            "contact_email": "integration@flensburg.example",
            "link": "https://www.flensburg.de/integration",
        },
        {
            "external_key": "demo-fest-der-kulturen",
            "kind": ItemKind.EVENT,
            "title": "Fest der Kulturen 2027",
            "summary": "Musik, Tanz und Essen aus aller Welt an der Hafenspitze – mit "
            "Mitmachangeboten für Kinder und Infoständen der Flensburger Vereine.",
            "description": "Das Fest der Kulturen feiert die Vielfalt unserer Stadt. "
            "Über 40 Vereine und Initiativen sind dabei.\n\n"
            "- Bühnenprogramm ab 12 Uhr\n- Kinderprogramm\n- Internationale Küche",
            "field_of_action": "encounter",
            "tags": ["Fest", "Kultur", "Familie"],
            "event_languages": ["de", "en", "ar", "uk"],
            "starts_at": at(date(2027, 6, 12), 11),
            "ends_at": at(date(2027, 6, 12), 19),
            "place_name": "Hafenspitze",
            "place_address": "Schiffbrücke, 24939 Flensburg",
            "accessibility_note": "Ebenes Gelände, barrierefreie Toiletten am Platz.",
            "organiser": "Forum für Migrantinnen und Migranten",
            "contact_email": "fest@flensburg.example",
        },
        {
            "external_key": "demo-sprachcafe",
            "kind": ItemKind.EVENT,
            "title": "Sprachcafé in der Stadtbibliothek",
            "summary": "Deutsch sprechen üben bei Kaffee und Tee – ohne Anmeldung, "
            "für alle Niveaus.",
            "description": "Jeden Mittwoch treffen sich Menschen, die Deutsch lernen, mit "
            "Ehrenamtlichen zum Gespräch. Kommt einfach vorbei!",
            "field_of_action": "education",
            "tags": ["Sprache", "Deutsch lernen", "Begegnung"],
            "event_languages": ["de"],
            "starts_at": at(cafe_first, 16),
            "ends_at": at(cafe_first, 18),
            "recurrence": language_cafe_rule.to_dict(),
            "place_name": "Stadtbibliothek Flensburg",
            "place_address": "Süderhofenden 40–42, 24937 Flensburg",
            "accessibility_note": "Aufzug vorhanden.",
            "organiser": "Stadtbibliothek Flensburg",
            # Its texts in two more languages, as a translator would send them.
            "versions": [
                {
                    "language": "ar",
                    "title": "مقهى اللغة في مكتبة المدينة",
                    "summary": "تدرّبوا على التحدث بالألمانية مع القهوة والشاي – "
                    "بدون تسجيل، لجميع المستويات.",
                    "description": "كل يوم أربعاء يلتقي متعلمو اللغة الألمانية "
                    "بمتطوعين للحديث معًا. تعالوا ببساطة!",
                },
                {
                    "language": "uk",
                    "title": "Мовне кафе в міській бібліотеці",
                    "summary": "Практикуйте німецьку за кавою та чаєм – без реєстрації, "
                    "для будь-якого рівня.",
                    "description": "Щосереди люди, які вивчають німецьку, зустрічаються "
                    "з волонтерами для розмови. Просто приходьте!",
                },
            ],
        },
        {
            "external_key": "demo-mimi-ar",
            "kind": ItemKind.EVENT,
            "title": "معلومات صحية: نظام الرعاية الصحية في ألمانيا",
            "summary": "جلسة معلومات MiMi باللغة العربية: كيف يعمل نظام الرعاية الصحية "
            "في ألمانيا، والتأمين الصحي، والذهاب إلى الطبيب.",
            "description": "يقدم وسطاء الصحة من مشروع **MiMi** معلومات باللغة العربية. "
            "المشاركة مجانية، ولا حاجة للتسجيل.",
            "field_of_action": "health",
            "tags": ["MiMi", "Gesundheit", "Arabisch"],
            "event_languages": ["ar"],
            "content_language": "ar",
            "starts_at": at(mimi_day, 17),
            "ends_at": at(mimi_day, 19),
            "place_name": "Migrationsberatung, Gruppenraum",
            "place_address": "Norderstraße 50, 24939 Flensburg",
            "organiser": "MiMi Gesundheitsprojekt Schleswig-Holstein",
            "contact_name": "MiMi Flensburg",
            "contact_phone": "+49 461 000000",
        },
        {
            "external_key": "demo-mimi-fa",
            "kind": ItemKind.EVENT,
            "title": "اطلاعات سلامت: سلامت روان",
            "summary": "جلسه اطلاع‌رسانی MiMi به زبان فارسی درباره سلامت روان و مراکز مشاوره "
            "در فلنسبورگ.",
            "description": "میانجی‌های سلامت پروژه MiMi به زبان فارسی اطلاعات می‌دهند. "
            "شرکت رایگان است.",
            "field_of_action": "health",
            "tags": ["MiMi", "Gesundheit", "Persisch"],
            "event_languages": ["fa"],
            "content_language": "fa",
            "starts_at": at(mimi_fa_day, 17),
            "ends_at": at(mimi_fa_day, 19),
            "place_name": "Migrationsberatung, Gruppenraum",
            "place_address": "Norderstraße 50, 24939 Flensburg",
            "organiser": "MiMi Gesundheitsprojekt Schleswig-Holstein",
        },
        {
            "external_key": "demo-ehrenamtsakademie",
            "kind": ItemKind.EVENT,
            "title": "Basisschulung Ehrenamt der Ehrenamtsakademie",
            "summary": "Zwei Tage Grundlagen für alle, die sich in der Integrationsarbeit "
            "engagieren: Rolle, Grenzen, interkulturelle Kommunikation, Versicherung.",
            "description": "Die Basisschulung richtet sich an neue und erfahrene Ehrenamtliche. "
            "Die Teilnahme ist kostenlos; Verpflegung wird gestellt.\n\n"
            "Anmeldung bis eine Woche vorher.",
            "field_of_action": "volunteering",
            "tags": ["Ehrenamt", "Schulung", "Ehrenamtsakademie"],
            "event_languages": ["de"],
            "starts_at": at(academy_day, 15),
            "ends_at": at(academy_day + timedelta(days=1), 16),
            "place_name": "Volkshochschule Flensburg",
            "place_address": "Südergraben 2, 24937 Flensburg",
            "accessibility_note": "Barrierefrei erreichbar.",
            "organiser": "Ehrenamtsakademie Flensburg",
            "contact_email": "ehrenamt@flensburg.example",
        },
        {
            "external_key": "demo-beratungszeiten",
            "kind": ItemKind.ANNOUNCEMENT,
            "title": "Neue Sprechzeiten der Migrationsberatung",
            "summary": "Ab sofort berät die Migrationsberatung auch donnerstags von 14 bis "
            "18 Uhr – ohne Termin.",
            "description": "Die offene Sprechstunde hilft bei Fragen zu Aufenthalt, Arbeit, "
            "Wohnung und Familiennachzug. Beratung auf Deutsch, Englisch, Arabisch und "
            "Ukrainisch.",
            "field_of_action": "general",
            "tags": ["Beratung"],
            "event_languages": ["de", "en", "ar", "uk"],
            "visible_until": today + timedelta(days=60),
            "organiser": "Migrationsberatung Flensburg",
        },
        {
            "external_key": "demo-ankuendigung-ar",
            "kind": ItemKind.ANNOUNCEMENT,
            "title": "دورات لغة ألمانية جديدة في الجامعة الشعبية",
            "summary": "تبدأ دورات اندماج جديدة في يناير. التسجيل ممكن الآن.",
            "description": "للاستفسار: مكتب الاستشارات في الجامعة الشعبية، من الاثنين إلى الخميس.",
            "field_of_action": "education",
            "tags": ["Integrationskurs", "Sprache"],
            "event_languages": ["de"],
            "content_language": "ar",
            "visible_until": today + timedelta(days=45),
            "organiser": "Volkshochschule Flensburg",
        },
        {
            "external_key": "demo-lesepaten",
            "kind": ItemKind.CALL,
            "title": "Lesepatinnen und Lesepaten gesucht",
            "summary": "Eine Stunde pro Woche vorlesen und zuhören: Grundschulen in der "
            "Neustadt suchen Ehrenamtliche.",
            "description": "Ihr braucht keine Vorkenntnisse – nur Geduld und Freude am Lesen. "
            "Eine Einführung gibt es bei der Ehrenamtsakademie.",
            "field_of_action": "volunteering",
            "tags": ["Ehrenamt", "Kinder", "Lesen"],
            "event_languages": ["de"],
            "visible_until": today + timedelta(days=90),
            "organiser": "Freiwilligenagentur Flensburg",
            "contact_email": "freiwillig@flensburg.example",
        },
        {
            "external_key": "demo-kochabend",
            "kind": ItemKind.EVENT,
            "status": ItemStatus.SUBMITTED,
            "title": "Interkultureller Kochabend",
            "summary": "Gemeinsam kochen und essen: Gerichte aus Syrien, der Ukraine und "
            "Schleswig-Holstein.",
            "description": "Bitte bringt gute Laune mit – Zutaten sind da.",
            "field_of_action": "encounter",
            "tags": ["Kochen", "Begegnung"],
            "event_languages": ["de", "ar", "uk"],
            "starts_at": at(_next_weekday(today, 4), 18),
            "ends_at": at(_next_weekday(today, 4), 21),
            "place_name": "Stadtteilhaus Neustadt",
            "place_address": "Neustadt 16, 24939 Flensburg",
            "organiser": "Nachbarschaftsverein Neustadt",
            "submitter_email": "kochen@neustadt.example",
        },
    ]


def load_demo(session: Session, settings: Settings) -> DemoReport:
    """Add the demo content that is not there yet."""
    report = DemoReport()
    today = utcnow().astimezone(settings.tz).date()
    existing = set(session.scalars(select(Item.external_key).where(Item.external_key.isnot(None))))
    added: list[Item] = []
    for data in demo_items(settings, today):
        if data["external_key"] in existing:
            continue
        status = data.pop("status", ItemStatus.APPROVED)
        kind = data.pop("kind")
        versions = data.pop("versions", [])
        item = Item(**data, status=status.value, kind=kind.value)
        _apply_column_defaults(item)
        item.versions = [_demo_version(v) for v in versions]
        item.submitter_email = item.submitter_email or "demo@flensburg.example"
        item.consent_at = utcnow()
        if status == ItemStatus.APPROVED:
            item.approved_at = utcnow()
        derive_fields(item, settings.tz)
        item.audit.append(ItemAudit(actor="demo", action="created", note="demo content"))
        session.add(item)
        added.append(item)
    session.flush()
    for item in added:
        occurrences.refresh(session, item, tz=settings.tz, now=utcnow())
    report.added["items"] = len(added)
    for loader in _extra_loaders():
        name, count = loader(session, settings)
        report.added[name] = count
    return report


def _demo_version(data: dict[str, str]) -> ItemVersion:
    """Return an approved language version of a demo item."""
    return ItemVersion(
        **data,
        description_text=markdown_to_text(data["description"]),
        status=VersionStatus.APPROVED,
        source=VersionSource.TRANSLATOR,
        approved_at=utcnow(),
    )


def _apply_column_defaults(item: Item) -> None:
    """Fill unset fields with their column defaults now, not at flush (derived fields need them)."""
    for column in Item.__table__.columns:
        default = column.default
        if getattr(item, column.key) is None and default is not None and default.is_scalar:
            setattr(item, column.key, default.arg)


def _extra_loaders() -> list[Any]:
    """Return the demo loaders of other features (subscribers, issues), when present."""
    from newsticker.issues.demo import load_demo_issues
    from subscribers.demo import load_demo_subscribers

    return [load_demo_subscribers, load_demo_issues]
