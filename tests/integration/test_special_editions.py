"""Special editions: the publications an issue goes to, counted, and each footer's subscription."""

from __future__ import annotations

import email
import re
from email import policy
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from newsticker.config import get_settings
from newsticker.core.db import utcnow
from newsticker.core.site import site_keyring, site_links
from newsticker.delivery import services as delivery_services
from newsticker.delivery.messages import IssueMessages
from newsticker.delivery.models import Delivery
from newsticker.issues import services
from newsticker.issues.models import Issue, IssueStatus
from subscribers.models import Subscription
from tests.factories import make_issue, make_subscriber, scheduled_issue

TICKER = "Newsticker Engagement & Zusammenleben"
NEWSLETTER = "Integration in Flensburg"


@pytest.fixture
def readers(db):
    return {
        "both": make_subscriber(db, "beide@example.org", publications=("ticker", "newsletter")),
        "letter": make_subscriber(db, "brief@example.org", publications=("newsletter",)),
        "ticker": make_subscriber(db, "ticker@example.org", publications=("ticker",)),
        "ticker2": make_subscriber(db, "ticker2@example.org", publications=("ticker",)),
    }


def choose(db, issue, slugs):
    return services.choose_publications(
        db, issue, slugs, settings=get_settings(), version=issue.version, user_id=None, now=utcnow()
    )


# ---------------------------------------------------------------- the choice and its count


def test_the_configured_also_send_to_is_the_default(db):
    letter = make_issue(db, publication="newsletter")
    ticker = make_issue(db, publication="ticker")
    assert letter.also_send_to is None
    assert services.issue_publications(get_settings(), letter) == ["newsletter", "ticker"]
    assert services.issue_publications(get_settings(), ticker) == ["ticker"]


def test_a_choice_is_stored_per_issue_in_the_configured_order(db):
    ticker = make_issue(db, publication="ticker")
    assert choose(db, ticker, ["newsletter"]) == ["newsletter"]
    assert ticker.also_send_to == ["newsletter"]
    assert services.issue_publications(get_settings(), ticker) == ["ticker", "newsletter"]
    letter = make_issue(db, publication="newsletter")
    assert choose(db, letter, []) == []
    assert services.issue_publications(get_settings(), letter) == ["newsletter"]


@pytest.mark.parametrize("slugs", [["newsletter"], ["gibtsnicht"], ["ticker", "<b>"]])
def test_the_own_or_an_unknown_publication_is_refused_and_nothing_changes(db, slugs):
    letter = make_issue(db, publication="newsletter")
    version = letter.version
    with pytest.raises(services.IssueError) as caught:
        choose(db, letter, slugs)
    assert caught.value.field == "also_send_to"
    assert letter.also_send_to is None
    assert letter.version == version


def test_only_a_draft_chooses_its_recipients(db):
    letter = make_issue(db, publication="newsletter", status=IssueStatus.SCHEDULED)
    with pytest.raises(services.IssueError):
        choose(db, letter, [])
    assert letter.also_send_to is None


def test_the_count_names_each_publication_and_counts_a_person_once(db, readers):
    letter = make_issue(db, publication="newsletter")
    count = services.count_audience(db, get_settings(), letter)
    assert [(p.slug, p.name, p.count) for p in count.publications] == [
        ("newsletter", NEWSLETTER, 2),
        ("ticker", TICKER, 3),
    ]
    assert (count.total, count.overlap) == (4, 1)
    choose(db, letter, [])
    count = services.count_audience(db, get_settings(), letter)
    assert [(p.slug, p.count) for p in count.publications] == [("newsletter", 2)]
    assert (count.total, count.overlap) == (2, 0)


# ---------------------------------------------------------------- sending


def start(db, issue):
    return delivery_services.start_issue(
        db, issue.id, now=utcnow(), settings=get_settings(), links=site_links()
    )


def test_records_follow_the_issues_choice_and_a_person_in_both_gets_one(db, readers):
    issue = scheduled_issue(db)  # a ticker issue: by configuration to its own list only
    issue.also_send_to = ["newsletter"]
    db.flush()
    report = start(db, issue)
    rows = db.scalars(select(Delivery).where(Delivery.issue_id == issue.id)).all()
    assert report.recipients == 4
    by_address = {r.address: r.publication for r in rows}
    assert by_address == {
        "beide@example.org": "ticker",
        "brief@example.org": "newsletter",
        "ticker@example.org": "ticker",
        "ticker2@example.org": "ticker",
    }


def test_an_empty_choice_leaves_the_configured_lists_out(db, readers):
    issue = scheduled_issue(db, publication="newsletter")
    issue.also_send_to = []
    db.flush()
    report = start(db, issue)
    assert report.recipients == 2


def footer_and_link(data: bytes) -> tuple[str, str, str]:
    message = email.message_from_bytes(data, policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    sentence = re.search(r"You receive this mail because you subscribed to (.+?)\.\r?\n", text)
    assert sentence, text
    unsubscribe = re.search(r"Unsubscribe: (\S+)", text)
    assert unsubscribe
    assert f'href="{unsubscribe.group(1)}"' in html
    assert message["List-Unsubscribe"].startswith(f"<{unsubscribe.group(1)}>")
    return sentence.group(1), unsubscribe.group(1), html


def test_each_footer_names_the_subscription_and_its_link_ends_exactly_that(app, db, readers):
    for reader in readers.values():
        reader.language = "en"
    issue = scheduled_issue(db, publication="newsletter")
    start(db, issue)
    settings = get_settings()
    messages = IssueMessages(db, issue, settings, site_keyring(app), site_links())
    claimed = delivery_services.claim_batch(
        db, issue.id, owner="w", limit=10, now=utcnow(), lease_seconds=60
    )
    seen = {}
    for row in claimed:
        name, link, html = footer_and_link(messages.compose(row).data)
        seen[row.address] = (name, link)
        assert f"you subscribed to {name}." in html.replace("&amp;", "&")
    assert seen["beide@example.org"][0] == NEWSLETTER
    assert seen["brief@example.org"][0] == NEWSLETTER
    assert seen["ticker@example.org"][0] == TICKER  # not "subscribed to the newsletter"

    # The ticker reader's one-click unsubscribe ends their ticker subscription only.
    client = app.test_client(use_cookies=False)
    reader = readers["both"]
    response = client.post(
        urlsplit(seen["ticker@example.org"][1]).path, data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    statuses = dict(
        db.execute(
            select(Subscription.publication, Subscription.status).where(
                Subscription.subscriber_id == readers["ticker"].id
            )
        ).all()
    )
    assert statuses == {"ticker": "unsubscribed"}
    both = dict(
        db.execute(
            select(Subscription.publication, Subscription.status).where(
                Subscription.subscriber_id == reader.id
            )
        ).all()
    )
    assert both == {"ticker": "confirmed", "newsletter": "confirmed"}


# ---------------------------------------------------------------- the composer


@pytest.mark.usefixtures("no_csrf")
def test_composer_shows_the_count_and_saves_the_choice(client, editor, db, readers):
    letter = make_issue(db, publication="newsletter")
    db.commit()
    html = client.get(f"/redaktion/ausgaben/{letter.id}").get_data(as_text=True)
    assert 'id="audience-total">4<' in html
    ticker_box = re.search(r'<input[^>]*value="ticker"[^>]*>', html)
    assert ticker_box and "checked" in ticker_box.group(0)  # the configured default
    assert "1 Person hat mehr als eine dieser Publikationen abonniert" in html
    assert "Sie geht an 4 Personen" in html
    response = client.post(
        f"/redaktion/ausgaben/{letter.id}/empfaenger", data={"version": letter.version}
    )
    assert response.status_code == 303
    db.expire_all()
    letter = db.get(Issue, letter.id)
    assert letter.also_send_to == []
    html = client.get(f"/redaktion/ausgaben/{letter.id}").get_data(as_text=True)
    assert 'id="audience-total">2<' in html


@pytest.mark.usefixtures("no_csrf")
def test_composer_refuses_an_unknown_publication_and_stores_nothing(client, editor, db):
    letter = make_issue(db, publication="newsletter")
    db.commit()
    response = client.post(
        f"/redaktion/ausgaben/{letter.id}/empfaenger",
        data={"version": letter.version, "also_send_to": ["gibtsnicht"]},
    )
    assert response.status_code == 422
    assert "error-summary" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Issue, letter.id).also_send_to is None


@pytest.mark.usefixtures("no_csrf")
def test_a_sent_issue_names_its_publications_without_a_count_or_a_choice(client, editor, db):
    letter = make_issue(db, publication="newsletter", status=IssueStatus.SENT, sent_at=utcnow())
    db.commit()
    html = client.get(f"/redaktion/ausgaben/{letter.id}").get_data(as_text=True)
    assert f"erhalten: {NEWSLETTER}, {TICKER}." in html.replace("&amp;", "&")
    assert 'id="audience-count"' not in html
    assert f"/redaktion/ausgaben/{letter.id}/empfaenger" not in html
