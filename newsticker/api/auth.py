"""Bearer tokens on API calls: who calls, with which scopes. Cookies never count here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from werkzeug.exceptions import Forbidden, Unauthorized

from newsticker.api import services
from newsticker.api.models import ApiScope, ApiToken
from newsticker.auth.models import User
from newsticker.core.audit import Actor
from newsticker.core.db import db, utcnow

F = TypeVar("F", bound=Callable[..., Any])

BEARER = "bearer"
SECURITY: list[dict[str, list[str]]] = [{BEARER: []}]


class _Refused(Unauthorized):
    def __init__(self, error: str) -> None:
        super().__init__(
            www_authenticate=None,
        )
        self.data = {"headers": {"WWW-Authenticate": f'Bearer realm="newsticker", error="{error}"'}}


def _bearer_secret() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if scheme.lower() != BEARER:
        return ""
    return secret.strip()


def token_required(scope: ApiScope) -> Callable[[F], F]:
    """Let the view run only with a usable token that has this scope (401/403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            secret = _bearer_secret()
            if not secret:
                raise _Refused("invalid_request")
            token = services.authenticate(db.session, secret, now=utcnow())
            user = db.session.get(User, token.user_id) if token is not None else None
            if token is None or user is None or not user.is_active:
                raise _Refused("invalid_token")
            if not token.allows(scope):
                raise Forbidden()
            g.api_token = token
            g.api_user = user
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def current_token() -> ApiToken:
    """Return the token of this call (inside a view guarded by token_required)."""
    token: ApiToken = g.api_token
    return token


def current_actor() -> Actor:
    """Return the audit trail's actor of this call: the token's account, named with the token."""
    token = current_token()
    user: User = g.api_user
    return Actor(
        label=f"{user.email} (api token '{token.name}')",
        user_id=user.id,
        ip=request.remote_addr or "",
    )
