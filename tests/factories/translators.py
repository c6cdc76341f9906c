"""Translators and translation requests, made through the services."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from newsticker.core.audit import Actor
from newsticker.core.db import utcnow
from newsticker.core.site import site_links
from newsticker.items.models import Item
from newsticker.translators import services
from newsticker.translators.models import TranslationRequest, Translator


def make_translator(session: Session, **values: Any) -> Translator:
    """Store an active translator into Arabic and Persian who reads mails in English."""
    data: dict[str, Any] = {
        "name": "Amal Haddad",
        "email": "amal@example.org",
        "languages": ["ar", "fa"],
        "mail_language": "en",
        "active": True,
        "note": "",
    }
    data.update(values)
    return services.save_translator(
        session, None, services.TranslatorData(**data), actor=Actor.system("test"), now=utcnow()
    )


def make_request(
    session: Session,
    item: Item,
    translator: Translator,
    *,
    language: str = "ar",
    link_days: int = 14,
    **values: Any,
) -> tuple[TranslationRequest, str]:
    """Ask a translator for a version of an item (inside an app context); return it and its token."""
    return services.ask_for_translation(
        session,
        item=item,
        language=language,
        translator=translator,
        note=values.pop("note", ""),
        due_on=values.pop("due_on", None),
        actor=values.pop("actor", Actor.system("test")),
        now=values.pop("now", utcnow()),
        link_days=link_days,
        links=site_links(),
    )
