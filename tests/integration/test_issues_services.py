"""Issue services: drafting from approved items, sending state, snapshots, the delivery seam."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from newsticker.config import get_settings
from newsticker.core.site import site_links
from newsticker.issues import services
from newsticker.issues.models import Issue, IssueEntry, IssueSnapshot
from newsticker.issues.rendering import (
    IssueTooLarge,
    check_size,
    measure_size,
    prepare_issue,
    render_issue,
)
from newsticker.items.recurrence import Recurrence
from tests.factories import local, make_issue, make_item, make_subscriber, today


def now():
    return services.current_time()


def draft(db, slug="ticker", at=None):
    return services.draft_issue(db, get_settings(), slug, now=at or now())


# ---------------------------------------------------------------- drafting


def test_draft_takes_events_of_the_next_two_weeks_and_current_notices(db):
    soon = make_item(
        db, title="Bald", starts_at=local(today() + timedelta(days=9), 18), ends_at=None
    )
    later = make_item(
        db, title="Viel später", starts_at=local(today() + timedelta(days=40), 18), ends_at=None
    )
    notice = make_item(
        db,
        kind="announcement",
        title="Neue Sprechzeiten",
        starts_at=None,
        ends_at=None,
        visible_until=today() + timedelta(days=20),
    )
    call = make_item(
        db,
        kind="call",
        title="Helfende gesucht",
        starts_at=None,
        ends_at=None,
        visible_until=today() + timedelta(days=20),
    )
    pending = make_item(db, title="Noch nicht freigegeben", status="submitted")
    result = draft(db)
    issue = result.issue
    assert result.created and issue.number == 1 and issue.status == "draft"
    titles = {
        section: [e.item.title for e in issue.section_entries(section)]
        for section in ("events", "announcements", "calls")
    }
    assert titles == {
        "events": ["Bald"],
        "announcements": ["Neue Sprechzeiten"],
        "calls": ["Helfende gesucht"],
    }
    assert later.id not in {e.item_id for e in issue.entries}
    assert pending.id not in {e.item_id for e in issue.entries}
    assert {soon.id, notice.id, call.id} == {e.item_id for e in issue.entries}


def test_drafting_twice_duplicates_nothing_and_adds_what_is_new(db):
    make_item(db, title="Erstes")
    first = draft(db)
    again = draft(db)
    assert again.issue.id == first.issue.id
    assert not again.created and again.added == 0
    make_item(db, title="Zweites")
    third = draft(db)
    assert third.issue.id == first.issue.id and third.added == 1
    assert sorted(e.item.title for e in third.issue.entries) == ["Erstes", "Zweites"]
    assert db.scalar(select(func.count()).select_from(Issue)) == 1


def test_a_series_is_one_entry_per_issue_with_its_dates_in_the_window(db):
    first = today() + timedelta(days=7)
    cafe = make_item(
        db,
        title="Sprachcafé",
        starts_at=local(first, 16),
        ends_at=local(first, 18),
        rule=Recurrence(
            freq="weekly",
            until=first + timedelta(days=120),
            exceptions=(first + timedelta(days=7),),
        ),
    )
    issue = draft(db).issue
    entries = [e for e in issue.entries if e.item_id == cafe.id]
    assert len(entries) == 1, "a series appears once per issue"
    assert entries[0].occurrence_start == local(first, 16)
    # Drafting again, even later, adds the series to the same draft no second time.
    assert draft(db, at=now() + timedelta(days=1)).added == 0
    html, text = render_issue(issue, "de").fill(
        {"unsubscribe_url": "https://x/u", "preferences_url": "https://x/p"}
    )
    assert text.count("Sprachcafé") == 1
    assert "Nächster Termin:" in text and "(fällt aus)" in text
    assert html.count(">Sprachcafé</a>") == 1


def test_the_next_issue_pins_the_series_to_its_next_free_date(db):
    first = today() + timedelta(days=7)
    cafe = make_item(
        db,
        title="Sprachcafé",
        starts_at=local(first, 16),
        ends_at=None,
        rule=Recurrence(freq="weekly", count=10),
    )
    older = make_issue(db, items=[], status="sent", number=1)
    older.entries.append(
        IssueEntry(section="events", position=0, item=cafe, occurrence_start=local(first, 16))
    )
    db.flush()
    entries = [e for e in draft(db).issue.entries if e.item_id == cafe.id]
    assert [e.occurrence_start for e in entries] == [local(first + timedelta(days=7), 16)]


def test_an_issue_drafted_with_one_entry_per_date_shows_the_series_once(db):
    first = today() + timedelta(days=7)
    cafe = make_item(
        db,
        title="Sprachcafé",
        starts_at=local(first, 16),
        ends_at=local(first, 18),
        rule=Recurrence(freq="weekly", count=8),
    )
    issue = make_issue(db, items=[], status="draft", number=5)
    for position, day in enumerate((first, first + timedelta(days=7))):
        issue.entries.append(
            IssueEntry(
                section="events", position=position, item=cafe, occurrence_start=local(day, 16)
            )
        )
    db.flush()
    text = render_issue(issue, "de").fill(
        {"unsubscribe_url": "https://x/u", "preferences_url": "https://x/p"}
    )[1]
    assert text.count("Sprachcafé") == 1
    assert "Veranstaltungen (1)" in text


def test_newly_approved_items_are_placed_in_date_order(db):
    # After the next send time (within a week), before its horizon (two weeks on).
    base = today() + timedelta(days=8)
    make_item(db, title="Früh", starts_at=local(base, 10), ends_at=None)
    make_item(db, title="Spät", starts_at=local(base + timedelta(days=2), 10), ends_at=None)
    issue = draft(db).issue
    make_item(db, title="Mitte", starts_at=local(base + timedelta(days=1), 10), ends_at=None)
    make_item(db, title="Ganz früh", starts_at=local(base, 8), ends_at=None)
    assert draft(db).added == 2
    titles = [e.item.title for e in issue.section_entries("events")]
    assert titles == ["Ganz früh", "Früh", "Mitte", "Spät"]
    assert [e.position for e in issue.section_entries("events")] == [0, 1, 2, 3]


def test_a_new_draft_starts_with_the_configured_greeting(db, app):
    issue = draft(db).issue
    assert issue.editorial == "Liebe Leserinnen und Leser,\n\n"
    text = render_issue(issue, "de").fill(
        {"unsubscribe_url": "https://x/u", "preferences_url": "https://x/p"}
    )[1]
    assert text.count("Liebe Leserinnen und Leser,") == 1
    assert "Hallo" not in text


def test_an_empty_greeting_gives_an_empty_editorial_and_no_salutation(db, app):
    settings = get_settings()
    quiet = settings.model_copy(
        update={
            "publications": [
                p.model_copy(update={"greeting": ""}) if p.slug == "ticker" else p
                for p in settings.publications
            ]
        }
    )
    make_item(db, title="Fest")
    issue = services.draft_issue(db, quiet, "ticker", now=now()).issue
    assert issue.editorial == ""
    text = render_issue(issue, "de").fill(
        {"unsubscribe_url": "https://x/u", "preferences_url": "https://x/p"}
    )[1]
    assert "Liebe" not in text and "Hallo" not in text and "Fest" in text


def test_items_in_a_sent_issue_are_not_drafted_again_but_cancelled_ones_are(db):
    item = make_item(db, title="Schon verschickt")
    older = make_issue(db, items=[item], status="sent", number=1)
    assert draft(db).added == 0
    older.status = "cancelled"
    db.flush()
    # The open draft picks it up now that no live issue carries it.
    assert draft(db).added == 1


def test_other_publications_do_not_claim_items(db):
    item = make_item(db, title="Für beide")
    make_issue(db, items=[item], status="sent", publication="newsletter", number=1)
    assert item.id in {e.item_id for e in draft(db).issue.entries}


def test_numbers_count_per_publication(db):
    make_item(db)
    ticker = draft(db).issue
    newsletter = draft(db, "newsletter").issue
    assert (ticker.number, newsletter.number) == (1, 1)
    ticker.status = "sent"
    db.flush()
    make_item(db, title="Neu")
    assert draft(db).issue.number == 2


def test_unknown_publication_is_refused(db):
    with pytest.raises(services.IssueError) as info:
        draft(db, "gibtsnicht")
    assert "gibtsnicht" in str(info.value) and "ticker" in str(info.value)
    assert db.scalar(select(func.count()).select_from(Issue)) == 0


def test_next_send_time_is_the_configured_weekday_and_time(app):
    publication = get_settings().publication("ticker")
    tz = get_settings().tz
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=tz)
    assert services.next_send_time(publication, tz, monday) == datetime(
        2026, 11, 26, 10, 0, tzinfo=tz
    )
    thursday_late = datetime(2026, 11, 26, 10, 0, tzinfo=tz)
    assert services.next_send_time(publication, tz, thursday_late) == datetime(
        2026, 12, 3, 10, 0, tzinfo=tz
    )


# ---------------------------------------------------------------- locking


def test_a_stale_version_is_refused_and_changes_nothing(db):
    issue = make_issue(db, items=[make_item(db)])
    seen = issue.version
    services.update_issue(
        db, issue, subject="A", preheader="", editorial="", version=seen, user_id=None, now=now()
    )
    assert issue.version == seen + 1
    with pytest.raises(services.StaleIssue):
        services.update_issue(
            db,
            issue,
            subject="B",
            preheader="",
            editorial="",
            version=seen,
            user_id=None,
            now=now(),
        )
    assert issue.subject == "A"


# ---------------------------------------------------------------- the way out


def scheduled(db, **kwargs):
    issue = make_issue(db, items=[make_item(db)], **kwargs)
    services.schedule_issue(
        db,
        issue,
        send_at=now() + timedelta(hours=1),
        now=now(),
        max_html_bytes=get_settings().delivery.max_html_bytes,
        links=site_links(),
        version=issue.version,
        user_id=None,
    )
    return issue


def test_due_issues(db):
    issue = scheduled(db)
    assert services.due_issues(db, now=now()) == []
    assert services.due_issues(db, now=now() + timedelta(hours=2)) == [issue]


def test_start_sending_freezes_a_snapshot_per_language_and_is_idempotent(db):
    issue = scheduled(db)
    # The languages the audience reads (and the default), not every mail language.
    make_subscriber(db, "reader@example.org", language="en")
    make_subscriber(db, "other@example.org", publications=("newsletter",), language="uk")
    snapshots = services.start_sending(db, issue, now=now(), links=site_links())
    assert issue.status == "sending"
    assert sorted(s.language for s in snapshots) == ["de", "en"]
    assert services.start_sending(db, issue, now=now(), links=site_links()) == snapshots
    # Editing the item afterwards does not change what is sent.
    issue.entries[0].item.title = "Geändert nach dem Start"
    db.flush()
    prepared = prepare_issue(db, issue, "de")
    html, _text = prepared.fill({"unsubscribe_url": "u", "preferences_url": "p"})
    assert "Geändert nach dem Start" not in html and "Interkulturelles Frühstück" in html
    services.mark_sent(db, issue, now=now())
    assert issue.status == "sent" and issue.sent_at is not None
    assert db.scalar(select(func.count()).select_from(IssueSnapshot)) == 2


def test_a_sent_issue_cannot_be_changed(db):
    issue = scheduled(db)
    services.start_sending(db, issue, now=now(), links=site_links())
    with pytest.raises(services.IssueError):
        services.update_issue(
            db,
            issue,
            subject="x",
            preheader="",
            editorial="",
            version=issue.version,
            user_id=None,
            now=now(),
        )
    with pytest.raises(services.IssueError):
        services.cancel_issue(db, issue, version=issue.version, user_id=None, now=now())


def test_prepared_issue_fills_per_recipient_without_rendering(db, monkeypatch):
    issue = make_issue(db, items=[make_item(db)])
    prepared = prepare_issue(db, issue, "de")
    import newsticker.issues.rendering as rendering

    def no_more(*_args, **_kwargs):
        raise AssertionError("fill must not render or inline")

    monkeypatch.setattr(rendering, "inline_css", no_more)
    html, text = prepared.fill(
        {
            "greeting": prepared.greeting_for("Amira <script>"),
            "unsubscribe_url": "https://example.org/abmelden/tok?x=1&y=2",
            "preferences_url": "https://example.org/einstellungen/tok",
        }
    )
    # The one salutation is the editorial's (issue 13): no second greeting by name.
    assert "Amira" not in html and "Amira" not in text
    assert 'href="https://example.org/abmelden/tok?x=1&amp;y=2"' in html
    assert "https://example.org/abmelden/tok?x=1&y=2" in text
    assert "xNT" not in html and "xNT" not in text


def test_user_content_cannot_forge_a_placeholder(db):
    issue = make_issue(db, items=[make_item(db, summary="xNT0123456789abcdef_unsubscribe_url_TNx")])
    prepared = render_issue(issue, "de")
    html, _text = prepared.fill({"unsubscribe_url": "SECRET-LINK", "preferences_url": "p"})
    assert "xNT0123456789abcdef_unsubscribe_url_TNx" in html
    assert html.count("SECRET-LINK") == 1  # only the footer link, never in the summary


def test_check_size(db):
    issue = make_issue(db, items=[make_item(db)])
    prepared = render_issue(issue, "de")
    assert 1000 < prepared.html_bytes < 20_000
    assert not check_size(prepared, 95 * 1024).warning
    assert measure_size(prepared, int(prepared.html_bytes / 0.85)).warning
    with pytest.raises(IssueTooLarge):
        check_size(prepared, prepared.html_bytes - 1)
    assert check_size(prepared, prepared.html_bytes - 1, override=True).too_large


def test_withdrawn_item_is_left_out_of_the_rendering(db):
    gone = make_item(db, title="Zurückgezogen")
    issue = make_issue(db, items=[make_item(db, title="Bleibt"), gone])
    gone.status = "withdrawn"
    db.flush()
    html, _text = render_issue(issue, "de").fill({"unsubscribe_url": "u", "preferences_url": "p"})
    assert "Bleibt" in html and "Zurückgezogen" not in html
    assert services.rendered_entry_count(issue) == 1


def test_local_send_time_refuses_dst_gaps_and_repeats(app):
    tz = get_settings().tz
    day = datetime(2027, 3, 28).date()
    with pytest.raises(services.IssueError):
        services.local_send_time(day, time(2, 30), tz)
    with pytest.raises(services.IssueError):
        services.local_send_time(datetime(2027, 10, 31).date(), time(2, 30), tz)
    assert services.local_send_time(day, time(3, 30), tz) == datetime(
        2027, 3, 28, 1, 30, tzinfo=UTC
    )


def test_entry_rows_cascade_with_the_issue(db):
    issue = make_issue(db, items=[make_item(db)])
    db.delete(issue)
    db.flush()
    assert db.scalar(select(func.count()).select_from(IssueEntry)) == 0
