"""Folding text for duplicate keys and search; the full-text search of items.

One normaliser, in Python, for both databases: an item's stored search text and a
visitor's query go through the same folding (case, Unicode forms, accents and vowel
marks, German umlauts) and the same split into words, so a query matches whichever
spelling of a word the item used, and SQLite and PostgreSQL see the same words.

The databases' full-text engines then index those words (SQLite FTS5 over an
external-content table kept in step by triggers, PostgreSQL a tsvector column with a
GIN index; migration 0020 creates both) and rank the matches. Their own folding
(`remove_diacritics 2`, `unaccent`) has little left to do on folded text; it stays as
the engines' documented configuration. Because the stored text is only words and
spaces, the two engines' tokenisers agree on it, where on raw text they do not
(PostgreSQL keeps "flensburg.de" or "sprach-cafe" whole, FTS5 splits them).

A query is never handed to an engine as query syntax: its words are quoted one by one
("NEAR(", "OR", "-" or '"' are words or nothing), all must match, and every one
matches as a prefix ("sprach" finds "Sprachcafé", "frühstück" finds "frühstücken").
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import Float, FunctionElement, Integer, Subquery, bindparam, column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

MAX_SEARCH_WORDS = 8
# The FTS5 table over items.search_text (SQLite), the tsvector column (PostgreSQL).
FTS_TABLE = "items_fts"
SEARCH_VECTOR = "search_vector"

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
# Letters with a stroke or ligatures have no Unicode decomposition: fold them as
# PostgreSQL's unaccent does, so both databases (and both spellings) agree.
_UNDECOMPOSED = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th"}
)
# A word: letters and digits (of any script); everything else separates words.
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Return text case-folded, NFKC-normalised and with runs of space collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


def search_fold(text: str) -> str:
    """Return text folded for searching: as fold(), and without accents or vowel marks."""
    decomposed = unicodedata.normalize("NFKD", fold(text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", stripped).translate(_UNDECOMPOSED)


def _words(text: str) -> list[str]:
    return _WORD.findall(search_fold(text))


def search_text_of(text: str) -> str:
    """Return the folded words of a text, plus the "ae/oe/ue" spelling of German umlauts.

    A visitor may type "Frühstück", "Fruhstuck" or "Fruehstueck"; all three must match.
    Repeated words stay: how often a word occurs counts in the ranking.
    """
    plain = _words(text)
    known = set(plain)
    extra = [w for w in _words(text.translate(_UMLAUTS)) if w not in known]
    return " ".join([*plain, *dict.fromkeys(extra)])


def search_words(query: str) -> list[str]:
    """Return the distinct folded words of a search query (at most MAX_SEARCH_WORDS)."""
    return list(dict.fromkeys(_words(query[:200])))[:MAX_SEARCH_WORDS]


class _FullTextHits(FunctionElement[Any]):
    """The items whose search text matches words, as rows (item_id, rank).

    Its one argument is the folded words joined by single spaces. Each database
    compiles it to its own engine, so one construct serves both; the words become a
    query in SQL, so their value is the only thing that varies (SQLAlchemy's statement
    cache keeps one compiled form; the value is rendered as a quoted literal when the
    statement runs, see `search_matches`). Words are letters and digits only (see
    _WORD): no quote or operator in them to escape from, and both syntaxes have no
    operator spelt with letters.
    """

    name = "full_text_hits"
    inherit_cache = True


@compiles(_FullTextHits, "sqlite")
def _sqlite_hits(element: _FullTextHits, compiler: SQLCompiler, **kw: Any) -> str:
    words = compiler.process(element.clauses, **kw)
    # '"w1"* "w2"*': each word a quoted string, all required, each a prefix.
    query = f"""('"' || replace({words}, ' ', '"* "') || '"*')"""
    # The words are a bound parameter, the rest constant text; bm25() is lower for better.
    sql = "(SELECT rowid AS item_id, -bm25(items_fts) AS rank FROM items_fts WHERE items_fts MATCH "
    return f"{sql}{query})"


@compiles(_FullTextHits, "postgresql")
def _postgresql_hits(element: _FullTextHits, compiler: SQLCompiler, **kw: Any) -> str:
    words = compiler.process(element.clauses, **kw)
    # 'w1:* & w2:*': all words required, each a prefix.
    query = f"to_tsquery('simple', newsticker_unaccent(replace({words}, ' ', ':* & ') || ':*'))"
    # The words are a bound parameter, the rest constant text.
    sql = "(SELECT items.id AS item_id, ts_rank(items.search_vector, query) AS rank FROM items, "
    return f"{sql}{query} AS query WHERE items.search_vector @@ query)"


@compiles(_FullTextHits)
def _other_hits(element: _FullTextHits, compiler: SQLCompiler, **kw: Any) -> str:
    raise NotImplementedError(f"full-text search on {compiler.dialect.name}")


def search_matches(text: str) -> Subquery | None:
    """Return a subquery (item_id, rank) of the items matching every word, or None.

    None means the text has no words: the caller does not filter. A higher rank is a
    better match. Every word matches as a prefix ("frühstück" finds "frühstücken"; a
    word inside a compound, "Nachbarschaftsfrühstück", is not found).
    """
    words = search_words(text)
    if not words:
        return None
    # The words go into the statement as a literal when it runs (literal_execute; the
    # compiled form stays cached): a plan always sees them. Bound, PostgreSQL switched
    # to a generic plan once psycopg had prepared the statement (its fifth run), which
    # cannot turn unknown words into a tsquery, and scanned every item: 2 ms became 70
    # ms per statement at 100,000 items. Words are letters and digits only (_WORD).
    hits = _FullTextHits(
        bindparam("search_words", " ".join(words), unique=True, literal_execute=True)
    )
    found = hits.table_valued(column("item_id", Integer), column("rank", Float))
    return select(found.c.item_id, found.c.rank).subquery("search_matches")
