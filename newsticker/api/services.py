"""Creating, listing, revoking and checking API tokens.

A token is `nt_` and 43 random characters; the database keeps its SHA-256 digest and the
first characters (so an editor recognises it in the list). The whole token is returned
once, when it is made. Every change is in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsticker.api.models import ApiScope, ApiToken
from newsticker.core.audit import Actor, record_event
from newsticker.core.i18n import LazyText
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.tokens import random_token, token_digest

TOKEN_PREFIX = "nt_"  # noqa: S105 (what every token starts with, not a secret)
PREFIX_SHOWN = 10
MAX_TOKEN_LENGTH = 200
MAX_DAYS = 730
MAX_NAME = 100


class TokenRefused(ValueError):
    """A token cannot be made or changed as asked; the message says why."""

    def __init__(self, message: LazyText) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class NewToken:
    """A token just made: the stored row and the secret, shown this once."""

    token: ApiToken
    secret: str


def create_token(
    session: Session,
    *,
    user_id: int,
    name: str,
    scopes: list[str],
    days: int,
    actor: Actor,
    now: datetime,
) -> NewToken:
    """Make a token for an account; return it with its secret (never stored)."""
    name = " ".join(name.split())
    if not name:
        raise TokenRefused(_l("Please give the token a name."))
    if len(name) > MAX_NAME:
        raise TokenRefused(_l("Please use at most %(max)d characters.", max=MAX_NAME))
    known = {scope.value for scope in ApiScope}
    chosen = sorted(set(scopes))
    if not chosen or not set(chosen) <= known:
        raise TokenRefused(_l("Please choose at least one permission."))
    if not 1 <= days <= MAX_DAYS:
        raise TokenRefused(
            _l("A token may be valid for 1 to %(max)d days.", max=MAX_DAYS),
        )
    secret = TOKEN_PREFIX + random_token(32)
    token = ApiToken(
        user_id=user_id,
        name=name,
        digest=token_digest(secret),
        prefix=secret[:PREFIX_SHOWN],
        scopes=chosen,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    record_event(
        session,
        "api.token_created",
        actor=actor,
        now=now,
        subject=("api_token", token.id),
        summary=name,
        details={"scopes": chosen, "expires_at": token.expires_at.isoformat()},
    )
    return NewToken(token=token, secret=secret)


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    """Return an account's tokens, newest first (revoked ones too)."""
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
        )
    )


def revoke_token(
    session: Session, token_id: int, *, user_id: int, actor: Actor, now: datetime
) -> ApiToken | None:
    """Revoke one of an account's tokens; None if it has no such token."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        return None
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
        record_event(
            session,
            "api.token_revoked",
            actor=actor,
            now=now,
            subject=("api_token", token.id),
            summary=token.name,
        )
    return token


def authenticate(session: Session, secret: str, *, now: datetime) -> ApiToken | None:
    """Return the usable token with this secret (and note its use), else None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_LENGTH:
        return None
    token = session.scalars(select(ApiToken).where(ApiToken.digest == token_digest(secret))).first()
    if token is None or not token.usable(now):
        return None
    # Noted at most once a minute, so reading calls do not write on every request.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return token


def record_api_change(
    session: Session,
    action: str,
    *,
    actor: Actor,
    now: datetime,
    subject: tuple[str, object] | None = None,
    summary: str = "",
    details: dict[str, object] | None = None,
) -> None:
    """Record a change made through the API in the audit trail ("api." + action)."""
    record_event(
        session,
        f"api.{action}",
        actor=actor,
        now=now,
        subject=subject,
        summary=summary,
        details=dict(details or {}),
    )
