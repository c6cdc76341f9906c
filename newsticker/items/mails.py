"""Mails to submitters: receipt with the private link, approval, rejection, merge.

The links in them come from the `Links` the caller passes (the site's base URL), never
from the request a mail happens to be queued in.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request, url_for
from sqlalchemy.orm import Session

from newsticker.config import get_settings
from newsticker.core.i18n import mail_language
from newsticker.core.links import Links
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.mailrender import queue_rendered, render_mail
from newsticker.items.models import Item


def absolute_url(endpoint: str, **values: Any) -> str:
    """Return the URL of a page under the configured base URL, inside a request.

    Kept for the issue views that still call it; mails and item views use
    `newsticker.core.site.site_links()` instead.
    """
    path = url_for(endpoint, **values)
    if has_request_context() and request.script_root and path.startswith(request.script_root):
        path = path[len(request.script_root) :]
    return get_settings().site.base_url + path


def _language(item: Item) -> str:
    return mail_language(item.submitter_language, get_settings().site.default_language)


def queue_receipt(session: Session, item: Item, token: str, *, links: Links) -> QueuedMail | None:
    """Queue the receipt with the private link (sent after the commit)."""
    if not item.submitter_email:
        return None
    mail = render_mail(
        "item_receipt",
        _language(item),
        item=item,
        private_url=links.url("items.private", token=token),
    )
    return queue_rendered(session, purpose="item_receipt", to=item.submitter_email, mail=mail)


def queue_decision(
    session: Session, item: Item, template: str, *, links: Links, target: Item | None = None
) -> QueuedMail | None:
    """Queue the approval, rejection or merge notice for the submitter."""
    if not item.submitter_email:
        return None
    shown = target or item
    mail = render_mail(
        template,
        _language(item),
        item=item,
        target=target,
        public_url=links.url("items.detail", item_id=shown.id),
        submit_url=links.url("items.submit"),
    )
    return queue_rendered(session, purpose=template, to=item.submitter_email, mail=mail)
