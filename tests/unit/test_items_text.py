"""Folding for search and duplicates, and cleaning of submitted text."""

from __future__ import annotations

import pytest

from newsticker.items.forms import clean_text
from newsticker.items.services import fold, search_fold, search_text_of, search_words


def test_fold_for_duplicates():
    assert fold("  Sprachcafé   AM\tHafen ") == "sprachcafé am hafen"
    assert fold("Straße") == "strasse"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Sprachcafé", "sprachcafe"),
        ("Bücherei Größe", "bucherei grosse"),
        ("ＦＵＬＬ width", "full width"),
        ("مَعْلُومَات", "معلومات"),  # Arabic vowel marks are optional in writing
    ],
)
def test_search_fold(text, folded):
    assert search_fold(text) == folded


def test_search_words():
    assert search_words("  Tee, KUCHEN! tee ") == ["tee", "kuchen"]
    assert search_words("") == []
    assert len(search_words(" ".join(f"w{n}" for n in range(30)))) == 8


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Fest  ", "Fest"),
        ("<b>Fest</b>", "Fest"),
        ("<script>alert(1)</script>Fest", "Fest"),
        ("Tom & Jerry", "Tom & Jerry"),
        ("a < b > c", "a < b > c"),
        ("Zeile 1\r\nZeile 2", "Zeile 1\nZeile 2"),
        (None, ""),
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_search_text_knows_both_umlaut_spellings():
    text = search_text_of("Frühstück für Familien")
    for query in ("frühstück", "fruhstuck", "fruehstueck", "FRÜHSTÜCK", "familien"):
        assert all(word in text for word in search_words(query)), query


def test_search_text_is_words_only_so_both_databases_split_it_alike():
    # PostgreSQL's parser keeps "flensburg.de" and "sprach-cafe" whole, FTS5 splits them.
    assert search_text_of("Sprach-Café, flensburg.de; Søren_Łukasz") == (
        "sprach cafe flensburg de soren lukasz"
    )
    assert search_words('NEAR("tee" OR -kuchen*)') == ["near", "tee", "or", "kuchen"]
    assert search_words('"*-') == []
