"""What an app gives the code that calls services: its links and its key ring.

Views, commands and jobs call these and pass the results into services, which never
read the Flask app themselves. Both are built once per app and kept in app.extensions.
"""

from __future__ import annotations

from flask import Flask, current_app

from newsticker.config import Settings
from newsticker.core.links import SiteLinks
from newsticker.core.tokens import KeyRing

_LINKS = "newsticker_links"
_KEYRING = "newsticker_keyring"


def _app(app: Flask | None) -> Flask:
    return app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]


def app_settings(app: Flask | None = None) -> Settings:
    """Return the settings of an app (the current one by default)."""
    settings: Settings = _app(app).config["NEWSTICKER_SETTINGS"]
    return settings


def site_links(app: Flask | None = None) -> SiteLinks:
    """Return the app's links under the configured base URL (built on first use)."""
    flask_app = _app(app)
    links: SiteLinks | None = flask_app.extensions.get(_LINKS)
    if links is None:
        links = SiteLinks(flask_app.url_map, app_settings(flask_app).site.base_url)
        flask_app.extensions[_LINKS] = links
    return links


def site_keyring(app: Flask | None = None) -> KeyRing:
    """Return the key ring that signs links: the secret key first, then the old ones."""
    flask_app = _app(app)
    keyring: KeyRing | None = flask_app.extensions.get(_KEYRING)
    if keyring is None:
        secrets = [flask_app.config["SECRET_KEY"], *app_settings(flask_app).site.old_secret_keys]
        keyring = KeyRing(secrets)
        flask_app.extensions[_KEYRING] = keyring
    return keyring
