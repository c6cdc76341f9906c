"""Newsticker: submissions, subscribers and issues of a city's newsletter and newsticker."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from newsticker.config import ConfigError, Settings, load_settings

PACKAGE_DIR = Path(__file__).resolve().parent


def templates_dir() -> Path:
    """Return the templates folder: shipped inside the wheel, or the checkout's top level."""
    shipped = PACKAGE_DIR / "_templates"
    return shipped if shipped.is_dir() else PACKAGE_DIR.parent / "templates"


def create_app(config: Settings | dict[str, Any] | None = None) -> Flask:
    """Create the Flask application from settings (or overrides of the loaded settings)."""
    settings = config if isinstance(config, Settings) else load_settings(overrides=config)
    app = Flask(
        "newsticker",
        template_folder=str(templates_dir()),
        static_folder=str(PACKAGE_DIR / "static"),
        instance_path=str(settings.instance_dir),
    )
    # Before any route: every <int:…> in a URL fits the database's integer columns.
    app.url_map.converters["int"] = RowId
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    secure = settings.site.base_url.startswith("https://")
    app.config.update(
        NEWSTICKER_SETTINGS=settings,
        SECRET_KEY=_secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        SESSION_COOKIE_NAME="newsticker_session",
        PREFERRED_URL_SCHEME="https" if secure else "http",
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        WTF_CSRF_TIME_LIMIT=6 * 3600,
        BABEL_DEFAULT_LOCALE=settings.site.default_language,
        BABEL_DEFAULT_TIMEZONE=settings.site.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(PACKAGE_DIR / "translations"),
        RATELIMIT_STORAGE_URI=settings.rate_limits.storage_uri,
        RATELIMIT_STRATEGY="moving-window",
        RATELIMIT_ENABLED=True,
    )
    if settings.site.proxy_count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.site.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    _init_extensions(app, settings)
    _register_blueprints(app)
    return app


class RowId(IntegerConverter):
    """An <int:…> URL part that fits a 32-bit integer column unless the route says otherwise.

    PostgreSQL refuses a larger number in a query on such a column (a 500), so
    /angebote/99999999999 must not reach one: it is simply no such page (404).
    """

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = 2**31 - 1,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def _secret_key(settings: Settings) -> str:
    if settings.site.secret_key:
        return settings.site.secret_key
    if settings.site.production:
        raise ConfigError(
            "site.secret_key: required value is missing (production = true refuses to start "
            "without it; set it in config.toml or NEWSTICKER_SECRET_KEY)"
        )
    # Development and demo: make one once and keep it, so sessions survive a restart.
    path = settings.instance_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _init_extensions(app: Flask, settings: Settings) -> None:
    from newsticker.core.caching import init_caching
    from newsticker.core.db import db
    from newsticker.core.extensions import COMPRESS_SETTINGS, compress, csrf, limiter, login_manager
    from newsticker.core.http import init_http
    from newsticker.core.i18n import babel, lazy_gettext, select_locale
    from newsticker.core.templating import init_templating

    db.init_app(app, settings.database_url)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please log in to see this page.")
    login_manager.login_message_category = "info"
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    init_http(app)
    init_templating(app)
    for key, value in COMPRESS_SETTINGS.items():
        app.config.setdefault(key, value)
    compress.init_app(app)
    init_caching(app, settings.model_dump_json())


def _register_blueprints(app: Flask) -> None:
    from newsticker.api import init_api
    from newsticker.api.editor_views import bp as api_tokens_bp
    from newsticker.auth.views import bp as auth_bp
    from newsticker.delivery.views import bp as delivery_bp
    from newsticker.editor.views import bp as editor_bp
    from newsticker.issues.editor_views import bp as issues_editor_bp
    from newsticker.issues.views import bp as issues_bp
    from newsticker.items.editor_views import bp as items_editor_bp
    from newsticker.items.views import bp as items_bp
    from newsticker.public.views import bp as public_bp
    from newsticker.translators.editor_views import bp as translators_editor_bp
    from newsticker.translators.views import bp as translators_bp
    from newsticker.webhooks.views import bp as webhooks_bp
    from subscribers.editor_views import bp as subscribers_editor_bp
    from subscribers.views import bp as subscribers_bp

    for bp in (
        public_bp,
        auth_bp,
        editor_bp,
        items_bp,
        items_editor_bp,
        subscribers_bp,
        subscribers_editor_bp,
        issues_bp,
        issues_editor_bp,
        delivery_bp,
        api_tokens_bp,
        webhooks_bp,
        translators_bp,
        translators_editor_bp,
    ):
        app.register_blueprint(bp)
    init_api(app)
