"""Mails to editors: the password reset link."""

from __future__ import annotations

from sqlalchemy.orm import Session

from newsticker.auth.models import User
from newsticker.core.i18n import editor_mail_language
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.mailrender import queue_rendered, render_mail


def queue_reset_mail(session: Session, user: User, reset_url: str, *, minutes: int) -> QueuedMail:
    """Queue the mail with a password reset link, in the user's language."""
    language = editor_mail_language(user.language)
    mail = render_mail("password_reset", language, user=user, reset_url=reset_url, minutes=minutes)
    return queue_rendered(session, purpose="password_reset", to=user.email, mail=mail)
