"""The public journeys in each interface language: choose it with the switch, submit an event,
subscribe, confirm through the mail's link, unsubscribe.

Texts are compared with the catalogue (the message in that language), never with literal
strings, so the test holds whatever the translators write; every page and mail must say
which language it is in and which way it runs (html lang and dir).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask_babel import force_locale
from playwright.sync_api import expect

from newsticker.core.db import utcnow
from newsticker.core.i18n import LANGUAGES, gettext, text_direction
from newsticker.core.site import site_keyring, site_links
from subscribers import services

pytestmark = pytest.mark.e2e

CONFIRM_LINK = re.compile(r"https?://\S+/bestaetigen/[A-Za-z0-9_-]+")
PRIVATE_LINK = re.compile(r"https?://\S+/einreichung/[A-Za-z0-9_-]+")


def texts(live_server: Any, language: str):  # type: ignore[no-untyped-def]
    """Return a function giving a message in `language`, as the catalogue has it."""

    def t(message: str, **values: Any) -> str:
        with live_server.app.test_request_context(), force_locale(language):
            return gettext(message, **values)

    return t


def assert_page_language(page: Any, language: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", text_direction(language))


def assert_mail_language(mail: Any, language: str) -> None:
    assert mail.message["Content-Language"] == language
    html = mail.body("html")
    assert f'<html lang="{language}" dir="{text_direction(language)}">' in html


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_public_journeys_in_each_language(page, live_server, language):
    t = texts(live_server, language)
    base = live_server.url

    # Choose the language with the switch in the footer: it names itself.
    page.goto(f"{base}/")
    switch = page.locator("form.language-switch")
    button = switch.get_by_role("button", name=LANGUAGES[language], exact=True)
    expect(button).to_have_attribute("lang", language)
    button.click()
    assert_page_language(page, language)
    expect(switch.locator(f'button[value="{language}"]')).to_have_attribute("aria-pressed", "true")

    # Submit an event through the public form; the receipt comes in the page's language.
    page.goto(f"{base}/einreichen")
    assert_page_language(page, language)
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Submit an event or announcement"))
    day = (utcnow() + timedelta(days=12)).date()
    page.locator("#title").fill(f"Sprachcafé {language}")
    page.locator("#summary").fill("Gemeinsam sprechen und Tee trinken.")
    page.locator("#field_of_action-4").check()
    page.locator("#start_date").fill(day.isoformat())
    page.locator("#start_time").fill("17:00")
    page.locator("#end_time").fill("19:00")
    page.locator("#place_name").fill("Stadtteiltreff Neustadt")
    page.locator("#organiser").fill("Sprachcafé Neustadt")
    page.locator("#submitter_email").fill(f"einreicherin-{language}@example.org")
    expect(page.locator(f'input[name="mail_language"][value="{language}"]')).to_be_checked()
    page.locator("#consent").check()
    page.locator("form.item-form button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Thank you!"))
    assert_page_language(page, language)
    (receipt,) = live_server.mails()
    assert receipt.to == f"einreicherin-{language}@example.org"
    assert_mail_language(receipt, language)
    assert t("Open my submission") in receipt.body("html")
    assert PRIVATE_LINK.search(receipt.body("plain"))

    # Subscribe, choosing the language of the mails (the page's language is preselected).
    address = f"leserin-{language}@example.org"
    page.goto(f"{base}/abonnieren")
    assert_page_language(page, language)
    choice = page.locator(f'input[name="language"][value="{language}"]')
    expect(choice).to_be_checked()
    label = page.locator(f'label[for="{choice.get_attribute("id")}"]')
    expect(label).to_have_attribute("lang", language)
    expect(label).to_have_text(LANGUAGES[language])
    page.locator("#email").fill(address)
    page.locator("#publications-0").check()
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("Almost done: please check your inbox")
    )
    assert_page_language(page, language)
    confirmation = live_server.mails()[0]
    assert confirmation.to == address
    assert_mail_language(confirmation, language)

    # Confirm through the mail's link: the page asks, the button confirms.
    page.goto(CONFIRM_LINK.search(confirmation.body("plain")).group(0))
    assert_page_language(page, language)
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Confirm your subscription"))
    page.get_by_role("button", name=t("Confirm subscription")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("Thank you: your subscription is confirmed")
    )
    assert_page_language(page, language)

    def stored_language(session: Any) -> tuple[int, str]:
        subscriber = services.find_subscriber(session, address)
        return subscriber.id, subscriber.language

    subscriber_id, stored = live_server.run(stored_language)
    assert stored == language

    # Unsubscribe with the personal link every issue carries.
    with live_server.app.test_request_context():
        ring = site_keyring()
    prefixes = services.LinkPrefixes.from_links(site_links(live_server.app))
    url = services.personal_links(ring, prefixes, subscriber_id, "ticker")["unsubscribe"]
    page.goto(url)
    assert_page_language(page, language)
    page.get_by_role("button", name=t("Unsubscribe now")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("You have been unsubscribed"))
    assert_page_language(page, language)
