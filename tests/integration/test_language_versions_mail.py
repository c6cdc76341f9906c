"""A ticker with items in three languages, sent through the real SMTP catcher to four languages.

Each subscriber's mail must carry every item in their language's version where it has
one (else the original), each marked with its own lang and dir, and the chrome
(headings, footer) in the subscriber's language as the catalogue says. The issue is
rendered once per language it needs, never per recipient.
"""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from newsticker.config import SmtpSettings, get_settings
from newsticker.core.catcher import MailCatcher
from newsticker.core.db import utcnow
from newsticker.core.i18n import gettext
from newsticker.core.mail import SmtpTransport
from newsticker.core.site import site_keyring, site_links
from newsticker.delivery import services as delivery_services
from newsticker.delivery.messages import IssueMessages
from newsticker.issues import rendering
from newsticker.issues.models import IssueEntry, IssueSnapshot, IssueStatus
from newsticker.issues.services import propose_article_version
from newsticker.items.services import propose_version
from tests.conftest import free_port
from tests.factories import create_editor, make_issue, make_item, make_subscriber

READERS = {
    "de": "leser@example.org",
    "en": "reader@example.org",
    "ar": "qari@example.org",
    "uk": "chytach@example.org",
}


@pytest.fixture
def catcher_dir(app, tmp_path):
    catcher = MailCatcher(tmp_path / "caught", "127.0.0.1", free_port()).start()
    yield catcher
    catcher.stop()


def _text(language: str, title: str) -> dict[str, str]:
    return {"language": language, "title": title, "summary": f"{title} …", "description": ""}


@pytest.fixture
def ticker(db):
    editor = create_editor(db)
    # German original with Arabic and Ukrainian versions.
    breakfast = make_item(db, title="Frühstück der Kulturen")
    propose_version(db, breakfast, _text("ar", "فطور الثقافات"), source="editor", user=editor)
    propose_version(db, breakfast, _text("uk", "Сніданок культур"), source="editor", user=editor)
    # A waiting version must not go out.
    propose_version(db, breakfast, _text("en", "Breakfast (unchecked)"), source="translator")
    # German original with an English version.
    bike = make_item(db, title="Fahrradwerkstatt")
    propose_version(db, bike, _text("en", "Bicycle workshop"), source="editor", user=editor)
    # A Persian original, no versions: everyone reads it right to left.
    advice = make_item(db, title="مشاوره حقوقی", summary="خلاصه", content_language="fa")
    issue = make_issue(db, items=[breakfast, bike, advice])
    issue.status = IssueStatus.SCHEDULED
    issue.scheduled_at = utcnow()
    for language, address in READERS.items():
        make_subscriber(db, address, language=language)
    db.flush()
    return issue


def _entries(html: str) -> list[tuple[str, str, str]]:
    """Return (lang, dir, title) of each entry block of a mail's HTML."""
    blocks = re.findall(
        r'<div lang="([a-z]+)" dir="(ltr|rtl)" class="rule".*?<h3[^>]*>(?:<a[^>]*>)?([^<]+)',
        html,
        re.S,
    )
    return [(lang, direction, title.strip()) for lang, direction, title in blocks]


def _send_all(app, db, issue, catcher) -> dict[str, email.message.EmailMessage]:
    delivery_services.start_issue(
        db, issue.id, now=utcnow(), settings=get_settings(), links=site_links()
    )
    messages = IssueMessages(db, issue, get_settings(), site_keyring(app), site_links())
    claimed = delivery_services.claim_batch(
        db, issue.id, owner="t", limit=50, now=utcnow(), lease_seconds=60
    )
    conn = SmtpTransport(SmtpSettings(host="127.0.0.1", port=catcher.port)).open()
    try:
        for record in claimed:
            composed = messages.compose(record)
            assert (
                conn.send_raw(composed.envelope_from, composed.recipient, composed.data)[:3]
                == "250"
            )
    finally:
        conn.close()
    received = {}
    for path in sorted(Path(catcher.maildir, "new").iterdir()):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        received[str(message["To"]).strip("<>").split("<")[-1].rstrip(">")] = message
    return received


def test_each_reader_gets_every_item_in_their_language_where_it_has_one(
    app, db, ticker, catcher_dir
):
    received = _send_all(app, db, ticker, catcher_dir)
    assert set(received) == set(READERS.values())
    # Rendered once per language the audience needs, not per recipient.
    languages = db.scalars(
        select(IssueSnapshot.language).where(IssueSnapshot.issue_id == ticker.id)
    ).all()
    assert sorted(languages) == ["ar", "de", "en", "uk"]
    persian = ("fa", "rtl", "مشاوره حقوقی")
    expected = {
        "de": [("de", "ltr", "Frühstück der Kulturen"), ("de", "ltr", "Fahrradwerkstatt"), persian],
        "en": [("de", "ltr", "Frühstück der Kulturen"), ("en", "ltr", "Bicycle workshop"), persian],
        "ar": [("ar", "rtl", "فطور الثقافات"), ("de", "ltr", "Fahrradwerkstatt"), persian],
        "uk": [("uk", "ltr", "Сніданок культур"), ("de", "ltr", "Fahrradwerkstatt"), persian],
    }
    for language, address in READERS.items():
        message = received[address]
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert _entries(html) == expected[language], language
        assert "Breakfast (unchecked)" not in html
        for _lang, _dir, title in expected[language]:
            assert title in text
        # The chrome speaks the reader's language, as its catalogue has it.
        direction = "rtl" if language == "ar" else "ltr"
        assert f'<html lang="{language}" dir="{direction}">' in html
        assert message["Content-Language"] == language
        with force_locale(language):
            for words in ("Events", "Unsubscribe", "Change your subscription"):
                assert gettext(words) in html, (language, words)


def test_the_sender_composes_from_one_template_per_language(app, db, ticker):
    delivery_services.start_issue(
        db, ticker.id, now=utcnow(), settings=get_settings(), links=site_links()
    )
    messages = IssueMessages(db, ticker, get_settings(), site_keyring(app), site_links())
    assert sorted(messages.templates) == ["ar", "de", "en", "uk"]


def test_a_reader_of_a_language_no_one_else_reads_adds_one_rendering(app, db, ticker):
    make_subscriber(db, "okuyucu@example.org", language="tr")
    assert rendering.needed_languages("de", ["tr", "de", "xx", "tr"]) == ["de", "tr"]
    snapshots = delivery_services.start_issue(
        db, ticker.id, now=utcnow(), settings=get_settings(), links=site_links()
    )
    assert snapshots is not None
    assert sorted(s.language for s in ticker.snapshots) == ["ar", "de", "en", "tr", "uk"]


def test_an_article_goes_out_in_its_version_of_the_readers_language(app, db):
    issue = make_issue(db, publication="newsletter")
    entry = IssueEntry(section="articles", title="Neues aus dem Büro", body="Text", language="de")
    issue.entries.append(entry)
    db.flush()
    propose_article_version(
        db, entry, {"language": "ar", "title": "أخبار المكتب", "body": "نص"}, source="editor"
    )
    arabic = rendering.render_issue(issue, "ar", links=site_links())
    german = rendering.render_issue(issue, "de", links=site_links())
    assert (
        '<div lang="ar" dir="rtl"' in arabic.html_template
        and "أخبار المكتب" in arabic.html_template
    )
    assert "Neues aus dem Büro" in german.html_template and "أخبار" not in german.html_template
