"""Mails to subscribers: confirmation request, "already subscribed" notice, copy of their data.

The services pass in the settings and the finished links; nothing here reads the app.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.i18n import mail_language
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.mailrender import queue_rendered, render_mail

# Purposes in the mail queue; the per-address limit counts the first two together.
CONFIRM_PURPOSE = "subscription_confirm"
NOTICE_PURPOSE = "subscription_notice"
DATA_PURPOSE = "subscriber_data"


def publication_names(settings: Settings, slugs: Sequence[str]) -> list[str]:
    """Return the configured names of publications, in the given order."""
    names = []
    for slug in slugs:
        pub = settings.publication(slug)
        names.append(pub.name if pub is not None else slug)
    return names


def _language(settings: Settings, language: str) -> str:
    return mail_language(language, settings.site.default_language)


def queue_confirmation(
    session: Session,
    *,
    settings: Settings,
    to: str,
    language: str,
    publications: Sequence[str],
    confirm_url: str,
    expires_at: datetime,
) -> QueuedMail:
    """Queue the double opt-in mail with the confirmation link."""
    # The mail never repeats the name from the form: a double opt-in form must not be a
    # way to send strangers a text of one's choosing.
    mail = render_mail(
        "subscription_confirm",
        _language(settings, language),
        publications=publication_names(settings, publications),
        confirm_url=confirm_url,
        expires_at=expires_at,
        retention_days=settings.retention.pending_signup_days,
    )
    return queue_rendered(session, purpose=CONFIRM_PURPOSE, to=to, mail=mail)


def queue_already_subscribed(
    session: Session,
    *,
    settings: Settings,
    to: str,
    language: str,
    publications: Sequence[str],
    preferences_url: str,
) -> QueuedMail:
    """Queue the notice that the address already receives what was asked for."""
    mail = render_mail(
        "subscription_already",
        _language(settings, language),
        publications=publication_names(settings, publications),
        preferences_url=preferences_url,
    )
    return queue_rendered(session, purpose=NOTICE_PURPOSE, to=to, mail=mail)


def queue_data_copy(
    session: Session,
    *,
    settings: Settings,
    to: str,
    language: str,
    data_url: str,
    link_days: int,
    preferences_url: str,
) -> QueuedMail:
    """Queue the mail with the link to everything stored about the subscriber."""
    context: dict[str, Any] = {
        "data_url": data_url,
        "link_days": link_days,
        "preferences_url": preferences_url,
    }
    mail = render_mail("subscriber_data", _language(settings, language), **context)
    return queue_rendered(session, purpose=DATA_PURPOSE, to=to, mail=mail)
