"""The translators the editors keep: adding, changing, deactivating, choosing one.

A translator is never deleted from here: their past requests keep naming them, and an
inactive translator simply is no longer offered for new requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsticker.core.audit import Actor, record_event
from newsticker.core.errors import UserError
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.translators.models import Translator


class TranslatorError(UserError):
    """A change to a translator or a request that is refused, with a message for the user."""


@dataclass(frozen=True)
class TranslatorData:
    """What the editors say about a translator."""

    name: str
    email: str
    languages: list[str]
    mail_language: str
    active: bool
    note: str


def list_translators(session: Session) -> list[Translator]:
    """Return all translators, the active ones first, by name."""
    return list(
        session.scalars(
            select(Translator).order_by(
                Translator.active.desc(), func.lower(Translator.name), Translator.id
            )
        )
    )


def translators_for(session: Session, language: str) -> list[Translator]:
    """Return the active translators who translate into a language, by name."""
    # The languages are a short JSON list per person and the list is short: filtered here,
    # the same way on SQLite and PostgreSQL.
    return [t for t in list_translators(session) if t.active and language in t.languages]


def save_translator(
    session: Session,
    translator: Translator | None,
    data: TranslatorData,
    *,
    actor: Actor,
    now: datetime,
) -> Translator:
    """Add a translator (translator None) or change one; the address must be new."""
    email = data.email.strip().lower()
    taken = session.scalars(select(Translator).where(func.lower(Translator.email) == email)).first()
    if taken is not None and taken is not translator:
        raise TranslatorError(_l("A translator with this e-mail address is already listed."))
    action = "translator.changed"
    if translator is None:
        translator = Translator(created_at=now)
        session.add(translator)
        action = "translator.added"
    translator.name = data.name.strip()
    translator.email = email
    translator.languages = list(dict.fromkeys(data.languages))
    translator.mail_language = data.mail_language
    translator.active = data.active
    translator.note = data.note.strip()
    translator.updated_at = now
    session.flush()
    record_event(
        session,
        action,
        actor=actor,
        now=now,
        subject=("translator", translator.id),
        summary=translator.name,
        details={"languages": translator.languages, "active": translator.active},
    )
    return translator


def set_active(
    session: Session, translator: Translator, active: bool, *, actor: Actor, now: datetime
) -> None:
    """Offer a translator for new requests again, or no longer."""
    if translator.active == active:
        return
    translator.active = active
    translator.updated_at = now
    record_event(
        session,
        "translator.activated" if active else "translator.deactivated",
        actor=actor,
        now=now,
        subject=("translator", translator.id),
        summary=translator.name,
    )
    session.flush()
