"""The composer in the editor area: the good path and every bad input issue 5 lists."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail
from newsticker.issues.models import Issue, IssueEntry, KeyFigure
from newsticker.items.recurrence import Recurrence
from tests.factories import (
    local,
    make_issue,
    make_item,
    today,
)

pytestmark = pytest.mark.usefixtures("no_csrf")


@pytest.fixture
def issue(db):
    call = make_item(
        db,
        title="Lesepaten gesucht",
        kind="call",
        starts_at=None,
        ends_at=None,
        visible_until=today() + timedelta(days=30),
    )
    return make_issue(db, items=[make_item(db), call])


def mails(db) -> int:
    return db.scalar(select(func.count()).select_from(QueuedMail))


def reload(db, issue: Issue) -> Issue:
    db.expire_all()
    return db.get(Issue, issue.id)


def error_text(html: str) -> str:
    match = re.search(r'id="error-summary".*?</div>', html, re.S)
    assert match, "no error summary shown"
    return re.sub(r"<[^>]+>", " ", match.group(0))


# ---------------------------------------------------------------- pages


def test_composer_needs_login(client, issue):
    response = client.get(f"/redaktion/ausgaben/{issue.id}")
    assert response.status_code == 302
    assert "/redaktion/login" in response.headers["Location"]


def test_index_and_composer_pages(client, editor, issue):
    html = client.get("/redaktion/ausgaben").get_data(as_text=True)
    assert "<h1>Ausgaben</h1>" in html
    assert "Nächste Ausgabe entwerfen" in html  # the newsletter has no draft yet
    assert "Neue Beiträge in den Entwurf holen" in html  # the ticker has one
    html = client.get(f"/redaktion/ausgaben/{issue.id}").get_data(as_text=True)
    assert "Interkulturelles Frühstück" in html and "Lesepaten gesucht" in html
    assert 'name="version" value="' in html
    assert "<meter" in html
    assert "composer.js" in html
    assert "style=" not in html, "the site's CSP forbids inline styles"


@pytest.mark.parametrize(
    ("status", "link_text"),
    [("scheduled", "Versand"), ("sending", "Versand verfolgen"), ("sent", "Versandbericht")],
)
def test_composer_links_to_the_delivery_page_once_the_issue_is_on_its_way(
    client, editor, db, issue, status, link_text
):
    issue.status = status
    issue.scheduled_at = issue.sent_at = utcnow()
    db.commit()
    html = client.get(f"/redaktion/ausgaben/{issue.id}").get_data(as_text=True)
    assert f'<a href="/redaktion/versand/{issue.id}">{link_text}</a>' in html


def test_draft_page_has_no_delivery_link(client, editor, issue):
    html = client.get(f"/redaktion/ausgaben/{issue.id}").get_data(as_text=True)
    assert f"/redaktion/versand/{issue.id}" not in html


def test_draft_button_builds_a_draft_and_twice_adds_nothing(client, editor, db):
    make_item(db, title="Stadtteilfest")
    response = client.post("/redaktion/ausgaben/entwurf", data={"publication": "ticker"})
    assert response.status_code == 303
    issue = db.scalars(select(Issue)).one()
    assert [e.item.title for e in issue.entries] == ["Stadtteilfest"]
    response = client.post("/redaktion/ausgaben/entwurf", data={"publication": "ticker"})
    assert response.status_code == 303
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(IssueEntry)) == 1
    assert db.scalar(select(func.count()).select_from(Issue)) == 1


def test_draft_for_unknown_publication_is_refused(client, editor, db):
    response = client.post(
        "/redaktion/ausgaben/entwurf", data={"publication": "gibtsnicht"}, follow_redirects=True
    )
    assert "gibtsnicht" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Issue)) == 0


def test_save_subject_and_editorial(client, editor, db, issue):
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}",
        data={
            "version": issue.version,
            "subject": "Newsticker Nr. 1",
            "preheader": "Was los ist",
            "editorial": "Hallo **Flensburg**!",
        },
    )
    assert response.status_code == 303
    saved = reload(db, issue)
    assert (saved.subject, saved.preheader, saved.editorial) == (
        "Newsticker Nr. 1",
        "Was los ist",
        "Hallo **Flensburg**!",
    )
    assert saved.version == issue.version


def test_move_and_remove_entries_without_javascript(client, editor, db):
    items = [make_item(db, title=f"Termin {n}") for n in range(3)]
    issue = make_issue(db, items=items)
    first, _second, third = issue.section_entries("events")
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/eintraege/{third.id}",
        data={"version": issue.version, "action": "up"},
    )
    assert response.status_code == 303
    issue = reload(db, issue)
    assert [e.item.title for e in issue.section_entries("events")] == [
        "Termin 0",
        "Termin 2",
        "Termin 1",
    ]
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/eintraege/{first.id}",
        data={"version": issue.version, "action": "remove"},
    )
    assert response.status_code == 303
    issue = reload(db, issue)
    assert [(e.item.title, e.position) for e in issue.section_entries("events")] == [
        ("Termin 2", 0),
        ("Termin 1", 1),
    ]


def test_reorder_by_drag_and_drop_answers_with_the_new_version(client, editor, db):
    issue = make_issue(db, items=[make_item(db, title=f"Termin {n}") for n in range(3)])
    ids = [e.id for e in issue.section_entries("events")]
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/reihenfolge",
        data={"version": issue.version, "section": "events", "entry_id": ids[::-1]},
    )
    assert response.status_code == 200
    issue = reload(db, issue)
    assert response.get_json() == {"version": issue.version}
    assert [e.id for e in issue.section_entries("events")] == ids[::-1]


def test_add_item_and_article(client, editor, db, issue):
    extra = make_item(db, title="Nachbarschaftscafé")
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/eintraege",
        data={"version": issue.version, "item_id": extra.id},
    )
    assert response.status_code == 303
    issue = reload(db, issue)
    assert "Nachbarschaftscafé" in [e.item.title for e in issue.section_entries("events")]


def test_add_recurring_item_pins_its_next_date(client, editor, db, issue):
    first = today() + timedelta(days=2)
    cafe = make_item(
        db,
        title="Sprachcafé",
        starts_at=local(first, 16),
        ends_at=local(first, 18),
        rule=Recurrence(freq="weekly", until=first + timedelta(days=60)),
    )
    client.post(
        f"/redaktion/ausgaben/{issue.id}/eintraege",
        data={"version": issue.version, "item_id": cafe.id},
    )
    issue = reload(db, issue)
    entry = next(e for e in issue.entries if e.item_id == cafe.id)
    assert entry.occurrence_start is not None


# ---------------------------------------------------------------- preview and test send


def test_preview_page_and_frames(client, editor, issue):
    html = client.get(f"/redaktion/ausgaben/{issue.id}/vorschau").get_data(as_text=True)
    assert "preview-375" in html and "preview-600" in html
    assert "Interkulturelles Frühstück" in html  # the text version
    frame = client.get(f"/redaktion/ausgaben/{issue.id}/vorschau.html?sprache=de")
    assert frame.status_code == 200
    csp = frame.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "frame-ancestors 'self'" in csp
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Interkulturelles Frühstück" in frame.get_data(as_text=True)
    assert client.get(f"/redaktion/ausgaben/{issue.id}/vorschau.html?sprache=xx").status_code == 404


def test_test_send_reaches_the_catcher_marked_as_test(client, editor, db, issue, caught):
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/test",
        data={"addresses": "eins@example.org, zwei@example.org", "language": "de"},
    )
    assert response.status_code == 303
    received = caught()
    assert sorted(m.to for m in received) == ["eins@example.org", "zwei@example.org"]
    mail = received[0]
    assert mail.subject.startswith("[TEST] ")
    assert "Interkulturelles Frühstück" in mail.body("html")
    assert "Interkulturelles Frühstück" in mail.body("plain")
    assert "xNT" not in mail.body("html") and "xNT" not in mail.body("plain")


@pytest.mark.parametrize(
    "addresses", ["not-an-address", "gut@example.org, schlecht@@example.org", "", "a@b"]
)
def test_test_send_to_invalid_address_sends_nothing(client, editor, db, issue, addresses):
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/test", data={"addresses": addresses, "language": "de"}
    )
    assert response.status_code == 422
    assert mails(db) == 0
    assert "error" in response.get_data(as_text=True)


# ---------------------------------------------------------------- bad input changes nothing


def test_editorial_with_script_is_refused(client, editor, db, issue):
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}",
        data={
            "version": issue.version,
            "subject": "Ok",
            "preheader": "",
            "editorial": "Hallo <script>alert(1)</script>",
        },
    )
    assert response.status_code == 422
    assert "script" in response.get_data(as_text=True)
    saved = reload(db, issue)
    assert saved.editorial == "" and saved.subject == ""


@pytest.mark.parametrize("subject", ["Zeile\r\nBcc: opfer@example.org", "Zeile\nzwei", "a\rb"])
def test_crlf_in_subject_is_refused(client, editor, db, issue, subject):
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}",
        data={"version": issue.version, "subject": subject, "preheader": "", "editorial": "x"},
    )
    assert response.status_code == 422
    assert "eine Zeile" in response.get_data(as_text=True)
    assert reload(db, issue).subject == ""


@pytest.mark.parametrize("value", ["viele", "12,5,3", "1e5", "NaN", "", "12 Personen"])
def test_key_figure_that_is_not_a_number_is_refused(client, editor, db, value):
    issue = make_issue(db, publication="newsletter", items=[make_item(db)])
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/zahlen",
        data={"version": issue.version, "label": "Teilnehmende", "value": value, "unit": ""},
    )
    assert response.status_code == 422
    assert db.scalar(select(func.count()).select_from(KeyFigure)) == 0


@pytest.mark.parametrize(
    ("value", "stored"),
    [("1.234,5", "1234.5"), ("12,5", "12.5"), ("1234.5", "1234.5"), ("-3", "-3")],
)
def test_key_figure_accepts_german_and_english_numbers(client, editor, db, value, stored):
    issue = make_issue(db, publication="newsletter", items=[make_item(db)])
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/zahlen",
        data={"version": issue.version, "label": "Teilnehmende", "value": value, "unit": "%"},
    )
    assert response.status_code == 303
    assert db.scalars(select(KeyFigure.value)).one() == stored


def test_schedule_a_draft_without_items_is_refused(client, editor, db):
    issue = make_issue(db, items=[])
    day = today() + timedelta(days=3)
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/planen",
        data={"version": issue.version, "send_date": day.isoformat(), "send_time": "10:00"},
    )
    assert response.status_code == 409
    assert "keine Beiträge" in error_text(response.get_data(as_text=True))
    saved = reload(db, issue)
    assert saved.status == "draft" and saved.scheduled_at is None


def test_schedule_in_the_past_is_refused(client, editor, db, issue):
    day = today() - timedelta(days=1)
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/planen",
        data={"version": issue.version, "send_date": day.isoformat(), "send_time": "10:00"},
    )
    assert response.status_code == 422
    assert "Vergangenheit" in response.get_data(as_text=True)
    assert reload(db, issue).status == "draft"


@pytest.mark.parametrize(
    ("day", "at", "words"),
    [
        (date(2027, 3, 28), "02:30", "vorgestellt"),  # the clocks go forward: 02:30 never happens
        (date(2027, 10, 31), "02:30", "zurückgestellt"),  # the clocks go back: 02:30 happens twice
    ],
)
def test_schedule_on_a_time_the_clock_change_skips_or_repeats(
    client, editor, db, issue, day, at, words
):
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/planen",
        data={"version": issue.version, "send_date": day.isoformat(), "send_time": at},
    )
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)
    assert reload(db, issue).status == "draft"


def test_schedule_and_take_back_and_cancel(client, editor, db, issue):
    day = today() + timedelta(days=3)
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/planen",
        data={"version": issue.version, "send_date": day.isoformat(), "send_time": "10:00"},
    )
    assert response.status_code == 303
    saved = reload(db, issue)
    assert saved.status == "scheduled"
    assert saved.scheduled_at == local(day, 10)
    # A scheduled issue cannot be changed until it is back to draft.
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}",
        data={"version": saved.version, "subject": "Neu", "preheader": "", "editorial": ""},
    )
    assert response.status_code == 409
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/zurueckholen", data={"version": saved.version}
    )
    assert response.status_code == 303
    saved = reload(db, issue)
    assert saved.status == "draft" and saved.scheduled_at is None
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/absagen", data={"version": saved.version}
    )
    assert response.status_code == 303
    assert reload(db, issue).status == "cancelled"


def test_second_editor_with_a_stale_page_is_refused(client, editor, db, issue):
    seen = issue.version
    first = client.post(
        f"/redaktion/ausgaben/{issue.id}",
        data={"version": seen, "subject": "Von Anna", "preheader": "", "editorial": "A"},
    )
    assert first.status_code == 303
    second = client.post(
        f"/redaktion/ausgaben/{issue.id}",
        data={"version": seen, "subject": "Von Ben", "preheader": "", "editorial": "B"},
    )
    assert second.status_code == 409
    assert "jemand anderes" in error_text(second.get_data(as_text=True)).casefold()
    saved = reload(db, issue)
    assert (saved.subject, saved.editorial) == ("Von Anna", "A")
    # A button on the stale page is refused as well.
    entry = issue.entries[0]
    third = client.post(
        f"/redaktion/ausgaben/{issue.id}/eintraege/{entry.id}",
        data={"version": seen, "action": "remove"},
    )
    assert third.status_code == 409
    assert len(reload(db, issue).entries) == 2


class TestSizeLimit:
    @pytest.fixture
    def settings_overrides(self):
        return {"delivery.max_html_bytes": 10_000}

    @pytest.fixture
    def big(self, db):
        items = [make_item(db, title=f"Veranstaltung Nummer {n}") for n in range(12)]
        return make_issue(db, items=items)

    def test_composer_warns_and_schedule_is_refused(self, client, editor, db, big):
        html = client.get(f"/redaktion/ausgaben/{big.id}").get_data(as_text=True)
        assert "size-over" in html
        day = today() + timedelta(days=3)
        data = {"version": big.version, "send_date": day.isoformat(), "send_time": "10:00"}
        response = client.post(f"/redaktion/ausgaben/{big.id}/planen", data=data)
        assert response.status_code == 422
        assert "zu groß" in response.get_data(as_text=True)
        assert reload(db, big).status == "draft"

    def test_override_schedules_it_anyway(self, client, editor, db, big):
        day = today() + timedelta(days=3)
        data = {
            "version": big.version,
            "send_date": day.isoformat(),
            "send_time": "10:00",
            "override_size": "y",
        }
        response = client.post(f"/redaktion/ausgaben/{big.id}/planen", data=data)
        assert response.status_code == 303
        saved = reload(db, big)
        assert saved.status == "scheduled" and saved.size_override


def test_schedule_with_a_malformed_date_or_time_is_refused(client, editor, db, issue):
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/planen",
        data={"version": issue.version, "send_date": "31.02.2027", "send_time": "25:99"},
    )
    assert response.status_code == 422
    errors = re.findall(
        r'<p class="error" id="(send_\w+)-error">([^<]+)', response.get_data(as_text=True)
    )
    assert errors == [
        ("send_date", "Bitte geben Sie ein Datum wie 24.12.2026 ein."),
        ("send_time", "Bitte geben Sie eine Uhrzeit wie 10:00 ein."),
    ]
    assert reload(db, issue).status == "draft"


def test_the_scheduled_date_reads_in_the_editors_language(client, editor, db, issue):
    client.set_cookie("newsticker_lang", "en")
    day = today() + timedelta(days=3)
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/planen",
        data={"version": issue.version, "send_date": day.isoformat(), "send_time": "10:00"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    english = f"{day.strftime('%b')} {day.day}, {day.year} at 10:00\u202fAM"
    assert f"is scheduled for {english}." in html, html[html.find("scheduled for") - 40 :][:200]
    assert day.strftime("%d.%m.%Y") not in html


def test_a_scheduled_issue_is_read_only_with_the_way_back_to_draft(client, editor, db, issue):
    issue.status = "scheduled"
    issue.scheduled_at = utcnow() + timedelta(days=2)
    db.commit()
    html = client.get(f"/redaktion/ausgaben/{issue.id}").get_data(as_text=True)
    assert "schreibgeschützt" in html
    # One way back, at the top: the editable parts are gone.
    assert html.count(f'action="/redaktion/ausgaben/{issue.id}/zurueckholen"') == 1
    assert f'action="/redaktion/ausgaben/{issue.id}/planen"' not in html
    assert f'action="/redaktion/ausgaben/{issue.id}/artikel"' not in html
    assert f'action="/redaktion/ausgaben/{issue.id}/empfaenger"' not in html
    assert 'name="action" value="up"' not in html
    content = html.split('id="content"', 1)[1].split("</section>", 1)[0]
    assert '<fieldset class="plain" disabled>' in content and 'type="submit"' not in content


def test_a_test_mail_reads_in_the_browser_through_the_editors_preview(
    app, client, editor, db, issue
):
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/test",
        data={"addresses": "redaktion@example.org", "language": "de"},
    )
    assert response.status_code == 303
    mail = db.scalars(select(QueuedMail)).one()
    preview = f"http://localhost/redaktion/ausgaben/{issue.id}/vorschau?sprache=de"
    assert f"Diese Ausgabe im Browser lesen: {preview}" in mail.text
    assert f'href="{preview}"' in mail.html
    assert f"/ausgaben/ticker/{issue.number}" not in mail.text  # no archive page yet
    # The link works for an editor and for nobody else.
    assert client.get(preview.removeprefix("http://localhost")).status_code == 200
    anonymous = app.test_client()
    assert anonymous.get(preview.removeprefix("http://localhost")).status_code == 302
