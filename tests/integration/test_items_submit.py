"""The public submission form: a good submission, and every bad input the issue lists."""

from __future__ import annotations

import io
import re
import struct
import zlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from newsticker.core.mailqueue import QueuedMail
from newsticker.core.tokens import token_digest
from newsticker.items.models import Item, ItemAudit
from tests.factories import (
    event_form,
    image_bytes,
    make_item,
    post_multipart,
    today,
)

pytestmark = pytest.mark.usefixtures("no_csrf")


def counts(db) -> tuple[int, int]:
    """Return (items, queued mails)."""
    return (
        db.scalar(select(func.count()).select_from(Item)),
        db.scalar(select(func.count()).select_from(QueuedMail)),
    )


def post(client, data: dict[str, Any]):
    return post_multipart(client, "/einreichen", data)


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    assert match, f"no error shown next to {field}"
    return match.group(1)


def assert_refused(response, db, status: int = 422) -> str:
    assert response.status_code == status
    assert counts(db) == (0, 0), "a refused submission must store and send nothing"
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- the good path


def test_form_page_is_accessible_and_german(client):
    html = client.get("/einreichen").get_data(as_text=True)
    assert '<html lang="de"' in html
    assert 'enctype="multipart/form-data"' in html and "novalidate" in html
    for name in ("title", "summary", "organiser", "submitter_email", "start_date", "image"):
        assert f'for="{name}"' in html, f"{name} has no label"
    assert "<legend>" in html
    assert "Datenschutzerklärung" in html or "Datenschutz" in html
    # The honeypot is hidden from people and assistive technology, but labelled.
    assert 'class="hp-field" aria-hidden="true"' in html
    assert 'for="website"' in html


def test_submission_is_stored_and_receipt_sent(client, db, caught):
    response = post(client, event_form())
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/einreichen/danke")
    item = db.scalars(select(Item)).one()
    assert item.status == "submitted"
    assert item.title == "Sprachcafé am Hafen"
    assert item.tags == ["Sprache", "Café"]
    assert item.event_languages == ["de", "ar"]
    assert item.starts_at.astimezone(item.starts_at.tzinfo).utcoffset() is not None
    assert item.consent_at is not None
    assert item.edit_token_digest and len(item.edit_token_digest) == 64
    assert db.scalars(select(ItemAudit.action)).all() == ["submitted"]
    mails = caught()
    assert len(mails) == 1
    mail = mails[0]
    assert mail.to == "helferin@example.org"
    assert mail.subject == "Wir haben Ihre Einreichung erhalten: Sprachcafé am Hafen"
    text = mail.body("plain")
    link = re.search(r"http://localhost/einreichung/([A-Za-z0-9_-]+)", text)
    assert link, text
    # Only the digest is stored, never the token itself.
    assert token_digest(link.group(1)) == item.edit_token_digest
    assert link.group(1) not in str(item.__dict__)
    thanks = client.get("/einreichen/danke").get_data(as_text=True)
    assert "helferin@example.org" in thanks


def test_receipt_in_english_when_chosen(client, db, caught):
    assert post(client, event_form(mail_language="en")).status_code == 303
    mail = caught()[0]
    assert mail.subject == "We received your submission: Sprachcafé am Hafen"
    assert "private link" in mail.body("plain")


def test_mail_failure_never_loses_the_submission(client, db):
    # No catcher: the relay is unreachable. The item is stored, the mail waits for a retry.
    assert post(client, event_form()).status_code == 303
    assert counts(db) == (1, 1)
    mail = db.scalars(select(QueuedMail)).one()
    assert mail.status == "pending" and mail.attempts == 1 and mail.last_error


def test_announcement_without_dates_gets_default_end(client, db):
    data = event_form(kind="announcement", start_date="", start_time="", end_time="")
    assert post(client, data).status_code == 303
    item = db.scalars(select(Item)).one()
    assert item.kind == "announcement" and item.starts_at is None
    assert item.visible_until == today() + timedelta(days=56)


def test_all_day_multi_day_event(client, db):
    start = today() + timedelta(days=20)
    data = event_form(
        all_day="y",
        start_time="",
        end_time="",
        end_date=(start + timedelta(days=1)).isoformat(),
        start_date=start.isoformat(),
    )
    assert post(client, data).status_code == 303
    item = db.scalars(select(Item)).one()
    assert item.all_day
    assert item.ends_at - item.starts_at == timedelta(days=2)


def test_round_table_submitted_through_the_form(client, db, monkeypatch):
    from datetime import UTC, datetime

    from newsticker.items import services

    monkeypatch.setattr(services, "current_time", lambda: datetime(2026, 12, 1, tzinfo=UTC))
    data = event_form(
        title="Runder Tisch Integration",
        start_date="2027-02-09",
        start_time="18:30",
        end_time="20:30",
        repeat="monthly",
        repeat_nth="2",
        repeat_weekday="1",
        repeat_months=["2", "4", "6", "9", "11", "12"],
        repeat_until="2027-12-31",
    )
    assert post(client, data).status_code == 303
    item = db.scalars(select(Item)).one()
    assert item.recurrence["nth"] == 2 and item.recurrence["months"] == [2, 4, 6, 9, 11, 12]
    dates = services.next_dates(
        item, now=services.current_time(), tz=services.ZoneInfo("Europe/Berlin")
    )
    local = [d.starts_at.astimezone(services.ZoneInfo("Europe/Berlin")) for d in dates]
    assert [(d.month, d.day, d.hour, d.minute) for d in local] == [
        (2, 9, 18, 30),
        (4, 13, 18, 30),
        (6, 8, 18, 30),
        (9, 14, 18, 30),
        (11, 9, 18, 30),
        (12, 14, 18, 30),
    ]


def test_possible_duplicate_is_flagged(client, db):
    data = event_form()
    assert post(client, data).status_code == 303
    assert post(client, event_form(title="  SPRACHCAFÉ   am hafen ")).status_code == 303
    first, second = db.scalars(select(Item).order_by(Item.id)).all()
    assert first.duplicate_of_id is None
    assert second.duplicate_of_id == first.id


def test_image_is_reencoded_without_metadata(client, db, app):
    original = image_bytes("JPEG", (2400, 1200), with_exif=True)
    assert b"SpyCam" in original
    data = event_form(image_alt="Menschen an einem Tisch")
    data["image"] = (io.BytesIO(original), "foto.jpg")
    assert post(client, data).status_code == 303
    item = db.scalars(select(Item)).one()
    assert item.image_file and item.image_file.endswith(".jpg")
    response = client.get(f"/angebote/bilder/{item.image_file}")
    body = response.get_data()
    response.close()
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    from PIL import Image

    with Image.open(io.BytesIO(body)) as img:
        assert img.size == (1600, 800)
        assert not img.info.get("exif")
    assert b"SpyCam" not in body
    assert client.get("/angebote/bilder/..%2Fsecret_key").status_code == 404


# ---------------------------------------------------------------- bad input


def test_missing_required_fields(client, db):
    data = event_form(title="", summary="", organiser="", submitter_email="", consent=None)
    html = assert_refused(post(client, data), db)
    assert 'id="error-summary"' in html and "Bitte prüfen Sie Ihre Eingaben" in html
    assert field_error(html, "title") == "Bitte geben Sie einen Titel ein."
    assert field_error(html, "organiser") == "Bitte geben Sie an, wer das veranstaltet."
    assert field_error(html, "submitter_email") == "Bitte geben Sie Ihre E-Mail-Adresse ein."
    assert "Veröffentlichung" in field_error(html, "consent")
    # Values are kept on error.
    assert 'value="Hafenhaus"' in html


def test_missing_required_fields_in_english(client, db):
    client.set_cookie("newsticker_lang", "en")
    html = assert_refused(post(client, event_form(title="")), db)
    assert field_error(html, "title") == "Please enter a title."


def test_event_without_date(client, db):
    html = assert_refused(post(client, event_form(start_date="", start_time="")), db)
    assert field_error(html, "start_date") == "Bitte geben Sie das Datum der Veranstaltung an."


def test_end_before_start(client, db):
    html = assert_refused(post(client, event_form(start_time="18:00", end_time="17:00")), db)
    assert field_error(html, "end_date") == "Das Ende darf nicht vor dem Beginn liegen."


def test_event_more_than_two_years_ahead(client, db):
    far = today() + timedelta(days=2 * 366 + 1)
    html = assert_refused(post(client, event_form(start_date=far.isoformat())), db)
    assert "mehr als 2 Jahren" in field_error(html, "start_date")


def test_event_in_the_past(client, db):
    past = today() - timedelta(days=3)
    html = assert_refused(post(client, event_form(start_date=past.isoformat())), db)
    assert "in der Vergangenheit" in field_error(html, "start_date")


@pytest.mark.parametrize(
    "address",
    [
        "keine-adresse",
        "a@b",
        "name@@example.org",
        "name@example..org",
        "x@localhost",
        "a b@example.org",
    ],
)
def test_invalid_email_address(client, db, address):
    html = assert_refused(post(client, event_form(submitter_email=address)), db)
    assert "E-Mail-Adresse" in field_error(html, "submitter_email")


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>x</script>",
        "ftp://example.org",
    ],
)
def test_link_with_a_dangerous_scheme(client, db, link):
    html = assert_refused(post(client, event_form(link=link)), db)
    assert field_error(html, "link") == (
        "Bitte geben Sie eine Webadresse ein, die mit https:// oder http:// beginnt."
    )


def test_markdown_link_with_javascript_is_rendered_inert(client, db):
    data = event_form(description="[klick](javascript:alert(1)) und [gut](https://example.org)")
    assert post(client, data).status_code == 303
    item = db.scalars(select(Item)).one()
    item.status = "approved"
    db.flush()
    html = client.get(f"/angebote/{item.id}").get_data(as_text=True)
    assert 'href="javascript' not in html
    assert '<a href="https://example.org" rel="noopener nofollow">gut</a>' in html


def test_html_and_script_are_stored_sanitised_and_shown_inert(client, db):
    data = event_form(
        title="<b>Fest</b> <script>alert(1)</script>der Kulturen",
        summary='Hallo <img src=x onerror="alert(1)">Welt & mehr',
        description="<script>alert(2)</script>**fett** <iframe src=//evil></iframe>",
        organiser="<a href='javascript:x'>Verein</a>",
    )
    assert post(client, data).status_code == 303
    item = db.scalars(select(Item)).one()
    assert item.title == "Fest der Kulturen"
    assert item.summary == "Hallo Welt & mehr"
    assert "<script" not in item.description and "iframe" not in item.description
    assert item.organiser == "Verein"
    item.status = "approved"
    db.flush()
    html = client.get(f"/angebote/{item.id}").get_data(as_text=True)
    assert "<script>alert" not in html and "onerror" not in html
    assert "<strong>fett</strong>" in html


def test_script_only_title_counts_as_missing(client, db):
    html = assert_refused(post(client, event_form(title="<script>alert(1)</script>")), db)
    assert field_error(html, "title") == "Bitte geben Sie einen Titel ein."


def test_title_of_ten_thousand_characters(client, db):
    html = assert_refused(post(client, event_form(title="A" * 10_000)), db)
    assert field_error(html, "title") == "Bitte verwenden Sie höchstens 200 Zeichen."


def test_image_of_twenty_megabytes(client, db):
    data = event_form(image_alt="Foto")
    data["image"] = (io.BytesIO(b"\xff\xd8\xff" + b"0" * (20 * 1024 * 1024)), "gross.jpg")
    html = assert_refused(post(client, data), db, status=413)
    assert "höchstens 8 MB" in html


def test_image_over_the_limit_but_under_the_request_limit(client, db):
    data = event_form(image_alt="Foto")
    data["image"] = (io.BytesIO(b"\xff\xd8\xff" + b"0" * (9 * 1024 * 1024)), "gross.jpg")
    html = assert_refused(post(client, data), db)
    assert "höchstens 8 MB" in field_error(html, "image")


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"%PDF-1.4 not an image", "flyer.jpg"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.png"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "anim.gif"),
        (b"\xff\xd8\xff\xe0 truncated jpeg", "kaputt.jpg"),
    ],
)
def test_file_that_is_not_an_image(client, db, content, name):
    data = event_form(image_alt="Foto")
    data["image"] = (io.BytesIO(content), name)
    html = assert_refused(post(client, data), db)
    assert "kein Bild" in field_error(html, "image")


def png_bomb(width: int, height: int) -> bytes:
    """Return a tiny PNG whose header claims a huge canvas."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(50_000, 50_000), (9_000, 9_000)])
def test_image_bomb(client, db, size):
    data = event_form(image_alt="Foto")
    data["image"] = (io.BytesIO(png_bomb(*size)), "bomb.png")
    html = assert_refused(post(client, data), db)
    assert "zu viele Pixel" in field_error(html, "image")


def test_image_without_description(client, db):
    data = event_form(image_alt="")
    data["image"] = (io.BytesIO(image_bytes()), "foto.jpg")
    html = assert_refused(post(client, data), db)
    assert "Bild" in field_error(html, "image_alt")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "Fest\r\nBcc: victim@example.org"),
        ("title", "Fest\nder Kulturen"),
        ("organiser", "Verein\rX-Injected: yes"),
        ("contact_name", "Anna\u2028Bcc: x@example.org"),
        ("place_name", "Halle\u202eevil"),
        ("submitter_email", "helferin@example.org\r\nBcc: victim@example.org"),
        ("contact_email", "kontakt@example.org\nBcc: x@example.org"),
    ],
)
def test_line_breaks_in_fields_that_reach_mail_headers(client, db, field, value):
    html = assert_refused(post(client, event_form(**{field: value})), db)
    message = field_error(html, field)
    assert "Zeilenumbr" in message or "Steuerzeichen" in message


def test_recurrence_without_end_is_refused(client, db):
    html = assert_refused(post(client, event_form(repeat="weekly")), db)
    assert "muss enden" in field_error(html, "repeat")


def test_recurrence_that_yields_no_date(client, db):
    start = today() + timedelta(days=14)
    data = event_form(
        repeat="weekly",
        repeat_count="1",
        repeat_exceptions=start.strftime("%d.%m.%Y"),
    )
    html = assert_refused(post(client, data), db)
    assert "keinen einzigen Termin" in field_error(html, "repeat")


def test_recurrence_spanning_too_many_years(client, db):
    start = today() + timedelta(days=14)
    data = event_form(repeat="weekly", repeat_until=(start + timedelta(days=6 * 366)).isoformat())
    html = assert_refused(post(client, data), db)
    assert "Jahre" in field_error(html, "repeat")


def test_recurrence_with_too_many_dates(client, db):
    html = assert_refused(post(client, event_form(repeat="weekly", repeat_count="100000")), db)
    assert "500" in field_error(html, "repeat_count")


def test_recurrence_exception_that_is_not_a_date(client, db):
    data = event_form(repeat="weekly", repeat_count="5", repeat_exceptions="Weihnachten")
    html = assert_refused(post(client, data), db)
    assert "kein Datum" in field_error(html, "repeat_exceptions")


def test_unknown_choice_values(client, db):
    html = assert_refused(
        post(client, event_form(field_of_action="space", event_languages=["xx"])), db
    )
    assert field_error(html, "field_of_action")
    assert field_error(html, "event_languages")


def test_honeypot_filled_in(client, db):
    html = assert_refused(post(client, event_form(website="https://spam.example")), db)
    assert "Bitte lassen Sie dieses Feld leer." in html.split('id="error-summary"')[1]


# ---------------------------------------------------------------- spam guards


def test_post_without_csrf_token_is_refused(app, client, db):
    app.config["WTF_CSRF_ENABLED"] = True
    response = post(client, event_form())
    assert response.status_code == 400
    assert "Formular" in response.get_data(as_text=True)
    assert counts(db) == (0, 0)


def test_post_with_csrf_token_from_the_page(app, client, db):
    app.config["WTF_CSRF_ENABLED"] = True
    html = client.get("/einreichen").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', html).group(1)
    response = post(client, event_form(csrf_token=token, started=started))
    assert response.status_code == 303
    assert counts(db)[0] == 1


class TestMinimumFillTime:
    @pytest.fixture
    def settings_overrides(self):
        return {"rate_limits.min_fill_seconds": 30}

    def test_too_fast_is_refused(self, client, db):
        html = client.get("/einreichen").get_data(as_text=True)
        started = re.search(r'name="started" type="hidden" value="([^"]+)"', html).group(1)
        html = assert_refused(post(client, event_form(started=started)), db)
        assert "sehr schnell ausgefüllt" in html

    def test_missing_or_forged_stamp_is_refused(self, client, db):
        html = assert_refused(post(client, event_form(started="forged.stamp")), db)
        assert "sehr schnell ausgefüllt" in html

    def test_slow_enough_is_accepted(self, client, db, monkeypatch):
        import time as time_module

        html = client.get("/einreichen").get_data(as_text=True)
        started = re.search(r'name="started" type="hidden" value="([^"]+)"', html).group(1)
        real = time_module.time
        monkeypatch.setattr(time_module, "time", lambda: real() + 45)
        assert post(client, event_form(started=started)).status_code == 303


class TestRateLimit:
    @pytest.fixture
    def settings_overrides(self):
        return {"rate_limits.submit_per_ip": "1 per hour"}

    def test_second_submission_within_the_limit(self, client, db):
        assert post(client, event_form()).status_code == 303
        before = counts(db)
        response = post(client, event_form(title="Noch eine"))
        assert response.status_code == 429
        assert "mehrere Einreichungen" in response.get_data(as_text=True)
        assert counts(db) == before

    def test_failed_attempts_do_not_count(self, client, db):
        assert post(client, event_form(title="")).status_code == 422
        assert post(client, event_form()).status_code == 303


def test_per_address_limit_on_receipts(client, db):
    from newsticker.items.services import RECEIPTS_PER_ADDRESS

    for n in range(RECEIPTS_PER_ADDRESS):
        make_item(db, title=f"Früher {n}", status="submitted")
    for _n in range(RECEIPTS_PER_ADDRESS):
        db.add(
            QueuedMail(
                purpose="item_receipt",
                to_addr="helferin@example.org",
                sender="x@example.org",
                subject="s",
                text="t",
                message_id="<m@x>",
                headers={},
            )
        )
    db.flush()
    before = counts(db)
    response = post(client, event_form())
    assert response.status_code == 429
    assert "Bestätigungsmails" in response.get_data(as_text=True)
    assert counts(db) == before
    # Another address is not affected.
    assert post(client, event_form(submitter_email="andere@example.org")).status_code == 303
