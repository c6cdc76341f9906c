"""Public pages a browser or a shared proxy may keep: validators from the data, 304s.

After a send, thousands of readers follow the ticker's links within minutes. A public
page declares the version of the data it shows (`Version`: a token and when it last
changed); the page's ETag is that version with the reader's language, the URL and the
build of the site (configuration and templates), so it changes exactly when the page
can. A request that brings the ETag back gets 304 before anything is rendered.

Only what is the same for every visitor is public: a logged-in editor's pages (the
navigation differs) and any answer that starts a session (a form's CSRF token) are
private and never stored. The ETag is weak: a compressed answer (Flask-Compress) is the
same page in another encoding, and Flask-Compress leaves weak validators alone.

Because the ETag names everything a public page depends on, each worker also keeps the
last pages it rendered by ETag (`_RenderedPages`): a visitor without validators gets
the stored page after the version's queries, without rendering it again. Rendering is
what a list page costs most (its queries are indexed); a burst of visitors after a
send asks for the same few pages. A visitor with a session (a flashed message, a form
started) is served by the view, never from the store.

For the same reason the compressed bodies of those pages are kept by encoding and ETag
(`CompressedPages`, Flask-Compress's cache backend): browsers and calendar apps ask for
gzip or Brotli, and compressing half a megabyte of iCal on every poll would cost more
than building it once did.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, g, make_response, request, session
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.wrappers import Response

PUBLIC = "public, max-age=60, stale-while-revalidate=300"
PRIVATE = "private, no-store"
_BUILD = "newsticker_build"
_RENDERED = "newsticker_rendered_pages"
_COMPRESSED = "newsticker_compressed_pages"

View = TypeVar("View", bound=Callable[..., ResponseReturnValue])

# Rendered public pages kept per worker: how many, and the largest body kept.
RENDERED_PAGES = 128
RENDERED_PAGE_MAX_BYTES = 512 * 1024


@dataclass(frozen=True)
class Version:
    """What a page shows, in short: a token that changes with it, and when it changed."""

    token: str
    last_modified: datetime | None = None
    exists: bool = True  # False: the view answers 404, never a 304 for "If-None-Match: *"


def init_caching(app: Flask, fingerprint: str) -> None:
    """Remember the site's build: the settings' fingerprint and the templates' state."""
    templates = Path(app.root_path, app.template_folder or "templates")
    stamps = sorted(
        f"{path.relative_to(templates)}:{path.stat().st_mtime_ns}"
        for path in templates.rglob("*")
        if path.is_file()
    )
    digest = hashlib.sha256("\n".join([fingerprint, *stamps]).encode("utf-8")).hexdigest()
    app.extensions[_BUILD] = digest[:16]
    app.extensions[_RENDERED] = _RenderedPages(RENDERED_PAGES)
    app.extensions[_COMPRESSED] = CompressedPages(RENDERED_PAGES)


class _RenderedPages:
    """The last public pages a worker rendered, by ETag (least recently used go first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[str, tuple[bytes, list[tuple[str, str]]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, etag: str) -> Response | None:
        """Return a fresh response of the page stored under this ETag, or None."""
        with self._lock:
            found = self._pages.get(etag)
            if found is None:
                return None
            self._pages.move_to_end(etag)
        body, headers = found
        return Response(body, status=200, headers=headers)

    def clear(self) -> None:
        """Forget every stored page."""
        with self._lock:
            self._pages.clear()

    def keep(self, etag: str, response: Response) -> None:
        """Store a rendered page (not a streamed or a large one)."""
        if response.is_streamed or response.direct_passthrough:
            return
        body = response.get_data()
        if len(body) > RENDERED_PAGE_MAX_BYTES:
            return
        with self._lock:
            self._pages[etag] = (body, list(response.headers.items()))
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


class CompressedPages:
    """A worker's compressed bodies of public pages, by "encoding;ETag".

    Only answers `conditional` marked as the same for every visitor have a key
    (`compressed_page_key`); any other answer is compressed afresh and never kept.
    """

    def __init__(self, size: int = RENDERED_PAGES) -> None:
        self.size = size
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """Return the compressed body kept under this key, or None."""
        if key.endswith(_UNKEPT):
            return None
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def set(self, key: str, body: bytes) -> None:
        """Keep a compressed body (the least recently used goes when full)."""
        if key.endswith(_UNKEPT):
            return
        with self._lock:
            self._bodies[key] = body
            while len(self._bodies) > self.size:
                self._bodies.popitem(last=False)


class AppCompressedPages:
    """Flask-Compress's cache backend: the current app's `CompressedPages`."""

    def get(self, key: str) -> bytes | None:
        """Return the compressed body kept under this key, or None."""
        pages: CompressedPages = current_app.extensions[_COMPRESSED]
        return pages.get(key)

    def set(self, key: str, body: bytes) -> None:
        """Keep a compressed body."""
        pages: CompressedPages = current_app.extensions[_COMPRESSED]
        pages.set(key, body)


_UNKEPT = ";-"
_PUBLIC_ETAG = "newsticker_public_etag"


def compressed_page_key(_request: object) -> str:
    """Return the ETag of a page every visitor gets alike, else "-" (never kept)."""
    return str(g.get(_PUBLIC_ETAG) or "-")


def conditional(
    version: Callable[..., Version], *, cache_control: str = PUBLIC
) -> Callable[[View], View]:
    """Serve a public page with validators from `version(**view_args)`; 304 when unchanged."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            if request.method not in ("GET", "HEAD") or current_user.is_authenticated:
                return _private(make_response(view(*args, **kwargs)))
            shown = version(*args, **kwargs)
            etag = _etag(shown.token)
            pages: _RenderedPages | None = (
                current_app.extensions.get(_RENDERED) if shown.exists and not session else None
            )
            if shown.exists and request.if_none_match.contains_weak(etag):
                response = Response(status=304)
            elif pages is not None and (stored := pages.get(etag)) is not None:
                response = stored
                g.setdefault(_PUBLIC_ETAG, etag)
            else:
                response = make_response(view(*args, **kwargs))
                if response.status_code != 200:
                    return response
                if session.modified:
                    # The page started a session (a form's token): it is this visitor's.
                    return _private(response)
                if pages is not None:
                    pages.keep(etag, response)
                    g.setdefault(_PUBLIC_ETAG, etag)
            response.set_etag(etag, weak=True)
            if shown.last_modified is not None:
                response.last_modified = shown.last_modified
            response.headers["Cache-Control"] = cache_control
            if response.status_code == 200:
                response.make_conditional(request)
            return response

        return wrapped  # type: ignore[return-value]

    return decorator


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = PRIVATE
    return response


def _etag(token: str) -> str:
    parts = [
        current_app.extensions.get(_BUILD, ""),
        str(get_locale() or ""),
        request.full_path,
        token,
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
