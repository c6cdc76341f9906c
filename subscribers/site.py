"""What the subscribers' views and commands take from the app and pass into services.

The key ring and the links come from `newsticker.core.site`; the suppression salts are
the subscribers' own: one per secret key, derived by `services.suppression_salts`.
"""

from __future__ import annotations

from flask import Flask, current_app

from newsticker.core.site import app_settings
from subscribers.services import suppression_salts


def site_salts(app: Flask | None = None) -> list[bytes]:
    """Return the app's suppression-list salts, newest first (the current app by default)."""
    flask_app: Flask = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
    secrets = [flask_app.config["SECRET_KEY"], *app_settings(flask_app).site.old_secret_keys]
    return suppression_salts(secrets)
