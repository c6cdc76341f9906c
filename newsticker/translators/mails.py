"""Mails about translation requests: the request with its private link, and a decline.

The translator reads theirs in the language they chose (German or English); the editor
who asked reads the decline in their account's language. Links come from the `Links`
the caller passes (the site's base URL), never from the request the mail is queued in.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from sqlalchemy.orm import Session

from newsticker.auth.models import User
from newsticker.core.links import Links
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.mailrender import RenderedMail, queue_rendered, render_mail
from newsticker.items.languages import language_name
from newsticker.translators.models import MAIL_LANGUAGES, TranslationRequest


def mail_language(code: str) -> str:
    """Return a mail language the site writes in (German unless English was chosen)."""
    return code if code in MAIL_LANGUAGES else "de"


def _render(
    template: str, language: str, request: TranslationRequest, **context: Any
) -> RenderedMail:
    """Render a mail about a request, naming its language in the reader's language."""
    with force_locale(language):
        target = language_name(request.language)
    return render_mail(
        template,
        language,
        translation=request,
        translator=request.translator,
        target_language=target,
        **context,
    )


def queue_request(
    session: Session, request: TranslationRequest, token: str, *, links: Links
) -> QueuedMail:
    """Queue the request with its private link to the translator (sent after the commit)."""
    translator = request.translator
    mail = _render(
        "translation_request",
        mail_language(translator.mail_language),
        request,
        page_url=links.url("translators.translate", token=token),
    )
    return queue_rendered(session, purpose="translation_request", to=translator.email, mail=mail)


def queue_declined(
    session: Session, request: TranslationRequest, *, links: Links
) -> QueuedMail | None:
    """Tell the editor who asked that the translator declined (nobody when they are gone)."""
    editor = session.get(User, request.created_by_id) if request.created_by_id else None
    if editor is None or not editor.active:
        return None
    mail = _render(
        "translation_declined",
        mail_language(editor.language),
        request,
        requests_url=links.url("translators_editor.index"),
    )
    return queue_rendered(session, purpose="translation_declined", to=editor.email, mail=mail)
