"""Absolute links to the site's pages, built from the configured base URL.

Mails and jobs need links without a request: a receipt mailed during a request must
point at the public address, not at whatever host the request came through, and the
scheduler has no request at all. So the app's URL map is bound once to `site.base_url`
and every link in a mail is built through that binding (no fake request contexts).
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlsplit

from werkzeug.routing import BuildError, Map, MapAdapter

__all__ = ["BuildError", "Links", "SiteLinks"]


class Links(Protocol):
    """What services need to link to a page: an absolute URL for an endpoint."""

    def url(self, endpoint: str, /, **values: Any) -> str:
        """Return the absolute URL of an endpoint with its values (extras go in the query)."""
        ...

    def has(self, endpoint: str, /) -> bool:
        """Return whether the site serves this endpoint (features may be left out)."""
        ...


class SiteLinks:
    """Links under a base URL, from a URL map (the app's, once all blueprints are in)."""

    def __init__(self, url_map: Map, base_url: str) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base URL must be an absolute http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._endpoints = frozenset(rule.endpoint for rule in url_map.iter_rules())
        self._adapter: MapAdapter = url_map.bind(
            parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
        )

    def url(self, endpoint: str, /, **values: Any) -> str:
        """Return the absolute URL of an endpoint; unknown values become the query."""
        anchor = values.pop("_anchor", None)
        url = self._adapter.build(endpoint, values, force_external=True)
        return f"{url}#{anchor}" if anchor else url

    def has(self, endpoint: str, /) -> bool:
        """Return whether the map has this endpoint."""
        return endpoint in self._endpoints

    def path(self, endpoint: str, /, **values: Any) -> str:
        """Return the URL relative to the base URL (for lists of links shown to people)."""
        return self.url(endpoint, **values)[len(self.base_url) :] or "/"
