"""Flask extensions shared by every blueprint, created unbound and initialised in create_app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from newsticker.config import get_settings
from newsticker.core.caching import AppCompressedPages, compressed_page_key

csrf = CSRFProtect()
login_manager = LoginManager()
# Storage comes from [rate_limits] storage_uri: memory:// per process, redis:// shared
# across gunicorn workers and hosts.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


# An action that comes through a form and through the API counts once per client,
# whichever door it takes: both doors use the one shared limit of its scope (the
# counter's key is the scope, not the endpoint). Each door says what counts as done.
def submission_limit(deduct_when: Callable[[Any], bool]) -> Any:
    """Limit submissions (the form /einreichen and the API) per client, on one counter."""
    return limiter.shared_limit(
        lambda: get_settings().rate_limits.submit_per_ip,
        "submission",
        methods=["POST"],
        deduct_when=deduct_when,
    )


def subscription_limit(deduct_when: Callable[[Any], bool]) -> Any:
    """Limit sign-ups (the form /abonnieren and the API) per client, on one counter."""
    return limiter.shared_limit(
        lambda: get_settings().rate_limits.subscribe_per_ip,
        "subscription",
        methods=["POST"],
        deduct_when=deduct_when,
    )


# Pages, feeds and the API's JSON are compressed when the client accepts it (gzip or
# Brotli); a proxy in front may do it instead, this keeps a bare gunicorn fast too.
compress = Compress()
COMPRESS_SETTINGS = {
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/plain",
        "text/css",
        "text/javascript",
        "text/calendar",
        "application/atom+xml",
        "application/json",
        "application/feed+json",
        "image/svg+xml",
    ],
    "COMPRESS_MIN_SIZE": 2048,
    # Streamed answers (static files) stay as they are: Flask-Compress's streaming path
    # leaves the file open, and the proxy or the browser cache serves them anyway.
    "COMPRESS_STREAMS": False,
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 4,
    "COMPRESS_LEVEL": 6,
    # Public pages and feeds are compressed once per encoding and version, not per visit.
    "COMPRESS_CACHE_BACKEND": AppCompressedPages,
    "COMPRESS_CACHE_KEY": compressed_page_key,
}
