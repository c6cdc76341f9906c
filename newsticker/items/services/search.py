"""Folding text for duplicate keys and search: case, Unicode forms, accents, German umlauts.

The stored search text of an item and a visitor's query go through the same folding,
so a query matches whichever spelling of a word the item used.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import Subquery, literal, select

from newsticker.items.models import Item

MAX_SEARCH_WORDS = 8

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def fold(text: str) -> str:
    """Return text case-folded, NFKC-normalised and with runs of space collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


def search_fold(text: str) -> str:
    """Return text folded for searching: as fold(), and without accents or vowel marks."""
    decomposed = unicodedata.normalize("NFKD", fold(text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", stripped)


def search_text_of(text: str) -> str:
    """Return the folded words of a text, plus the "ae/oe/ue" spelling of German umlauts.

    A visitor may type "Frühstück", "Fruhstuck" or "Fruehstueck"; all three must match.
    """
    plain = search_fold(text)
    known = set(plain.split())
    extra = [w for w in search_fold(text.translate(_UMLAUTS)).split() if w not in known]
    return " ".join([plain, *dict.fromkeys(extra)]).strip()


def search_words(query: str) -> list[str]:
    """Return the distinct folded words of a search query (at most MAX_SEARCH_WORDS)."""
    words: list[str] = []
    for word in search_fold(query[:200]).split():
        word = word.strip(".,;:!?\"'()[]{}")
        if word and word not in words:
            words.append(word)
    return words[:MAX_SEARCH_WORDS]


def search_matches(text: str) -> Subquery | None:
    """Return a subquery (item_id, rank) of the items matching every word, or None.

    None means the text has no words: the caller does not filter. A higher rank is a
    better match.
    """
    words = search_words(text)
    if not words:
        return None
    query = select(Item.id.label("item_id"), literal(1.0).label("rank"))
    for word in words:
        query = query.where(Item.search_text.contains(word, autoescape=True))
    return query.subquery("search_matches")
