"""Items: stored items, valid submission forms, image files, and multipart posts of them."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from newsticker.core.db import utcnow
from newsticker.items.models import Item, ItemAudit, ItemStatus
from newsticker.items.recurrence import Recurrence
from newsticker.items.services import derive_fields, occurrences

TZ = ZoneInfo("Europe/Berlin")


def today() -> date:
    """Return today's date in the site's time zone."""
    return utcnow().astimezone(TZ).date()


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """Return an aware local datetime."""
    return datetime.combine(day, time(hour, minute), TZ)


def make_item(session: Session, **values: Any) -> Item:
    """Store an item (an approved event in ten days unless told otherwise)."""
    day = today() + timedelta(days=10)
    rule = values.pop("rule", None)
    data: dict[str, Any] = {
        "kind": "event",
        "status": ItemStatus.APPROVED,
        "title": "Interkulturelles Frühstück",
        "summary": "Gemeinsam frühstücken und Nachbarn kennenlernen.",
        "description": "Alle sind **willkommen**.",
        "field_of_action": "encounter",
        "tags": ["Frühstück"],
        "event_languages": ["de", "ar"],
        "content_language": "de",
        "starts_at": local(day, 9),
        "ends_at": local(day, 11),
        "organiser": "Nachbarschaftsverein",
        "place_name": "Stadtteilhaus",
        "submitter_email": "verein@example.org",
        "submitter_language": "de",
        "consent_at": utcnow(),
    }
    data.update(values)
    if rule is not None:
        data["recurrence"] = rule.to_dict() if isinstance(rule, Recurrence) else rule
    if data["status"] == ItemStatus.APPROVED:
        data.setdefault("approved_at", utcnow())
    item = Item(**data)
    derive_fields(item, TZ)
    item.audit.append(ItemAudit(actor="test", action="created"))
    session.add(item)
    session.flush()
    occurrences.refresh(session, item, tz=TZ, now=utcnow())
    return item


def make_notice(session: Session, visible_days: int = 5, **values: Any) -> Item:
    """Store an approved announcement (no date), shown until `visible_days` from today."""
    values = {
        "kind": "announcement",
        "starts_at": None,
        "ends_at": None,
        "visible_until": today() + timedelta(days=visible_days),
        **values,
    }
    return make_item(session, **values)


def event_form(**overrides: Any) -> dict[str, Any]:
    """Return the fields of a valid event submission."""
    day = today() + timedelta(days=14)
    data: dict[str, Any] = {
        "kind": "event",
        "title": "Sprachcafé am Hafen",
        "summary": "Deutsch üben bei Tee und Kuchen.",
        "description": "Für alle Niveaus. Mehr unter [unserer Seite](https://example.org).",
        "field_of_action": "education",
        "tags": "Sprache, Café",
        "event_languages": ["de", "ar"],
        "content_language": "de",
        "start_date": day.isoformat(),
        "start_time": "18:30",
        "end_date": "",
        "end_time": "20:00",
        "repeat": "none",
        "repeat_interval": "1",
        "repeat_nth": "",
        "repeat_weekday": "",
        "place_name": "Hafenhaus",
        "place_address": "Schiffbrücke 1, 24939 Flensburg",
        "organiser": "Sprachtreff Flensburg e. V.",
        "contact_email": "kontakt@example.org",
        "link": "https://example.org/cafe",
        "submitter_email": "helferin@example.org",
        "mail_language": "de",
        "consent": "y",
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (64, 48), *, with_exif: bool = False
) -> bytes:
    """Return a small image file, optionally with camera and GPS metadata."""
    out = io.BytesIO()
    mode = "RGBA" if fmt == "PNG" else "RGB"
    img = Image.new(mode, size, (200, 30, 30))
    save: dict[str, Any] = {}
    if with_exif:
        exif = img.getexif()
        exif[0x010F] = "SpyCam"  # Make
        exif[0x0131] = "Secret Editor 1.0"  # Software
        save["exif"] = exif.tobytes()
    img.save(out, fmt, **save)
    return out.getvalue()


def post_multipart(client: Any, path: str, data: dict[str, Any]) -> Any:
    """POST a form as multipart/form-data; (stream, filename) tuples become files.

    Encoded in memory: the test client would spool a large body to a temporary file
    that is never closed when the app refuses the body early.
    """
    values: MultiDict[str, Any] = MultiDict()
    for key, value in data.items():
        if isinstance(value, tuple):
            value = FileStorage(stream=value[0], filename=value[1], name=key)
        for one in value if isinstance(value, list) else [value]:
            values.add(key, one)
    boundary, body = encode_multipart(values)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")
