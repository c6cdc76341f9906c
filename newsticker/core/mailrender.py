"""Render transactional mails from templates/email/<name>.html and .txt, in one language."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from html import unescape
from typing import Any

from flask import current_app
from flask_babel import force_locale
from premailer import Premailer
from sqlalchemy.orm import Session

from newsticker.config import get_settings
from newsticker.core.branding import site_brand
from newsticker.core.i18n import text_direction
from newsticker.core.mailqueue import QueuedMail, queue_mail
from newsticker.core.site import site_links

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderedMail:
    """Subject, HTML and text of one mail, and the language they are written in."""

    subject: str
    html: str
    text: str
    language: str = ""


def inline_css(html: str, base_url: str | None = None) -> str:
    """Move the <style> rules into style attributes, never loading anything remote."""
    return str(
        Premailer(
            html,
            base_url=base_url,
            allow_network=False,
            disable_validation=True,
            cssutils_logging_level=logging.CRITICAL,
            keep_style_tags=True,  # media queries (dark mode, small screens) stay in <style>
            strip_important=False,
        ).transform(doctype="<!doctype html>")  # lxml drops it otherwise: quirks mode in clients
    )


def render_mail(template: str, language: str, **context: Any) -> RenderedMail:
    """Render email/<template>.txt (with a `subject` block) and .html in a language."""
    env = current_app.jinja_env
    settings = get_settings()
    context.setdefault("settings", settings)
    context.setdefault("site_name", settings.site.name)
    context.setdefault("brand", site_brand(settings, site_links()))
    context.setdefault("language", language)
    context.setdefault("dir", text_direction(language))
    # Sides for inline styles: mail programs know left and right better than logical sides.
    context.setdefault("start", "right" if context["dir"] == "rtl" else "left")
    context.setdefault("end", "left" if context["dir"] == "rtl" else "right")
    with force_locale(language):
        text_template = env.get_template(f"email/{template}.txt")
        subject_block = text_template.blocks.get("subject")
        if subject_block is None:
            raise LookupError(f"email/{template}.txt has no subject block")
        subject = "".join(subject_block(text_template.new_context(context))).strip()
        subject = " ".join(subject.split())  # one line: a subject can never carry CR/LF
        text = text_template.render(context).strip() + "\n"
        html_template = env.get_template(f"email/{template}.html")
        html = inline_css(html_template.render(context))
        text = _with_heading(text, html_template, context)
    return RenderedMail(subject=subject, html=html, text=text, language=language)


def _with_heading(text: str, html_template: Any, context: dict[str, Any]) -> str:
    """Start the text part with the HTML part's heading (its title block), as it does.

    The text part must say everything the HTML part says (read aloud, or in a client
    that shows only text); the heading lives in the HTML template alone.
    """
    block = html_template.blocks.get("title")
    if block is None:
        return text
    heading = " ".join(unescape("".join(block(html_template.new_context(context)))).split())
    if not heading or text.startswith(heading):
        return text
    return f"{heading}\n\n{text}"


def queue_rendered(
    session: Session,
    *,
    purpose: str,
    to: str,
    mail: RenderedMail,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> QueuedMail:
    """Queue a rendered mail from the site's sender; it is sent after the commit."""
    settings = get_settings()
    if mail.language:
        # RFC 3282: lets mail programs choose fonts, speech and spelling for the reader.
        headers = {"Content-Language": mail.language, **(headers or {})}
    return queue_mail(
        session,
        purpose=purpose,
        to=to,
        sender=settings.mail.sender,
        reply_to=reply_to or settings.mail.reply_to,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        headers=headers,
    )
