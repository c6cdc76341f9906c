"""Tests for reading import files, classifying rows and writing safe CSV."""

import codecs
import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subscribers import csvio
from subscribers.addresses import address_key, suppression_hash
from subscribers.csvio import (
    AcceptedRow,
    ImportFileError,
    ImportRow,
    ReportLine,
    classify_rows,
    demo_import_rows,
    read_import,
    write_export,
    write_report_csv,
)

SALT = b"test-salt-0123456789"


def classify(
    rows: tuple[ImportRow, ...] | list[ImportRow],
    existing: dict[str, str] | None = None,
    suppressed: set[str] | None = None,
) -> tuple[list[AcceptedRow], list[ReportLine]]:
    return classify_rows(
        rows,
        existing_keys=existing or {},
        suppressed_hashes=suppressed or set(),
        salt=SALT,
    )


def row(number: int, email: str, name: str = "", language: str = "") -> ImportRow:
    return ImportRow(number, email, name, language)


# Reading: encodings


def test_utf8_with_bom() -> None:
    data = codecs.BOM_UTF8 + "E-Mail;Name\r\nj@example.org;Jürgen Müller\r\n".encode()
    parsed = read_import(data)
    assert parsed.encoding == "utf-8-sig"
    assert parsed.rows == (ImportRow(2, "j@example.org", "Jürgen Müller", ""),)


def test_utf8_without_bom() -> None:
    parsed = read_import("email,name\nj@example.org,Jürgen Müller\n".encode())
    assert parsed.encoding == "utf-8"
    assert parsed.rows[0].name == "Jürgen Müller"


def test_windows_1252_from_excel() -> None:
    text = "E-Mail;Name;Sprache\r\nk@example.org;Käthe Schröder – Büro;de\r\n"
    parsed = read_import(text.encode("cp1252"))
    assert parsed.encoding == "cp1252"
    assert parsed.delimiter == ";"
    assert parsed.rows == (ImportRow(2, "k@example.org", "Käthe Schröder – Büro", "de"),)


@pytest.mark.parametrize(
    "data",
    [
        b"email\r\n\x81\x8d\x8f\r\n",  # bytes undefined in cp1252 and invalid UTF-8
        codecs.BOM_UTF8 + b"email\r\n\xff\r\n",  # claims UTF-8, is not
        codecs.BOM_UTF16_LE + "email\r\na@example.org\r\n".encode("utf-16-le"),
        "email\r\na@example.org\r\n".encode("utf-16-le"),  # NUL bytes
    ],
)
def test_undecodable_file_is_refused(data: bytes) -> None:
    with pytest.raises(ImportFileError, match="could not be read as text"):
        read_import(data)


@pytest.mark.parametrize("magic", [b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"])
def test_workbook_is_refused_with_advice(magic: bytes) -> None:
    with pytest.raises(ImportFileError, match="not a CSV file"):
        read_import(magic + b"\x14\x00\x06\x00rest of a workbook")


# Reading: structure


def test_mixed_line_endings() -> None:
    data = b"email,name\r\na@example.org,A\nb@example.org,B\rc@example.org,C\r\n"
    parsed = read_import(data)
    assert [(r.row_number, r.email_raw, r.name) for r in parsed.rows] == [
        (2, "a@example.org", "A"),
        (3, "b@example.org", "B"),
        (4, "c@example.org", "C"),
    ]


def test_quoted_line_break_stays_one_spreadsheet_row() -> None:
    data = b'email;name\r\na@example.org;"two\r\nlines"\r\nb@example.org;B\r\n'
    parsed = read_import(data)
    assert [(r.row_number, r.name) for r in parsed.rows] == [
        (2, "two\r\nlines"),
        (3, "B"),
    ]


def test_blank_rows_are_skipped_but_counted() -> None:
    data = b"\r\nemail;name\r\n\r\na@example.org;A\r\n;\r\n  ;  \r\nb@example.org;B"
    parsed = read_import(data)
    assert [r.row_number for r in parsed.rows] == [4, 7]


def test_excel_separator_hint_line() -> None:
    # Excel hides the hint line, so the header is still row 1.
    data = b"sep=,\r\nE-Mail,Name\r\na@example.org,Jensen; Ole; Bo; Kai\r\n"
    parsed = read_import(data)
    assert parsed.delimiter == ","
    assert parsed.rows == (ImportRow(2, "a@example.org", "Jensen; Ole; Bo; Kai", ""),)


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        # Commas in names must not fool the sniffer in a semicolon file.
        ('E-Mail;Name\r\na@example.org;"Müller, Hans"\r\nb@example.org;Lena\r\n', ";"),
        ("E-Mail;Name\r\na@example.org;Müller, Hans, Dr.\r\n", ";"),
        ('email,name\r\na@example.org,"Hansen; Ole"\r\n', ","),
        ("email\r\na@example.org\r\n", ";"),
    ],
)
def test_delimiter_is_found(text: str, delimiter: str) -> None:
    parsed = read_import(text.encode())
    assert parsed.delimiter == delimiter
    assert parsed.rows[0].email_raw == "a@example.org"


@pytest.mark.parametrize(
    "header",
    [
        "email",
        "E-Mail",
        "E-Mail-Adresse",
        "e-mail-adresse",
        "MAIL",
        "Email Address",
        "e_mail",
        " E-Mail ",
    ],
)
def test_email_header_variants(header: str) -> None:
    parsed = read_import(f"Nr;{header};Sprache\r\n1;a@example.org;en\r\n".encode())
    assert parsed.rows == (ImportRow(2, "a@example.org", "", "en"),)


@pytest.mark.parametrize("header", ["language", "Sprache", "LANG"])
def test_language_header_variants(header: str) -> None:
    parsed = read_import(f"email,{header}\na@example.org,en\n".encode())
    assert parsed.rows[0].language == "en"


def test_first_and_last_name_columns_are_combined() -> None:
    data = "Nachname;Vorname;E-Mail\r\nYılmaz;Ayşe;a@example.org\r\n;Ole;o@example.org"
    parsed = read_import(data.encode())
    assert [r.name for r in parsed.rows] == ["Ayşe Yılmaz", "Ole"]


def test_short_rows_get_empty_cells() -> None:
    parsed = read_import(b"name;language;email\r\nAnna\r\n")
    assert parsed.rows == (ImportRow(2, "", "Anna", ""),)


@pytest.mark.parametrize(
    "data",
    [
        b"name;sprache\r\nAnna;de\r\n",
        b"a@example.org;Anna\r\nb@example.org;Ben\r\n",
        b"emails;mailing\r\nx;y\r\n",
    ],
)
def test_header_without_email_column_is_refused(data: bytes) -> None:
    with pytest.raises(ImportFileError) as excinfo:
        read_import(data)
    assert '"E-Mail"' in str(excinfo.value)


@pytest.mark.parametrize(
    "data", [b"", b"   ", b"\r\n\r\n", codecs.BOM_UTF8, codecs.BOM_UTF8 + b"\n"]
)
def test_empty_file_is_refused(data: bytes) -> None:
    with pytest.raises(ImportFileError, match="The file is empty."):
        read_import(data)


def test_header_only_file_is_refused() -> None:
    with pytest.raises(ImportFileError, match="no addresses"):
        read_import(b"E-Mail;Name\r\n;\r\n")


def test_oversized_file_is_refused_before_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def must_not_decode(data: bytes) -> tuple[str, str]:
        raise AssertionError("an oversized file must not be decoded")

    monkeypatch.setattr(csvio, "_decode", must_not_decode)
    data = b"email\r\n" + b"someone@example.org\r\n" * (50 * 1024 * 1024 // 21)
    assert len(data) > 50_000_000
    with pytest.raises(ImportFileError) as excinfo:
        read_import(data)
    assert "at most 20 MB" in str(excinfo.value)


def test_size_limit_is_inclusive() -> None:
    data = b"email\r\na@example.org\r\n"
    assert read_import(data, max_bytes=len(data)).rows
    with pytest.raises(ImportFileError, match="too large"):
        read_import(data, max_bytes=len(data) - 1)


def test_broken_csv_names_the_row() -> None:
    data = b"email\r\na@example.org\r\n" + b"x" * (csv.field_size_limit() + 1)
    with pytest.raises(ImportFileError, match=r"row 3"):
        read_import(data)


def test_exported_formula_cells_import_unchanged() -> None:
    exported = write_export([["=1+1@example.org", "-Anna", "en"]], ["E-Mail", "Name", "Sprache"])
    assert "'=1+1@example.org" in exported
    parsed = read_import(exported.encode())
    assert parsed.rows == (ImportRow(2, "=1+1@example.org", "-Anna", "en"),)


# Classifying


def test_accepted_row_is_normalised() -> None:
    accepted, report = classify([row(2, " Anna@Example.ORG ", " Anna  Schmidt ", "EN")])
    assert report == []
    assert accepted == [
        AcceptedRow(
            row_number=2,
            email="Anna@example.org",
            key="anna@example.org",
            name="Anna Schmidt",
            language="en",
            existing_status=None,
        )
    ]


@pytest.mark.parametrize(("raw", "expected"), [("", "de"), ("  ", "de"), ("De", "de")])
def test_language_defaults_to_german(raw: str, expected: str) -> None:
    accepted, _ = classify([row(2, "a@example.org", language=raw)])
    assert accepted[0].language == expected


@pytest.mark.parametrize("name", ["", "-", " – "])
def test_placeholder_names_become_empty(name: str) -> None:
    accepted, _ = classify([row(2, "a@example.org", name)])
    assert accepted[0].name == ""


def test_invalid_address_is_reported_with_reason() -> None:
    accepted, report = classify([row(5, "anna(at)example.org")])
    assert accepted == []
    [line] = report
    assert (line.row_number, line.value, line.kind) == (5, "anna(at)example.org", "invalid")
    assert "exactly one @" in str(line.reason)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Anna\r\nBcc: x@example.org", "line break"),
        ("Anna\nSchmidt", "line break"),
        ("Anna\rSchmidt", "line break"),
        ("Anna\x00", "control character"),
        ('=HYPERLINK("http://x.example")', "formula"),
        ("+49 461 85-0", "formula"),
        ("-1+2", "formula"),
        ("@SUMME(A1)", "formula"),
        ("x" * 201, "at most 200 characters"),
    ],
)
def test_bad_name_is_reported(name: str, fragment: str) -> None:
    accepted, [line] = classify([row(2, "a@example.org", name)])
    assert accepted == []
    assert (line.kind, line.value) == ("invalid", name)
    assert fragment in str(line.reason)


@pytest.mark.parametrize("language", ["fr", "deutsch", "de-DE", "english"])
def test_unknown_language_is_reported(language: str) -> None:
    _, [line] = classify([row(2, "a@example.org", language=language)])
    assert (line.kind, line.value) == ("invalid", language)
    assert f'"{language}"' in str(line.reason)


def test_duplicate_names_the_first_row() -> None:
    accepted, report = classify(
        [
            row(2, "bad address"),
            row(3, "a@example.org", "=bad name"),
            row(4, "A@Example.org"),
            row(5, "a@example.org"),
            row(6, "a@EXAMPLE.ORG "),
        ]
    )
    assert [r.row_number for r in accepted] == [4]
    assert [(line.row_number, line.kind) for line in report] == [
        (2, "invalid"),
        (3, "invalid"),
        (5, "duplicate"),
        (6, "duplicate"),
    ]
    assert "row 4" in str(report[2].reason)


def test_suppressed_address_is_reported() -> None:
    suppressed = {suppression_hash("erased@example.org", SALT)}
    accepted, [line] = classify([row(2, "Erased@Example.org")], suppressed=suppressed)
    assert accepted == []
    assert line.kind == "suppressed"
    assert "erased" in str(line.reason)


@pytest.mark.parametrize(
    ("status", "kind"),
    [("unsubscribed", "unsubscribed"), ("bounced", "unsubscribed"), ("confirmed", "unchanged")],
)
def test_existing_subscribers_are_reported(status: str, kind: str) -> None:
    existing = {address_key("known@example.org"): status}
    accepted, [line] = classify([row(2, "KNOWN@example.org")], existing=existing)
    assert accepted == []
    assert (line.kind, line.value) == (kind, "KNOWN@example.org")


def test_pending_subscriber_is_accepted_for_update() -> None:
    existing = {address_key("known@example.org"): "pending"}
    [accepted], report = classify([row(2, "known@example.org")], existing=existing)
    assert report == []
    assert accepted.existing_status == "pending"


def test_unknown_status_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="status"):
        classify([row(2, "a@example.org")], existing={"a@example.org": "deleted"})


def test_reimport_is_idempotent() -> None:
    data, _, _ = demo_import_rows()
    rows = read_import(data).rows
    first, _ = classify(rows)
    existing = {r.key: "confirmed" for r in first}
    second, report = classify(rows, existing=existing)
    assert second == []
    assert sum(line.kind == "unchanged" for line in report) == len(first)


# Writing


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+49 461", "'+49 461"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("'=x", "''=x"),
        ("a=b", "a=b"),
        ("Anna", "Anna"),
        ("", ""),
        ("'plain", "'plain"),
    ],
)
def test_export_neutralises_formula_cells(value: str, written: str) -> None:
    text = write_export([[value, "x"]], ["E-Mail", "Name"])
    cells = list(csv.reader(io.StringIO(text, newline="")))
    assert cells == [["E-Mail", "Name"], [written, "x"]]


def test_export_header_is_protected_too_and_uses_crlf() -> None:
    text = write_export([[1, None]], ["=Header", "b"], delimiter=";")
    assert text == "'=Header;b\r\n1;\r\n"


def test_report_csv() -> None:
    _, report = classify([row(2, "a@example.org"), row(3, "a@example.org"), row(4, "=x@")])
    text = write_report_csv(report)
    cells = list(csv.reader(io.StringIO(text, newline="")))
    assert cells[0] == ["Row", "Value", "Problem", "Reason"]
    assert cells[1][:3] == ["3", "a@example.org", "duplicate"]
    assert cells[2][:3] == ["4", "'=x@", "invalid"]
    assert "row 2" in cells[1][3]


# The demo file


def test_demo_file_classifies_into_470_and_30() -> None:
    data, good, bad = demo_import_rows()
    assert (good, bad) == (470, 30)
    assert data.startswith(codecs.BOM_UTF8)
    parsed = read_import(data)
    assert (parsed.encoding, parsed.delimiter, len(parsed.rows)) == ("utf-8-sig", ";", 500)
    accepted, report = classify(parsed.rows)
    assert (len(accepted), len(report)) == (470, 30)
    assert {line.kind for line in report} == {"invalid", "duplicate"}
    reasons = " ".join(str(line.reason) for line in report)
    for fragment in ("line break", "formula", "Unknown language", "exactly one @"):
        assert fragment in reasons
    assert any("ü" in r.name or "ö" in r.name for r in accepted)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 99])
def test_demo_file_counts_hold_for_any_seed(seed: int) -> None:
    data, good, bad = demo_import_rows(seed)
    accepted, report = classify(read_import(data).rows)
    assert (len(accepted), len(report)) == (good, bad) == (470, 30)


def test_demo_file_is_deterministic() -> None:
    assert demo_import_rows(7) == demo_import_rows(7)
    assert demo_import_rows(7)[0] != demo_import_rows(8)[0]


def test_demo_file_mails_only_reserved_domains() -> None:
    data, _, _ = demo_import_rows()
    accepted, _ = classify(read_import(data).rows)
    reserved = {"example.org", "example.com", "example.net", "mail.example.org"}
    assert {r.email.rpartition("@")[2] for r in accepted} <= reserved


# Property: export then import loses nothing, and every row has one outcome

# No NUL (a file with NUL bytes is refused as binary), and only what UTF-8 can
# encode (no lone surrogates).
cell_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
emailish = st.one_of(
    st.emails(),
    st.from_regex(r"[a-zA-Z0-9äöü.+-]{1,12}@[a-z0-9-]{1,10}\.(de|org)", fullmatch=True),
    cell_text,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(emailish, cell_text), min_size=1, max_size=20),
    bom=st.booleans(),
    delimiter=st.sampled_from([",", ";"]),
)
def test_export_then_import_round_trips(
    rows: list[tuple[str, str]], bom: bool, delimiter: str
) -> None:
    text = write_export(rows, ["E-Mail", "Name"], delimiter=delimiter)
    data = text.encode("utf-8-sig" if bom else "utf-8")
    expected = [
        ImportRow(number, email, name, "")
        for number, (email, name) in enumerate(rows, start=2)
        if email.strip() or name.strip()
    ]
    if not expected:
        with pytest.raises(ImportFileError):
            read_import(data)
        return
    parsed = read_import(data)
    assert list(parsed.rows) == expected

    accepted, report = classify(parsed.rows)
    outcomes = [r.row_number for r in accepted] + [line.row_number for line in report]
    assert sorted(outcomes) == [r.row_number for r in expected]


@pytest.mark.parametrize("language", ["ar", "fa", "uk", "tr", " TR "])
def test_every_interface_language_is_accepted(language: str) -> None:
    accepted, lines = classify([row(2, "a@example.org", language=language)])
    assert lines == [] and accepted[0].language == language.strip().casefold()


def test_an_unknown_language_names_the_six_that_work() -> None:
    _, [line] = classify([row(2, "a@example.org", language="pl")])
    assert "de, en, ar, fa, uk, tr" in str(line.reason)
