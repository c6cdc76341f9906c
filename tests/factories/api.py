"""API tokens for tests, made through the service (so they are stored as the site stores them)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from newsticker.api.models import ApiScope
from newsticker.api.services import create_token
from newsticker.auth.models import User
from newsticker.core.audit import Actor
from newsticker.core.db import utcnow

ALL_SCOPES = [scope.value for scope in ApiScope]


def make_token(
    session: Session, user: User, scopes: list[str] | None = None, days: int = 30
) -> str:
    """Make a token of an account and return its secret, for `Authorization: Bearer`."""
    made = create_token(
        session,
        user_id=user.id,
        name="Test-CMS",
        scopes=list(scopes if scopes is not None else ALL_SCOPES),
        days=days,
        actor=Actor(label=user.email, user_id=user.id),
        now=utcnow(),
    )
    return made.secret


def bearer(secret: str, language: str = "de") -> dict[str, str]:
    """Return the headers of an API call with this token."""
    return {"Authorization": f"Bearer {secret}", "Accept-Language": language}
