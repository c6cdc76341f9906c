"""Who may see what: the editor area needs a login, admin pages the admin role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, g, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from newsticker.core.audit import Actor

F = TypeVar("F", bound=Callable[..., Any])


def protect_editor_blueprint(bp: Blueprint) -> None:
    """Require a logged-in editor for every route of an editor-area blueprint."""

    @bp.before_request
    @login_required
    def _require_login() -> ResponseReturnValue | None:
        g.private_page = True
        return None


def admin_required(view: F) -> F:
    """Refuse the view (403) to users without the admin role."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated or not getattr(current_user, "is_admin", False):
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def request_actor() -> Actor:
    """Return who acts in this request, for the audit trail: the signed-in account and its IP."""
    user_id = getattr(current_user, "id", None) if current_user else None
    label = str(getattr(current_user, "email", "") or "") or "anonymous"
    return Actor(label=label, user_id=user_id, ip=(request.remote_addr or "") if request else "")
