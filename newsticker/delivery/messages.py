"""The messages of one issue: a template per mail language, and one message per recipient.

Made once per sender: the issue is prepared (the frozen snapshot) and encoded once per
language. A recipient then costs two signed links (unsubscribe, preferences), maybe a
VERP token, and a join of bytes.
"""

from __future__ import annotations

from email.utils import parseaddr

from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.links import Links
from newsticker.core.tokens import KeyRing
from newsticker.delivery import audience
from newsticker.delivery.compose import Composed, MessageTemplate, PersonalValues, make_template
from newsticker.delivery.headers import (
    DkimKey,
    envelope_sender,
    list_headers,
    list_unsubscribe_header,
)
from newsticker.delivery.services import Claimed
from newsticker.issues.models import Issue
from newsticker.issues.rendering import MAIL_LANGUAGES, prepare_issue


class IssueMessages:
    """The issue's message templates per language, made once per sender."""

    def __init__(
        self, session: Session, issue: Issue, settings: Settings, keyring: KeyRing, links: Links
    ) -> None:
        publication = settings.publication(issue.publication)
        headers = list_headers(
            settings,
            issue_id=issue.id,
            publication_slug=issue.publication,
            publication_name=publication.name if publication else issue.publication,
        )
        dkim = DkimKey.from_settings(settings)
        # The languages frozen when the send started (those the issue needs); a recipient
        # of another language gets the default's, chosen per recipient by a dict lookup.
        languages = [snapshot.language for snapshot in issue.snapshots] or list(MAIL_LANGUAGES)
        self.templates: dict[str, MessageTemplate] = {
            language: make_template(
                prepare_issue(session, issue, language, links=links), headers, dkim=dkim
            )
            for language in languages
        }
        self.default_language = settings.site.default_language
        # The footer names the publication through which each recipient receives it.
        self.publication_names = {p.slug: p.name for p in settings.publications}
        self.keyring = keyring
        self.link_prefixes = audience.link_prefixes(links)
        self.sender = settings.mail.sender
        self.return_path = settings.mail.return_path
        self.mailto = audience_mailto(settings)
        # Without a VERP placeholder the envelope sender is the same for everyone.
        self.fixed_envelope = (
            ""
            if "{token}" in self.return_path
            else envelope_sender(self.return_path, self.sender, lambda: "")
        )

    def compose(self, claimed: Claimed) -> Composed:
        """Return the message for one claimed record: two signed links and a join."""
        template = self.templates.get(claimed.language) or self.templates[self.default_language]
        links = audience.links(
            self.keyring, self.link_prefixes, claimed.subscriber_id, claimed.publication
        )
        envelope = self.fixed_envelope or envelope_sender(
            self.return_path,
            self.sender,
            lambda: audience.verp_token(self.keyring, claimed.subscriber_id),
        )
        return template.compose(
            address=claimed.address,
            name=claimed.name,
            message_id=claimed.message_id,
            personal=PersonalValues(
                links["unsubscribe"],
                links["preferences"],
                envelope,
                self.publication_names.get(claimed.publication, ""),
            ),
            list_unsubscribe=list_unsubscribe_header(
                links["unsubscribe"], self.mailto, claimed.publication
            ),
        )


def audience_mailto(settings: Settings) -> str:
    """Return the address of List-Unsubscribe's mailto: the bounce mailbox's, else reply-to.

    bounces.unsubscribe_address is read with the returned mail, so a mail to it
    unsubscribes its sender (subscribers.bounces.requests).
    """
    if settings.bounces.unsubscribe_address:
        return settings.bounces.unsubscribe_address
    return parseaddr(settings.mail.reply_to)[1] or parseaddr(settings.mail.sender)[1]
