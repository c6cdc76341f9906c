"""Read subscriber lists from CSV files: encoding, delimiter, header, rows.

Reading is the first of two steps: `read_import` turns the bytes of an uploaded file
into rows, and `classify_rows` (subscribers.csvcheck) decides for each row whether it is
imported or reported. Neither touches the database. Writing safe CSV files lives in
subscribers.csvwrite and the demo file in subscribers.csvdemo; this module re-exports
their names, so `from subscribers.csvio import ...` keeps working for all of them.
"""

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from newsticker.core.errors import UserError
from newsticker.core.i18n import lazy_gettext as _l
from subscribers.csvcheck import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    NAME_MAX_LENGTH,
    AcceptedRow,
    ImportRow,
    ReportKind,
    ReportLine,
    classify_rows,
)
from subscribers.csvdemo import demo_import_rows
from subscribers.csvwrite import unescape_cell, write_export, write_report_csv

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


class ImportFileError(UserError):
    """A file that cannot be imported at all, with a message for the user."""


@dataclass(frozen=True, slots=True)
class ImportParse:
    """The rows of an import file and how the file was read."""

    rows: tuple[ImportRow, ...]
    encoding: str
    delimiter: str


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
        yield number, [unescape_cell(cell) for cell in record]


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
