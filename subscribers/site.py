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
    secret_key = (app if app is not None else current_app).config["SECRET_KEY"]
    return suppression_salts([secret_key, *app_settings(app).site.old_secret_keys])
