"""The editors' subscriber blueprint and what its pages share.

The routes live in subscribers.editor_views (the list and one subscriber) and
subscribers.import_views (importing a list); both register on `bp` here.
"""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from newsticker.config import get_settings
from newsticker.core.access import protect_editor_blueprint
from newsticker.core.db import db
from subscribers import services
from subscribers.models import ImportStatus, Subscriber, SubscriptionStatus

bp = Blueprint("subscribers_editor", __name__, url_prefix="/redaktion/abonnenten")
protect_editor_blueprint(bp)
bp.add_app_template_global(SubscriptionStatus, "SubscriptionStatus")
bp.add_app_template_global(ImportStatus, "ImportStatus")


def actor() -> str:
    """Return who acts: the signed-in editor's address, for the consent log."""
    return str(getattr(current_user, "email", "") or "")


def subscriber_or_404(subscriber_id: int) -> Subscriber:
    """Return the subscriber with this id, or answer 404."""
    subscriber = services.get_subscriber(db.session, subscriber_id)
    if subscriber is None:
        abort(404)
    return subscriber


def publication_names() -> dict[str, str]:
    """Return the configured publications' names by slug."""
    return {p.slug: p.name for p in get_settings().publications}
