"""The mails themselves: alt texts, real headings, a complete text part, contrast in dark mode.

Every mail the system sends in a normal week is produced on a live server and caught on
loopback: the issue mails (ticker and newsletter, German and English, as test sends),
the submission receipt and decision mails, the double opt-in mail, the data copy and
whatever else the site sent meanwhile. Their HTML is loaded into Chromium in the light and
the dark colour scheme and audited by axe-core (WCAG 2.0/2.1 A and AA).
"""

from __future__ import annotations

import html as html_module
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import select

from newsticker.core.db import utcnow
from newsticker.core.site import site_keyring, site_links
from newsticker.issues import services as issue_services
from newsticker.issues.models import Issue, IssueStatus
from newsticker.items import services as item_services
from newsticker.items.models import Item, ItemStatus
from subscribers import services as subs
from subscribers.models import Subscriber
from tests.e2e.test_accessibility import AXE_TAGS, Auditor
from tests.security.world import build_world

pytestmark = pytest.mark.e2e


class _Mail(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[dict[str, str | None]] = []
        self.headings: list[str] = []
        self.links: list[str] = []
        self.lang = ""
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang") or ""
        elif tag == "img":
            self.images.append(values)
        elif tag == "a" and (values.get("href") or "").startswith("http"):
            self.links.append(html_module.unescape(values["href"] or ""))
        elif tag in ("h1", "h2", "h3", "h4"):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3", "h4") and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def structure_problems(subject: str, html: str, text: str) -> list[str]:
    """Return missing alt texts, missing headings, and what the text part leaves out."""
    mail = _Mail()
    mail.feed(html)
    problems = []
    if mail.lang not in ("de", "en"):
        problems.append(f"{subject}: <html lang> is {mail.lang!r}")
    for image in mail.images:
        if image.get("alt") is None:
            problems.append(f"{subject}: image without alt: {image.get('src', '')[:60]}")
    if not mail.headings:
        problems.append(f"{subject}: no heading (h1–h4) at all")
    plain = _fold(text)
    for heading in mail.headings:
        if _fold(heading) not in plain:
            problems.append(f"{subject}: heading {heading!r} is missing from the text part")
    for link in mail.links:
        if link not in text and link.rstrip("/") not in text:
            problems.append(f"{subject}: link {link[:80]} is missing from the text part")
    return problems


def _send_the_mails(session: Any, settings: Any, world: Any) -> None:
    """Make the site send one of each mail."""
    from newsticker.items.images import upload_dir

    now = utcnow()
    addresses = ["pruefung@example.org"]
    for issue in session.scalars(select(Issue).where(Issue.status == IssueStatus.DRAFT.value)):
        for language in ("de", "en"):
            issue_services.send_test(
                session,
                issue,
                addresses,
                language=language,
                settings=settings,
                links=site_links(),
                values={
                    "unsubscribe_url": settings.site.base_url + "/abonnieren",
                    "preferences_url": settings.site.base_url + "/abonnieren",
                },
            )
    for language in ("de", "en"):
        item, _token = item_services.submit_item(
            session,
            item_services.ItemData(
                kind="announcement",
                title=f"Ablehnung ({language})",
                summary="Ein Beispiel für eine Absage.",
                organiser="Verein",
            ),
            submitter_email=f"absage-{language}@example.org",
            submitter_language=language,
            image=None,
            upload_dir=upload_dir(),
            tz=settings.tz,
            now=now,
            links=site_links(),
        )
        item_services.reject_item(
            session,
            item,
            reason="Das passt leider nicht.",
            user_id=None,
            now=now,
            links=site_links(),
        )
    subscriber = session.get(Subscriber, world.ids["subscriber"])
    subs.send_data_copy(
        session,
        subscriber,
        keyring=site_keyring(),
        links=site_links(),
        settings=settings,
        ip=None,
        now=now,
        window_hours=24,
    )
    # An already confirmed reader signs up again: a short notice instead of a link.
    subs.request_subscription(
        session,
        subs.SignupRequest(
            email=subscriber.email,
            name="",
            language="en",
            publications=tuple(subs.confirmed_publications(subscriber)) or ("ticker",),
            ip=None,
            form_url=settings.site.base_url + "/abonnieren",
        ),
        keyring=site_keyring(),
        links=site_links(),
        settings=settings,
        now=now,
    )
    pending = session.scalars(select(Item).where(Item.status == ItemStatus.SUBMITTED.value)).first()
    if pending is not None:
        item_services.approve_item(session, pending, user_id=None, now=now, links=site_links())


def test_every_mail_is_accessible_in_light_and_dark_mode(browser, live_server):
    settings = live_server.app.config["NEWSTICKER_SETTINGS"]
    world = live_server.run_in_request(lambda s: build_world(s, settings))
    live_server.run_in_request(lambda s: _send_the_mails(s, settings, world))
    mails = live_server.mails()
    kinds = {re.sub(r"\d+", "#", m.subject) for m in mails}
    assert len(mails) >= 10 and len(kinds) >= 6, kinds
    auditor = Auditor()
    problems: list[str] = []
    audited = 0
    for scheme in ("light", "dark"):
        context = browser.new_context(
            viewport={"width": 375, "height": 900}, color_scheme=scheme, java_script_enabled=True
        )
        page = context.new_page()
        try:
            for mail in mails:
                html = mail.body("html")
                text = mail.body("plain") or ""
                assert text.strip(), f"{mail.subject}: no text part"
                if html is None:
                    continue
                if scheme == "light":
                    problems += structure_problems(mail.subject, html, text)
                page.set_content(html)
                for rule, nodes in auditor.violations(page):
                    problems.append(f"{mail.subject} ({scheme}): {rule} {nodes[:2]}")
                audited += 1
        finally:
            context.close()
    print(f"mails: {len(mails)} caught, {audited} audits ({len(kinds)} kinds) in {AXE_TAGS}")
    assert not problems, "\n".join(dict.fromkeys(problems))
