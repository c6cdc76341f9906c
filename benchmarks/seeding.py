"""What the benchmarks seed their databases with: the words of fake items, and rows.

items_search.py, feeds.py and load_directory.py each spread their items their own way
(their figures are compared with their own earlier runs); the vocabulary and the way an
item becomes an INSERT row are the same for all.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from newsticker.items.models import Item

TZ = ZoneInfo("Europe/Berlin")
GERMAN = [
    "Sprachcafé",
    "Begegnung",
    "Nachbarschaft",
    "Frühstück",
    "Beratung",
    "Familie",
    "Kinder",
    "Frauen",
    "Jugend",
    "Ausbildung",
    "Bewerbung",
    "Gesundheit",
    "Sport",
    "Musik",
    "Kochen",
    "Garten",
    "Ehrenamt",
    "Patenschaft",
    "Lesen",
    "Kultur",
    "Tanz",
    "Film",
    "Fahrrad",
    "Computer",
    "Hausaufgaben",
    "Integrationskurs",
    "Arbeit",
    "Wohnung",
    "Recht",
    "Elterncafé",
    "Spielplatz",
    "Bibliothek",
    "Stadtteil",
    "Fest",
    "Austausch",
    "Workshop",
    "Vortrag",
    "Ausflug",
]
ARABIC = ["مقهى", "اللغة", "لقاء", "الجيران", "فطور", "استشارة", "عائلة", "أطفال", "نساء", "شباب"]
UKRAINIAN = [
    "мовне",
    "кафе",
    "зустріч",
    "сусіди",
    "сніданок",
    "консультація",
    "родина",
    "діти",
    "жінки",
]
RARE = "Gebärdensprache"
FIELDS = ("work", "education", "health", "volunteering", "encounter", "general")
LANGS = ("de", "en", "ar", "fa", "uk", "tr", "ru", "da")


def item_row(item: Item) -> dict[str, Any]:
    """Return the item as an INSERT row, with the column defaults the ORM would apply."""
    row: dict[str, Any] = {}
    for column in Item.__table__.columns:
        if column.key == "id":
            continue
        value = getattr(item, column.key)
        if value is None and column.default is not None:
            arg = column.default.arg
            value = arg(None) if callable(arg) else arg
        row[column.key] = value
    return row
