"""Translation requests: asking a translator, their answer, expiry, and what is still open.

An editor asks one translator for one language of an item (or an article of an issue).
The translator gets a private link: a random token of which only the digest is stored
(as for a submitter's link, `core/tokens.py`), valid for `translators.link_days` and
for one answer. Their translation becomes a version of the item through the items
package's own service (`propose_version`, source "translator"), with the same rules
as a submission, and waits in moderation like any other version; approving or
rejecting it there closes the request (`follow_versions`, a flush hook, so the
moderation code needs to know nothing of translators). Every step is in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.orm.exc import StaleDataError

from newsticker.auth.models import User
from newsticker.core.audit import Actor, actor_or, record_event
from newsticker.core.errors import UserError
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.links import Links
from newsticker.core.tokens import random_token, token_digest
from newsticker.issues.models import ArticleVersion, IssueEntry
from newsticker.issues.services.versions import (
    ArticleVersionInput,
    approve_article_version,
    article_version_errors,
    propose_article_version,
)
from newsticker.items.languages import LANGUAGE_CODES
from newsticker.items.models import Item, ItemVersion, VersionStatus
from newsticker.items.services.versions import (
    VersionInput,
    approve_version,
    propose_version,
    reject_version,
    version_errors,
)
from newsticker.translators.mails import queue_declined, queue_request
from newsticker.translators.models import (
    PENDING_STATUSES,
    RequestStatus,
    TranslationRequest,
    Translator,
)
from newsticker.translators.services.people import TranslatorError, translators_for

# Tokens longer than this are refused before any lookup.
MAX_TOKEN_LENGTH = 200


class LinkClosed(TranslatorError):
    """The request was answered, withdrawn or has run out: the link is used up."""


class TranslationInvalid(TranslatorError):
    """The translation breaks the rules of a version; nothing is stored."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(_l("Please correct the marked fields."))
        self.errors = errors


@dataclass(frozen=True)
class PendingRequest:
    """An open or submitted request, as the dashboard lists it."""

    request: TranslationRequest
    overdue: bool


def translator_actor(translator: Translator) -> Actor:
    """Return a translator as the actor of the audit trail (they have no account)."""
    return Actor(label=f"translator {translator.email}")


def _target(request: TranslationRequest) -> tuple[str, object]:
    if request.item_id is not None:
        return ("item", request.item_id)
    return ("issue_entry", request.entry_id)


def _record(
    session: Session,
    action: str,
    request: TranslationRequest,
    *,
    actor: Actor,
    now: datetime,
    **details: Any,
) -> None:
    kind, target_id = _target(request)
    record_event(
        session,
        action,
        actor=actor,
        now=now,
        subject=("translation_request", request.id),
        summary=f"{request.language}: {request.title}"[:200],
        details={
            kind: target_id,
            "language": request.language,
            "translator": request.translator.email,
            **details,
        },
    )


def ask_for_translation(
    session: Session,
    *,
    item: Item | None = None,
    entry: IssueEntry | None = None,
    language: str,
    translator: Translator,
    note: str,
    due_on: date | None,
    actor: Actor,
    now: datetime,
    link_days: int,
    links: Links,
) -> tuple[TranslationRequest, str]:
    """Ask a translator for a version of an item or article; mail them; return request, token."""
    if item is not None and entry is None:
        original, same_target = item.content_language, TranslationRequest.item_id == item.id
    elif entry is not None and item is None:
        if not entry.is_article or not entry.issue.is_draft:
            raise TranslatorError(_l("Only articles of a draft issue can be translated."))
        original, same_target = entry.language, TranslationRequest.entry_id == entry.id
    else:
        raise ValueError("ask for the translation of an item or of an article, not both")
    if language == original:
        raise TranslatorError(_l("The original is already in this language."))
    if not translator.active or language not in translator.languages:
        raise TranslatorError(_l("This translator does not translate into this language."))
    if due_on is not None and due_on < now.date():
        raise TranslatorError(_l("The due date has passed already."))
    pending = session.scalars(
        select(TranslationRequest.id).where(
            TranslationRequest.translator_id == translator.id,
            TranslationRequest.language == language,
            TranslationRequest.status.in_(PENDING_STATUSES),
            same_target,
        )
    ).first()
    if pending is not None:
        raise TranslatorError(
            _l("This translator has already been asked for this language and has not answered.")
        )
    token = random_token()
    request = TranslationRequest(
        item=item,
        entry=entry,
        language=language,
        translator=translator,
        status=RequestStatus.OPEN,
        note=note.strip(),
        due_on=due_on,
        token_digest=token_digest(token),
        expires_at=now + timedelta(days=link_days),
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    session.flush()
    _record(session, "translation.requested", request, actor=actor, now=now)
    queue_request(session, request, token, links=links)
    return request, token


def language_offers(session: Session, original_language: str) -> list[tuple[str, list[Translator]]]:
    """Return each item language but the original with its active translators (if any)."""
    offers = []
    for code in LANGUAGE_CODES:
        translators = translators_for(session, code) if code != original_language else []
        if translators:
            offers.append((code, translators))
    return offers


def find_request(session: Session, token: str) -> TranslationRequest | None:
    """Return the request a private link belongs to, or None for an unknown link."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return session.scalars(
        select(TranslationRequest).where(TranslationRequest.token_digest == token_digest(token))
    ).first()


def link_usable(request: TranslationRequest, *, now: datetime) -> bool:
    """Return whether the translator may still answer through the link."""
    # An article can only change while its issue is a draft; once sent, the link is over.
    sent = request.entry is not None and not request.entry.issue.is_draft
    return request.status == RequestStatus.OPEN and request.expires_at > now and not sent


def _check_usable(request: TranslationRequest, now: datetime) -> None:
    if request.status == RequestStatus.OPEN and not link_usable(request, now=now):
        raise LinkClosed(_l("This link has expired."))
    if request.status != RequestStatus.OPEN:
        raise LinkClosed(_l("This request has already been answered or closed."))


def _translation_errors(request: TranslationRequest, data: VersionInput) -> dict[str, list[Any]]:
    """Return what is wrong with a translation, by the rules of the item's or article's versions."""
    if request.item is not None:
        return version_errors(request.item, data)
    assert request.entry is not None
    errors = article_version_errors(request.entry, _article_input(data))
    # The translator's form calls an article's body its description.
    if "body" in errors:
        errors["description"] = errors.pop("body")
    return errors


def _article_input(data: VersionInput) -> ArticleVersionInput:
    return ArticleVersionInput(
        language=data["language"], title=data["title"], body=data["description"]
    )


def _answer(
    session: Session, request: TranslationRequest, status: RequestStatus, now: datetime
) -> None:
    """Mark the request answered: of two answers sent at once, only one gets through.

    The row's version counter makes the second transaction's UPDATE match nothing.
    """
    request.status = status
    request.answered_at = request.updated_at = now
    try:
        session.flush()
    except StaleDataError as exc:
        raise LinkClosed(_l("This request has already been answered or closed.")) from exc


def submit_translation(
    session: Session,
    request: TranslationRequest,
    *,
    language: str,
    title: str,
    summary: str,
    description: str,
    now: datetime,
) -> None:
    """Store the translator's version (it waits for an editor) and close the link."""
    _check_usable(request, now)
    if request.item is None and request.entry is None:
        # The item or article is gone (its requests go with it; this is a stale read).
        raise LinkClosed(_l("This request has already been answered or closed."))
    if language != request.language:
        raise TranslationInvalid({"language": [_l("This request is for another language.")]})
    data = VersionInput(language=language, title=title, summary=summary, description=description)
    errors = _translation_errors(request, data)
    if errors:
        raise TranslationInvalid(errors)
    _answer(session, request, RequestStatus.SUBMITTED, now)
    version: ItemVersion | ArticleVersion
    if request.item is not None:
        version = propose_version(session, request.item, data, source="translator", now=now)
        request.item_version_id = version.id
    else:
        assert request.entry is not None
        version = propose_article_version(
            session, request.entry, _article_input(data), source="translator", now=now
        )
        request.article_version_id = version.id
    session.flush()
    _record(
        session,
        "translation.submitted",
        request,
        actor=translator_actor(request.translator),
        now=now,
        version=version.id,
    )


def decline_request(
    session: Session, request: TranslationRequest, *, reason: str, now: datetime, links: Links
) -> None:
    """Record that the translator declined, and tell the editor who asked."""
    _check_usable(request, now)
    request.decline_reason = reason.strip()
    _answer(session, request, RequestStatus.DECLINED, now)
    _record(
        session,
        "translation.declined",
        request,
        actor=translator_actor(request.translator),
        now=now,
    )
    queue_declined(session, request, links=links)


def translation_of(
    session: Session, request: TranslationRequest
) -> ItemVersion | ArticleVersion | None:
    """Return the version the translator sent (None before, or once an editor deleted it)."""
    if request.item_version_id is not None:
        return session.get(ItemVersion, request.item_version_id)
    if request.article_version_id is not None:
        return session.get(ArticleVersion, request.article_version_id)
    return None


def review_translation(
    session: Session,
    request: TranslationRequest,
    *,
    approve: bool,
    user: User | None,
    reason: str = "",
    now: datetime,
) -> ItemVersion | ArticleVersion:
    """Publish or turn down the translator's version (the request follows, `follow_versions`)."""
    version = translation_of(session, request)
    if (
        request.status != RequestStatus.SUBMITTED
        or version is None
        or version.status != VersionStatus.SUBMITTED
    ):
        raise TranslatorError(_l("This translation has already been reviewed or replaced."))
    if isinstance(version, ItemVersion):
        if approve:
            approve_version(session, version, user=user, now=now)
        else:
            reject_version(session, version, user=user, reason=reason, now=now)
    elif approve:
        try:
            approve_article_version(session, version, user=user, now=now)
        except UserError as exc:  # the issue has gone out meanwhile
            raise TranslatorError(exc.message) from exc
    else:
        # The issues package has no rejection of an article's version: it stays stored,
        # never shown (mails use approved versions only), as an item's rejected one does.
        version.status = VersionStatus.REJECTED
        version.updated_at = now
    session.flush()
    return version


def withdraw_request(
    session: Session, request: TranslationRequest, *, actor: Actor, now: datetime
) -> None:
    """Take back a request the translator has not answered; its link stops working."""
    if request.status != RequestStatus.OPEN:
        raise TranslatorError(
            _l("Only a request still waiting for the translator can be withdrawn.")
        )
    request.status = RequestStatus.WITHDRAWN
    request.updated_at = now
    session.flush()
    _record(session, "translation.withdrawn", request, actor=actor, now=now)


# A submitted request whose version an editor deleted (the column is then NULL).
_VERSION_GONE = (
    (TranslationRequest.status == RequestStatus.SUBMITTED)
    & TranslationRequest.item_version_id.is_(None)
    & TranslationRequest.article_version_id.is_(None)
)


def expire_requests(session: Session, *, now: datetime) -> int:
    """Close the open requests whose link has run out, and those whose version was deleted.

    Return how many were closed.
    """
    due = list(
        session.scalars(
            select(TranslationRequest).where(
                or_(
                    (TranslationRequest.status == RequestStatus.OPEN)
                    & (TranslationRequest.expires_at <= now),
                    _VERSION_GONE,
                )
            )
        )
    )
    for request in due:
        gone = request.status == RequestStatus.SUBMITTED
        request.status = RequestStatus.REJECTED if gone else RequestStatus.EXPIRED
        request.updated_at = now
        action = "translation.rejected" if gone else "translation.expired"
        _record(session, action, request, actor=Actor.system("scheduler"), now=now)
    session.flush()
    return len(due)


def pending_requests(session: Session, *, today: date) -> list[PendingRequest]:
    """Return the open and submitted requests, soonest due first, each marked when overdue."""
    rows = session.scalars(
        select(TranslationRequest)
        .where(TranslationRequest.status.in_(PENDING_STATUSES), ~_VERSION_GONE)
        .order_by(
            TranslationRequest.due_on.is_(None),
            TranslationRequest.due_on,
            TranslationRequest.id,
        )
    )
    return [
        PendingRequest(
            request=r,
            overdue=r.status == RequestStatus.OPEN and r.due_on is not None and r.due_on < today,
        )
        for r in rows
    ]


def requests_for(
    session: Session, *, item: Item | None = None, entry: IssueEntry | None = None
) -> list[TranslationRequest]:
    """Return the requests for an item or an article, newest first."""
    target = (
        TranslationRequest.item_id == item.id
        if item is not None
        else TranslationRequest.entry_id == (entry.id if entry is not None else None)
    )
    return list(
        session.scalars(
            select(TranslationRequest).where(target).order_by(TranslationRequest.id.desc())
        )
    )


def recent_requests(session: Session, *, limit: int = 100) -> list[TranslationRequest]:
    """Return the newest requests of any status."""
    return list(
        session.scalars(
            select(TranslationRequest).order_by(TranslationRequest.id.desc()).limit(limit)
        )
    )


# -------------------------------------------------- closing requests from moderation

_DECIDED = {
    VersionStatus.APPROVED: RequestStatus.PUBLISHED,
    VersionStatus.REJECTED: RequestStatus.REJECTED,
}


def _decided_versions(session: Session) -> dict[tuple[type, int], RequestStatus]:
    decided = {}
    for obj in session.dirty:
        if not isinstance(obj, ItemVersion | ArticleVersion):
            continue
        if get_history(obj, "status").has_changes() and obj.status in _DECIDED:
            decided[(type(obj), obj.id)] = _DECIDED[obj.status]
    return decided


@event.listens_for(Session, "before_flush")
def follow_versions(session: Session, _context: Any, _instances: Any) -> None:
    """Close the submitted requests whose version an editor approved or rejected.

    Moderation of versions belongs to the items and issues packages and knows nothing
    of translators; this hook, run before each flush, follows what they decided.
    """
    decided = _decided_versions(session)
    if not decided:
        return
    item_ids = [i for kind, i in decided if kind is ItemVersion]
    article_ids = [i for kind, i in decided if kind is ArticleVersion]
    with session.no_autoflush:
        requests = session.scalars(
            select(TranslationRequest).where(
                TranslationRequest.status == RequestStatus.SUBMITTED,
                or_(
                    TranslationRequest.item_version_id.in_(item_ids),
                    TranslationRequest.article_version_id.in_(article_ids),
                ),
            )
        ).all()
    for request in requests:
        version = translation_of(session, request)
        if version is None:
            continue
        # The decision's own time and, for an item's version, its editor.
        user_id = version.approved_by_id if isinstance(version, ItemVersion) else None
        request.status = decided[(type(version), version.id)]
        request.updated_at = version.updated_at
        _record(
            session,
            "translation.published"
            if request.status == RequestStatus.PUBLISHED
            else "translation.rejected",
            request,
            actor=actor_or(None, user_id, "editor"),
            now=version.updated_at,
        )
