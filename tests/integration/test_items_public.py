"""Public pages: the list with recurring dates, search and filters, item pages, expiry."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from newsticker.core.db import utcnow
from newsticker.items import directory, services
from newsticker.items.models import Item
from newsticker.items.recurrence import Recurrence
from tests.factories import TZ, local, make_item, make_notice, today


def test_only_approved_current_items_are_listed(client, db):
    make_item(db, title="Freigegeben")
    make_item(db, title="Eingereicht", status="submitted")
    make_item(db, title="Abgelehnt", status="rejected")
    past = utcnow() - timedelta(days=2)
    make_item(db, title="Vorbei", starts_at=past, ends_at=past + timedelta(hours=2))
    make_notice(db, title="Alte Ankündigung", visible_days=-1)
    make_notice(db, title="Aktuelle Ankündigung")
    html = client.get("/angebote").get_data(as_text=True)
    assert "Freigegeben" in html and "Aktuelle Ankündigung" in html
    for hidden in ("Eingereicht", "Abgelehnt", "Vorbei", "Alte Ankündigung"):
        assert hidden not in html


def next_weekday(weekday: int, weeks: int = 0) -> date:
    """Return the next date (after today) on a weekday (0 = Monday), `weeks` later."""
    days = (weekday - today().weekday()) % 7 or 7
    return today() + timedelta(days=days + 7 * weeks)


def test_a_series_is_one_entry_with_its_rule_and_dates(client, db):
    start = next_weekday(2)
    make_item(
        db,
        title="Wöchentliches Sprachcafé",
        starts_at=local(start, 16),
        ends_at=local(start, 18),
        rule=Recurrence(freq="weekly", count=6, exceptions=(start + timedelta(days=14),)),
    )
    html = client.get("/angebote").get_data(as_text=True)
    assert html.count('class="item-card') == 1
    assert html.count(">Wöchentliches Sprachcafé</a>") == 1
    assert "jeden Mittwoch, 16–18 Uhr" in html
    assert "Nächster Termin:" in html and "Weitere Termine:" in html
    assert html.count("(fällt aus)") == 1
    assert "1 Veranstaltung in den nächsten 90 Tagen." in html


def test_a_series_in_english_and_its_count_without_cancelled_dates(client, db):
    start = next_weekday(2)
    item = make_item(
        db,
        title="Language café",
        starts_at=local(start, 16),
        ends_at=local(start, 18),
        rule=Recurrence(freq="weekly", count=6, exceptions=(start + timedelta(days=7),)),
    )
    client.set_cookie("newsticker_lang", "en")
    html = client.get("/angebote").get_data(as_text=True)
    plain = html.replace("\u2009", " ").replace("\u202f", " ")
    assert "every Wednesday, 4 – 6 PM" in plain
    assert "(cancelled)" in html
    page = client.get(f"/angebote/{item.id}").get_data(as_text=True)
    assert "5 times" in page and "6 times" not in page
    # The item page lists all six dates, the cancelled one marked.
    dates = page.split('class="date-list"')[1].split("</ul>")[0]
    assert dates.count("<li") == 6
    assert dates.count('<li class="cancelled"><s>') == 1 and "(cancelled)" in dates


def test_a_search_finds_a_series_once_and_says_how_many(client, db):
    start = next_weekday(3)
    make_item(
        db,
        title="Gemeinsam kochen",
        starts_at=local(start, 17),
        ends_at=local(start, 19),
        rule=Recurrence(freq="weekly", count=16),
    )
    make_item(db, title="Kochkurs für Familien", starts_at=local(start, 10), ends_at=None)
    make_item(db, title="Radtour", starts_at=local(start, 10), ends_at=None)
    html = client.get("/angebote?q=kochen").get_data(as_text=True)
    assert html.count(">Gemeinsam kochen</a>") == 1
    assert re.search(r"und \d+ weitere Termine", html)
    assert "Radtour" not in html
    assert "1 Veranstaltung passt zu Ihrer Suche." in html


def test_upcoming_reaches_as_far_as_configured(app, db):
    make_item(db, title="Bald", starts_at=local(today() + timedelta(days=10), 10), ends_at=None)
    make_item(db, title="Später", starts_at=local(today() + timedelta(days=100), 10), ends_at=None)
    now = utcnow()
    near, near_total = services.upcoming_events(
        db, services.PublicFilters(), now=now, tz=TZ, days=90
    )
    far, far_total = services.upcoming_events(
        db, services.PublicFilters(), now=now, tz=TZ, days=120
    )
    assert [x.item.title for x in near] == ["Bald"] and near_total == 1
    assert [x.item.title for x in far] == ["Bald", "Später"] and far_total == 2


def test_a_series_with_every_date_in_the_period_cancelled_is_left_out(app, db):
    start = next_weekday(0)
    make_item(
        db,
        title="Pausiert",
        starts_at=local(start, 16),
        ends_at=None,
        rule=Recurrence(
            freq="weekly",
            count=3,
            exceptions=(start + timedelta(days=7), start + timedelta(days=14)),
        ),
    )
    listings, total = services.upcoming_events(
        db, services.PublicFilters(), now=local(start, 17), tz=TZ, days=90
    )
    assert listings == [] and total == 0


def _second_tuesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7 + 7)


def test_round_table_dates(db):
    """A round table on the second Tuesday of six months, begun over a year ago.

    The dates are reckoned from today: the occurrences table holds the dates from now to
    its horizon, so a list asked for at a fixed date would go wrong once that date passed.
    """
    months = (2, 4, 6, 9, 11, 12)
    years = range(today().year - 2, today().year + 3)
    tuesdays = [_second_tuesday(year, month) for year in years for month in months]
    first = next(day for day in tuesdays if day >= today() - timedelta(days=400))
    rule = Recurrence(
        freq="monthly", nth=2, weekday=1, months=months, until=today() + timedelta(days=800)
    )
    item = make_item(
        db,
        title="Runder Tisch Integration",
        starts_at=local(first, 18, 30),
        ends_at=local(first, 20, 30),
        rule=rule,
    )
    now = utcnow()
    found, total = services.upcoming_events(db, services.PublicFilters(), now=now, tz=TZ, days=366)
    assert total == 1 and found[0].item.id == item.id and found[0].is_series
    starts = [d.starts_at.astimezone(TZ) for d in found[0].dates]
    expected = [
        local(day, 18, 30)
        for day in tuesdays
        if local(day, 20, 30) > now and local(day, 18, 30) < now + timedelta(days=366)
    ]
    assert len(expected) >= 6 and starts == expected


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("sprachcafe", True),  # accents folded
        ("SPRACHCAFÉ", True),
        ("tee kuchen", True),  # every word, in any field
        ("tee pizza", False),
        ("Nachbarschaft", True),  # a tag
        ("Hafenhaus", True),  # the place
        ("100%", False),  # LIKE wildcards are literal
    ],
)
def test_keyword_search(client, db, query, found):
    make_item(
        db,
        title="Sprachcafé",
        summary="Deutsch üben bei Tee",
        description="Mit **Kuchen**.",
        tags=["Nachbarschaft"],
        place_name="Hafenhaus",
        organiser="Sprachtreff",
    )
    make_item(
        db, title="Anderes Angebot", summary="Nichts davon", tags=[], place_name="", organiser="VHS"
    )
    html = client.get("/angebote", query_string={"q": query}).get_data(as_text=True)
    assert ("Sprachcafé" in html) is found
    assert "Anderes Angebot" not in html


def test_search_in_arabic(client, db):
    make_item(db, title="معلومات صحية", summary="جلسة معلومات", content_language="ar")
    html = client.get("/angebote", query_string={"q": "صحية"}).get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in html and "معلومات صحية" in html


def test_filters_by_field_language_and_kind(client, db):
    make_item(db, title="Gesundheitstag", field_of_action="health", event_languages=["ar"])
    make_item(db, title="Jobmesse", field_of_action="work", event_languages=["de", "uk"])
    make_item(
        db,
        title="Helfer gesucht",
        kind="call",
        starts_at=None,
        ends_at=None,
        visible_until=today() + timedelta(days=9),
        event_languages=["de"],
    )
    get = lambda **q: client.get("/angebote", query_string=q).get_data(as_text=True)  # noqa: E731
    html = get(bereich="health")
    assert "Gesundheitstag" in html and "Jobmesse" not in html
    html = get(sprache="uk")
    assert "Jobmesse" in html and "Gesundheitstag" not in html and "Helfer gesucht" not in html
    html = get(art="call")
    assert "Helfer gesucht" in html and "Jobmesse" not in html
    html = get(art="event")
    assert "Helfer gesucht" not in html and "Jobmesse" in html
    # Nonsense filter values are ignored, not errors.
    assert client.get("/angebote?bereich=x&sprache=%27&art=&seite=-1").status_code == 200


def test_list_pages(client, db):
    start = today() + timedelta(days=2)
    for n in range(45):
        day = start + timedelta(days=n)
        make_item(db, title=f"Termin {n:02d}", starts_at=local(day, 10), ends_at=None)
    first = client.get("/angebote?art=event").get_data(as_text=True)
    assert "Termin 00" in first and "Termin 19" in first and "Termin 20" not in first
    assert "45 Veranstaltungen" in first and "Seite 1 von 3." in first
    assert 'rel="next" href="/angebote?seite=2&amp;art=event"' in first
    assert 'href="/angebote?seite=1&amp;art=event" aria-current="page"' in first
    second = client.get("/angebote?art=event&seite=2").get_data(as_text=True)
    assert "Termin 20" in second and "Termin 39" in second and "Termin 19" not in second
    assert 'href="/angebote?seite=2&amp;art=event" aria-current="page"' in second


def test_the_count_stops_early_and_says_more_than(client, db, monkeypatch):
    # Counting every date costs a page time with every item: the list counts up to a
    # cap (or through the page asked for) and says "more than" beyond it.
    monkeypatch.setattr(directory, "COUNT_AT_MOST", 30)
    start = today() + timedelta(days=2)
    for n in range(45):
        day = start + timedelta(days=n)
        make_item(db, title=f"Termin {n:02d}", starts_at=local(day, 10), ends_at=None)
    first = client.get("/angebote").get_data(as_text=True)
    assert "Mehr als 30 Veranstaltungen in den nächsten 90 Tagen." in first
    assert "Seite 1 von" not in first and "45" not in first.split('id="result-count"')[1][:80]
    assert 'rel="next" href="/angebote?seite=2"' in first
    pager = first.split('class="pagination"')[1].split("</nav>")[0]
    assert 'aria-label="Seite 3"' not in pager and pager.count("…") == 1
    # Page 2 counts through its own end (40), and there are still more.
    second = client.get("/angebote?seite=2").get_data(as_text=True)
    assert "Mehr als 40 Veranstaltungen" in second and "Termin 20" in second
    # Page 3 reaches the end: the count is exact again, and so is the pager.
    third = client.get("/angebote?seite=3").get_data(as_text=True)
    assert "45 Veranstaltungen in den nächsten 90 Tagen." in third and "Seite 3 von 3." in third
    assert "Termin 44" in third and 'rel="next"' not in third
    html = client.get("/angebote?q=Termin").get_data(as_text=True)
    assert "Mehr als 30 Veranstaltungen passen zu Ihrer Suche." in html


def test_the_notice_count_stops_early_too(client, db, monkeypatch):
    monkeypatch.setattr(directory, "COUNT_AT_MOST", 3)
    for n in range(25):
        make_item(
            db,
            title=f"Helfer gesucht {n}",
            kind="call",
            starts_at=None,
            ends_at=None,
            visible_until=today() + timedelta(days=9),
        )
    html = client.get("/angebote?art=call").get_data(as_text=True)
    # The page lists 20: it counts through its own end, and there are more.
    assert "Mehr als 20 Ergebnisse." in html
    html = client.get("/angebote?q=Helfer").get_data(as_text=True)
    assert "Dazu passen mehr als 3 Ankündigungen und Aufrufe." in html


@pytest.mark.parametrize("page", ["abc", "0", "-1", "99999"])
def test_a_bad_page_number_shows_the_first_page(client, db, page):
    make_item(db, title="Fest")
    html = client.get(f"/angebote?seite={page}").get_data(as_text=True)
    assert "Fest" in html


def test_page_announces_its_feeds(client, db):
    html = client.get("/angebote?bereich=health").get_data(as_text=True)
    head = html.split("</head>")[0]
    assert '<link rel="alternate" type="text/calendar"' in head
    assert 'href="http://localhost/feeds/angebote.ics"' in head
    assert 'href="http://localhost/feeds/angebote/health.ics"' in head
    assert '<link rel="alternate" type="application/atom+xml"' in head


def test_item_page(client, db):
    item = make_item(
        db,
        title="Fest",
        description="Mit [Programm](https://example.org/programm).",
        link="https://example.org",
        contact_email="fest@example.org",
        accessibility_note="Stufenloser Zugang",
    )
    html = client.get(f"/angebote/{item.id}").get_data(as_text=True)
    assert '<h1 lang="de" dir="ltr">Fest</h1>' in html
    assert f'href="/angebote/{item.id}.ics"' in html
    assert "Stufenloser Zugang" in html and "mailto:fest@example.org" in html
    assert '<a href="https://example.org/programm" rel="noopener nofollow">Programm</a>' in html
    assert "text/calendar" in html.split("</head>")[0]


def test_item_page_of_rtl_content(client, db):
    item = make_item(
        db,
        title="اطلاعات سلامت",
        content_language="fa",
        summary="جلسه اطلاعاتی",
        description="درباره بیمه درمانی",
        place_name="مرکز مشاوره",
        event_languages=["fa", "de"],
    )
    html = client.get(f"/angebote/{item.id}").get_data(as_text=True)
    # The page runs right to left as a whole: title, text and the details.
    assert '<article class="item-page" lang="fa" dir="rtl">' in html
    assert '<h1 lang="fa" dir="rtl">' in html
    assert '<p class="lead item-lead" lang="fa" dir="rtl">' in html
    assert '<div class="item-description prose" lang="fa" dir="rtl">' in html
    assert '<dl class="item-facts" lang="fa" dir="rtl">' in html
    assert '<dd lang="fa" dir="rtl">مرکز مشاوره</dd>' in html
    # Interface words and dates keep their own language and direction inside it.
    assert '<dt lang="de" dir="ltr">Ort</dt>' in html
    assert '<ul class="item-badges" lang="de" dir="ltr">' in html
    assert 'class="item-dates" aria-labelledby="dates-title" lang="de" dir="ltr"' in html


def test_item_page_of_ltr_content_stays_ltr(client, db):
    item = make_item(db, title="Fest", content_language="de")
    html = client.get(f"/angebote/{item.id}").get_data(as_text=True)
    assert '<article class="item-page" lang="de" dir="ltr">' in html
    assert '<dl class="item-facts" lang="de" dir="ltr">' in html


@pytest.mark.parametrize("status", ["submitted", "rejected", "withdrawn"])
def test_unpublished_item_pages_are_hidden(client, db, status):
    item = make_item(db, status=status)
    assert client.get(f"/angebote/{item.id}").status_code == 404
    assert client.get(f"/angebote/{item.id}.ics").status_code == 404


def test_expiry_job(app, db):
    from newsticker import jobs
    from newsticker.scheduling import in_unit_of_work

    past = utcnow() - timedelta(days=2)
    ended = make_item(db, title="Vorbei", starts_at=past, ends_at=past + timedelta(hours=1))
    current = make_item(db, title="Kommt noch")
    old_rejected = make_item(db, title="Alt abgelehnt", status="rejected")
    old_rejected.updated_at = utcnow() - timedelta(days=400)
    db.flush()
    old_rejected_id = old_rejected.id
    run = in_unit_of_work(app, jobs.expire_items)()
    assert (run.expired, run.purged) == (1, 1)
    db.expire_all()
    db.refresh(ended)
    db.refresh(current)
    assert ended.status == "expired" and current.status == "approved"
    assert db.get(Item, old_rejected_id) is None
    # Idempotent: a second run changes nothing.
    again = in_unit_of_work(app, jobs.expire_items)()
    assert (again.expired, again.purged) == (0, 0)


def test_expired_item_page_says_it_is_over(client, db):
    past = utcnow() - timedelta(days=2)
    item = make_item(
        db,
        status="expired",
        approved_at=past,
        starts_at=past,
        ends_at=past + timedelta(hours=1),
    )
    html = client.get(f"/angebote/{item.id}").get_data(as_text=True)
    assert "Diese Veranstaltung ist vorbei" in html


def test_english_interface(client, db):
    make_item(db, title="Fest")
    client.set_cookie("newsticker_lang", "en")
    html = client.get("/angebote").get_data(as_text=True)
    assert "Upcoming dates" in html and '<html lang="en"' in html
