"""import-subscribers and export-subscribers: the demo list, bad files, idempotence, safety."""

from __future__ import annotations

import codecs
import csv
import io

import pytest
from sqlalchemy import select, text

from newsticker.core.db import utcnow
from subscribers import importing
from subscribers.addresses import address_key, normalise_address
from subscribers.csvio import demo_import_rows, read_import
from subscribers.models import SubscriberImport, Subscription
from subscribers.site import site_salts
from tests.factories import make_subscriber

NOTE = "Verteiler der Stabsstelle, Anmeldungen per Mail 2020-2025"


def table_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar()  # noqa: S608 (fixed names)
            for name in ("subscribers", "subscriptions", "consent_events", "subscriber_imports")
        }


EMPTY = {"subscribers": 0, "subscriptions": 0, "consent_events": 0, "subscriber_imports": 0}


def run_import(runner, path, *extra):
    return runner.invoke(
        "import-subscribers", str(path), "--publication", "ticker", "--consent-note", NOTE, *extra
    )


def test_demo_file_imports_exactly_the_good_rows_and_reports_each_bad_one(runner, engine, tmp_path):
    data, good, bad = demo_import_rows()
    assert (good, bad) == (470, 30)
    path = tmp_path / "verteiler.csv"
    path.write_bytes(data)

    result = run_import(runner, path, "--language", "en")
    assert result.exit_code == 0, result.output
    assert (
        "500 rows: imported 470, skipped 0 (already subscribed), not imported 30" in result.output
    )
    assert table_counts(engine) == {
        "subscribers": 470,
        "subscriptions": 470,
        "consent_events": 470,
        "subscriber_imports": 1,
    }
    with engine.connect() as conn:
        assert conn.execute(text("SELECT DISTINCT status FROM subscriptions")).scalars().all() == [
            "confirmed"
        ]
        notes = conn.execute(
            text("SELECT DISTINCT note, action, channel FROM consent_events")
        ).all()
        assert notes == [(NOTE, "imported", "import")]
        details = conn.execute(text("SELECT detail FROM consent_events")).scalars().all()
        assert all(d.startswith("verteiler.csv:") for d in details)

    # Each bad row is named in the output and in the report next to the file.
    report = (tmp_path / "verteiler-report.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(report)))
    assert len(rows) == 1 + 30
    reported = {int(r[0]) for r in rows[1:]}
    parsed = read_import(data)
    with engine.connect() as conn:
        imported_keys = set(conn.execute(text("SELECT email_key FROM subscribers")).scalars())

    for row in parsed.rows:
        if row.row_number in reported:
            assert f"row {row.row_number}:" in result.output
        else:
            assert address_key(normalise_address(row.email_raw)) in imported_keys
    assert len(reported) == 30
    kinds = {r[2] for r in rows[1:]}
    assert kinds == {"invalid", "duplicate"}


def test_reimport_changes_nothing(runner, engine, tmp_path):
    data, _good, _bad = demo_import_rows()
    path = tmp_path / "verteiler.csv"
    path.write_bytes(data)
    assert run_import(runner, path).exit_code == 0
    before = table_counts(engine)
    result = run_import(runner, path, "--language", "en")
    assert result.exit_code == 0, result.output
    assert "imported 0, skipped 470 (already subscribed), not imported 30" in result.output
    after = table_counts(engine)
    assert after == {**before, "subscriber_imports": before["subscriber_imports"] + 1}


def test_large_file_shows_progress_and_imports(runner, engine, tmp_path):
    path = tmp_path / "gross.csv"
    lines = "".join(f"person{n}@example.org;Person {n}\r\n" for n in range(2500))
    path.write_text("E-Mail;Name\r\n" + lines, encoding="utf-8")
    result = run_import(runner, path, "--language", "en")
    assert result.exit_code == 0, result.output
    assert "Checking rows" in result.output and "Saving" in result.output
    assert table_counts(engine)["subscribers"] == 2500


def test_dry_run_stores_nothing(runner, engine, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(demo_import_rows()[0])
    result = run_import(runner, path, "--dry-run", "--language", "en")
    assert result.exit_code == 0, result.output
    assert "would import 470" in result.output
    assert table_counts(engine) == EMPTY


def test_bom_windows_1252_and_mixed_line_endings(runner, engine, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(
        codecs.BOM_UTF8
        + "E-Mail;Name\r\na@example.org;Jürgen\nb@example.org;B\rc@example.org;C\r\n".encode()
    )
    assert run_import(runner, path).exit_code == 0
    latin = tmp_path / "latin.csv"
    latin.write_bytes("E-Mail;Name\r\nk@example.org;Käthe Schröder\r\n".encode("cp1252"))
    assert run_import(runner, latin).exit_code == 0
    with engine.connect() as conn:
        names = dict(conn.execute(text("SELECT email, name FROM subscribers")).all())
    assert names == {
        "a@example.org": "Jürgen",
        "b@example.org": "B",
        "c@example.org": "C",
        "k@example.org": "Käthe Schröder",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Die Datei ist leer."),
        (b"Name;Telefon\r\nAnna;0461\r\n", "eine davon muss „E-Mail“ heißen"),
        (b"PK\x03\x04 not really a workbook", "Arbeitsmappe"),
        (b"email\r\n", "keine Adressen"),
    ],
)
def test_unreadable_files_stop_with_a_message(runner, engine, tmp_path, content, message):
    path = tmp_path / "liste.csv"
    path.write_bytes(content)
    result = run_import(runner, path)
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert table_counts(engine) == EMPTY


def test_a_file_of_50_mb_is_refused_before_reading(runner, engine, tmp_path):
    path = tmp_path / "gross.csv"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    result = run_import(runner, path)
    assert result.exit_code == 1
    assert "Die Datei ist zu groß (50 MB)" in result.output
    assert table_counts(engine) == EMPTY


def test_formula_cells_are_reported_not_imported(runner, engine, tmp_path):
    path = tmp_path / "formeln.csv"
    path.write_text(
        'email,name\r\n"x@example.org","=HYPERLINK(""http://evil.example"",""klick"")"\r\n'
        "y@example.org,@SUMME(A1)\r\nz@example.org,Zoe\r\n",
        encoding="utf-8",
    )
    result = run_import(runner, path)
    assert result.exit_code == 0
    assert "Zeile 2:" in result.output and "Zeile 3:" in result.output
    assert "Formel" in result.output
    assert table_counts(engine)["subscribers"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--publication", "gibtsnicht", "--consent-note", NOTE], "unknown publication"),
        (["--publication", "ticker", "--consent-note", "  "], "--consent-note"),
        (["--publication", "ticker"], "--consent-note"),
    ],
)
def test_bad_arguments(runner, engine, tmp_path, args, message):
    path = tmp_path / "liste.csv"
    path.write_text("email\na@example.org\n", encoding="utf-8")
    result = runner.invoke("import-subscribers", str(path), *args)
    assert result.exit_code == 2
    assert message in result.output
    assert table_counts(engine) == EMPTY


def test_the_report_is_in_the_chosen_language_throughout(runner, engine, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_text("email,name\r\nkaputt,Anna\r\nz@example.org,Zoe\r\n", encoding="utf-8")
    german = run_import(runner, path, "--dry-run")
    assert german.exit_code == 0, german.output
    assert "Zeile 2: 'kaputt': Das ist keine gültige E-Mail-Adresse" in german.output
    assert "2 Zeilen: 1 zum Import bereit" in german.output
    assert "Bericht gespeichert unter" in german.output
    report = (tmp_path / "liste-report.csv").read_text(encoding="utf-8-sig")
    assert report.startswith("Zeile,")
    english = run_import(runner, path, "--dry-run", "--language", "en")
    assert "row 2: 'kaputt': This is not a valid e-mail address" in english.output
    assert (
        "2 rows: would import 1, skipped 0 (already subscribed), not imported 1" in english.output
    )
    assert "Report written to" in english.output
    assert "Zeile" not in english.output and "E-Mail-Adresse" not in english.output
    report = (tmp_path / "liste-report.csv").read_text(encoding="utf-8-sig")
    assert report.startswith("Row,")
    assert table_counts(engine) == EMPTY


def test_missing_file(runner):
    result = run_import(runner, "/nonexistent/liste.csv", "--language", "en")
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_export_is_formula_safe_and_reimports(runner, engine, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_text(
        "email;name;sprache\r\nz@example.org;Müller, Hans;en\r\na@example.org;;de\r\n",
        encoding="utf-8",
    )
    assert run_import(runner, path).exit_code == 0
    with engine.begin() as conn:
        # A name stored through another way (the form) that a spreadsheet would run.
        conn.execute(text("UPDATE subscribers SET name = '=1+1' WHERE email = 'a@example.org'"))
    result = runner.invoke("export-subscribers", "--publication", "ticker")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        lines[0]
        == "email,name,language,status,requested_at,confirmed_at,unsubscribed_at,bounced_at"
    )
    assert lines[1].startswith("a@example.org,'=1+1,de,confirmed,")
    assert lines[2].startswith('z@example.org,"Müller, Hans",en,confirmed,')
    out = tmp_path / "export.csv"
    assert (
        runner.invoke(
            "export-subscribers", "--publication", "ticker", "--output", str(out)
        ).exit_code
        == 0
    )
    parsed = read_import(out.read_bytes())
    assert [(r.email_raw, r.name) for r in parsed.rows] == [
        ("a@example.org", "=1+1"),
        ("z@example.org", "Müller, Hans"),
    ]


def test_export_of_an_unknown_publication(runner):
    result = runner.invoke("export-subscribers", "--publication", "nope")
    assert result.exit_code == 2


# ---------------------------------------------------------------- the service with the test db


def plan(app, db, data: bytes, publication: str = "ticker"):
    with app.test_request_context():
        return importing.plan_import(db, data, publication=publication, salts=site_salts())


def test_existing_states_decide_per_row(app, db):
    make_subscriber(db, "dabei@example.org", publications=("ticker",))
    make_subscriber(db, "weg@example.org", publications=("ticker",), status="unsubscribed")
    make_subscriber(db, "prallt@example.org", publications=("ticker",), status="bounced")
    make_subscriber(db, "wartet@example.org", publications=("ticker",), status="pending")
    make_subscriber(db, "gesperrt@example.org", publications=("newsletter",), blocked=True)
    make_subscriber(db, "nurnews@example.org", publications=("newsletter",))
    data = (
        b"email\ndabei@example.org\nWEG@example.org\nprallt@example.org\nwartet@example.org\n"
        b"gesperrt@example.org\nnurnews@example.org\nneu@example.org\n"
    )
    checked = plan(app, db, data)
    assert sorted(r.email for r in checked.accepted) == [
        "neu@example.org",
        "nurnews@example.org",
        "wartet@example.org",
    ]
    assert {line.row_number: line.kind for line in checked.report} == {
        2: "unchanged",
        3: "unsubscribed",
        4: "unsubscribed",
        6: "suppressed",
    }
    with app.test_request_context():
        result = importing.run_import(
            db, checked, publication="ticker", consent_note=NOTE, actor="t", channel="cli",
            filename="x.csv", now=utcnow(),
        )  # fmt: skip
    assert (result.imported, result.unchanged, result.rejected) == (3, 1, 3)
    statuses = {
        (s.subscriber.email, s.publication): s.status for s in db.scalars(select(Subscription))
    }
    assert statuses[("wartet@example.org", "ticker")] == "confirmed"
    assert statuses[("nurnews@example.org", "ticker")] == "confirmed"
    assert statuses[("nurnews@example.org", "newsletter")] == "confirmed"
    assert statuses[("neu@example.org", "ticker")] == "confirmed"
    assert statuses[("weg@example.org", "ticker")] == "unsubscribed"
    record = db.scalars(select(SubscriberImport)).one()
    assert (record.status, record.imported, record.rejected, record.data) == ("done", 3, 3, None)


def test_addresses_differing_in_case_or_normalisation_are_one_subscriber(app, db):
    composed, decomposed = "jürgen@example.org", "ju\u0308rgen@example.org"
    data = f"email\n{composed}\n{decomposed}\nJÜRGEN@EXAMPLE.ORG\n".encode()
    checked = plan(app, db, data)
    assert len(checked.accepted) == 1
    assert [line.kind for line in checked.report] == ["duplicate", "duplicate"]
