"""iCalendar, Atom and JSON Feed renderings of approved items.

Given a language, each item shows its approved version in that language where it has
one (`item_text`), else its original; each text is marked with its own language
(LANGUAGE on the iCal properties of a feed in a language, xml:lang on the Atom entry,
`language` on the JSON Feed item).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from feedgen.feed import FeedGenerator
from icalendar import Calendar, Event, Timezone, vRecur
from lxml import etree
from markupsafe import escape

from newsticker.core.markup import render_markdown
from newsticker.items.models import FIELDS_OF_ACTION, KIND_LABELS, Item
from newsticker.items.recurrence import exdates, to_rrule
from newsticker.items.services import item_recurrence, item_text

PRODID = "-//Newsticker//Events//DE"


def _local_date(value: datetime, tz: ZoneInfo) -> date:
    return value.astimezone(tz).date()


def ical_event(
    item: Item, *, tz: ZoneInfo, url: str, host: str, language: str | None = None
) -> Event:
    """Return one VEVENT: RRULE kept as RRULE, exceptions as EXDATE, times with TZID."""
    assert item.starts_at is not None
    text = item_text(item, language)
    # Only a feed in a language marks its texts: the plain feed stays as it always was.
    marked: dict[str, str] = {"LANGUAGE": text.language} if language else {}
    event = Event()
    event.add("uid", f"item-{item.id}@{host}")
    event.add("dtstamp", (item.updated_at or item.created_at).astimezone(UTC))
    event.add("sequence", max(item.version - 1, 0))
    event.add("summary", text.title, parameters=marked)
    rule = item_recurrence(item)
    if item.all_day:
        event.add("dtstart", _local_date(item.starts_at, tz))
        end = item.ends_at or item.starts_at + timedelta(days=1)
        event.add("dtend", _local_date(end, tz))
    else:
        event.add("dtstart", item.starts_at.astimezone(tz))
        if item.ends_at is not None:
            event.add("dtend", item.ends_at.astimezone(tz))
    if rule is not None:
        event.add("rrule", vRecur(to_rrule(rule, tz=None if item.all_day else tz)))
        skipped = exdates(rule, item.starts_at, tz)
        if skipped:
            values: list[Any] = [d.date() for d in skipped] if item.all_day else skipped
            event.add("exdate", values)
    description = "\n\n".join(part for part in (text.summary, text.description_text, url) if part)
    event.add("description", description, parameters=marked)
    location = ", ".join(part for part in (item.place_name, item.place_address) if part)
    if location:
        event.add("location", location)
    event.add("url", url)
    event.add("categories", [str(FIELDS_OF_ACTION.get(item.field_of_action, ""))])
    if item.organiser:
        event.add("x-newsticker-organiser", item.organiser)
    return event


def ical_calendar(
    items: Iterable[Item],
    *,
    name: str,
    tz: ZoneInfo,
    url_for_item: Callable[[Item], str],
    base_url: str,
    language: str | None = None,
) -> bytes:
    """Return a VCALENDAR with the events (in a language where they have it) and their zones."""
    host = urlsplit(base_url).hostname or "localhost"
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", str(tz.key))
    cal.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT6H")
    first: date | None = None
    timed = False
    for item in items:
        if item.starts_at is None:
            continue
        cal.add_component(
            ical_event(item, tz=tz, url=url_for_item(item), host=host, language=language)
        )
        timed = timed or not item.all_day
        day = _local_date(item.starts_at, tz)
        first = day if first is None or day < first else first
    if timed:
        # Every time is in the site's zone: its VTIMEZONE, with only the transitions the
        # events need, not fifty years of them. (add_missing_timezones would find the
        # same by reading every property of every event again: a third of a build.)
        start = (first or datetime.now(UTC).date()) - timedelta(days=366)
        zone = Timezone.from_tzid(
            str(tz.key), first_date=start, last_date=start + timedelta(days=366 * 8)
        )
        cal.subcomponents.insert(0, zone)
    return bytes(cal.to_ical())


def atom_feed(
    items: Iterable[Item],
    *,
    title: str,
    feed_url: str,
    page_url: str,
    language: str,
    url_for_item: Callable[[Item], str],
    describe_when: Callable[[Item], str],
    updated: datetime,
    item_language: str | None = None,
) -> bytes:
    """Return an Atom feed of items, newest first (in item_language where they have it)."""
    fg = FeedGenerator()
    fg.id(feed_url)
    fg.title(title)
    fg.link(href=page_url, rel="alternate", type="text/html")
    fg.link(href=feed_url, rel="self", type="application/atom+xml")
    fg.language(language)
    fg.author({"name": title})
    fg.updated(updated)
    items = list(items)
    texts = {item.id: item_text(item, item_language) for item in items}
    # feedgen prepends each new entry; add the oldest first so the newest leads.
    for item in reversed(items):
        text = texts[item.id]
        url = url_for_item(item)
        entry = fg.add_entry()
        entry.id(url)
        entry.title(text.title)
        entry.link(href=url, rel="alternate", type="text/html")
        when = describe_when(item)
        summary = f"{when} – {text.summary}" if when else text.summary
        entry.summary(summary)
        body = text_html("\n\n".join(part for part in (summary, text.description_text) if part))
        entry.content(body, type="html")
        stamp = item.approved_at or item.created_at
        entry.published(stamp)
        entry.updated(max(stamp, item.updated_at or stamp))
        if item.organiser:
            entry.author({"name": item.organiser})
        entry.category(
            term=item.field_of_action, label=str(FIELDS_OF_ACTION.get(item.field_of_action, ""))
        )
        entry.category(term=item.kind, label=str(KIND_LABELS.get(item.kind, "")))
    return _with_entry_languages(
        bytes(fg.atom_str(pretty=True)),
        {url_for_item(item): texts[item.id].language or language for item in items},
        language,
    )


_ATOM = "{http://www.w3.org/2005/Atom}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _with_entry_languages(feed: bytes, languages: dict[str, str], feed_language: str) -> bytes:
    """Return the feed with xml:lang on each entry: the language its content is written in.

    Its categories are labelled in the feed's language, so they say so themselves.
    """
    root = etree.fromstring(feed, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    for entry in root.iter(f"{_ATOM}entry"):
        language = languages.get(entry.findtext(f"{_ATOM}id") or "")
        if language:
            entry.set(_XML_LANG, language)
            for category in entry.iter(f"{_ATOM}category"):
                category.set(_XML_LANG, feed_language)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _escape(text: str) -> str:
    return str(escape(text))


def text_html(text: str) -> str:
    """Return plain text as HTML: a paragraph per blank-line block, line breaks kept."""
    blocks = (block.strip() for block in text.split("\n\n"))
    return "".join(
        f"<p>{'<br>'.join(_escape(line) for line in block.splitlines())}</p>"
        for block in blocks
        if block
    )


JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


def json_feed_item(
    item: Item,
    *,
    url: str,
    when: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    language: str | None,
    id_suffix: str = "",
) -> dict[str, Any]:
    """Return one JSON Feed 1.1 item, in language where it has it; its date in `_newsticker`.

    Its texts and `language` are those of `item_text`: the approved version in language,
    else the original. Place and organiser are shared by all versions, in the original.
    """
    text = item_text(item, language)
    summary = f"{when} – {text.summary}" if when else text.summary
    entry: dict[str, Any] = {
        "id": f"{url}{id_suffix}",
        "url": url,
        "title": text.title,
        "summary": summary,
        "content_html": render_markdown(text.description) or f"<p>{_escape(text.summary)}</p>",
        "content_text": "\n\n".join(p for p in (summary, text.description_text) if p),
        "date_published": (item.approved_at or item.created_at).astimezone(UTC).isoformat(),
        "tags": [
            str(FIELDS_OF_ACTION.get(item.field_of_action, item.field_of_action)),
            str(KIND_LABELS.get(item.kind, item.kind)),
        ],
        "language": text.language,
        # Extensions start with an underscore (JSON Feed 1.1, "Extensions").
        "_newsticker": {
            "kind": str(item.kind),
            "field_of_action": item.field_of_action,
            "starts_at": starts_at.astimezone(UTC).isoformat() if starts_at else None,
            "ends_at": ends_at.astimezone(UTC).isoformat() if ends_at else None,
            "when": when,
            "place": ", ".join(p for p in (item.place_name, item.place_address) if p),
            "organiser": item.organiser,
        },
    }
    if item.updated_at:
        entry["date_modified"] = item.updated_at.astimezone(UTC).isoformat()
    if item.organiser:
        entry["authors"] = [{"name": item.organiser}]
    return entry


def json_feed(
    entries: list[dict[str, Any]],
    *,
    title: str,
    feed_url: str,
    page_url: str,
    language: str,
    next_url: str | None = None,
) -> dict[str, Any]:
    """Return a JSON Feed 1.1 document of prepared entries (see json_feed_item)."""
    feed: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": title,
        "home_page_url": page_url,
        "feed_url": feed_url,
        "language": language,
        "items": entries,
    }
    if next_url:
        feed["next_url"] = next_url
    return feed
