"""The embed inside another site's iframe: shown on an allowed origin, refused elsewhere."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import free_port
from tests.e2e.conftest import axe_violations
from tests.factories import make_item

pytestmark = pytest.mark.e2e

ALLOWED_PORT = free_port()


@pytest.fixture
def live_settings_overrides() -> dict[str, Any]:
    return {"embed.allowed_origins": [f"http://127.0.0.1:{ALLOWED_PORT}"]}


def host_page(embed_url: str, port: int) -> Iterator[str]:
    """Serve a CMS-like page with the embed in an iframe on another loopback port."""
    body = (
        "<!doctype html><html lang='de'><head><title>Stadt</title></head><body>"
        "<h1>Stadtportal</h1>"
        f"<iframe id='embed' src='{embed_url}' title='Angebote' "
        "style='width:100%;height:600px;border:0'></iframe></body></html>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def allowed_site(live_server) -> Iterator[str]:
    yield from host_page(f"{live_server.url}/embed/angebote", ALLOWED_PORT)


@pytest.fixture
def other_site(live_server) -> Iterator[str]:
    yield from host_page(f"{live_server.url}/embed/angebote", free_port())


def test_embed_renders_in_an_iframe_of_an_allowed_origin(page, live_server, allowed_site):
    live_server.run(lambda s: make_item(s, title="Sprachcafé im Hafen"))
    page.goto(allowed_site)
    frame = page.frame_locator("#embed")
    expect(frame.get_by_role("heading", name="Sprachcafé im Hafen")).to_be_visible()
    # The link opens the item on our site in the whole window, not inside the frame.
    frame.get_by_role("link", name="Sprachcafé im Hafen").click()
    expect(page).to_have_url(f"{live_server.url}/angebote/1")


def test_embed_is_refused_in_an_iframe_of_another_origin(page, live_server, other_site):
    live_server.run(lambda s: make_item(s, title="Sprachcafé im Hafen"))
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "frame-ancestors" in message.text else None,
    )
    page.goto(other_site)
    expect(page.get_by_role("heading", name="Stadtportal")).to_be_visible()
    # Chromium says why it refused; wait for that, then check nothing of ours is shown.
    for _ in range(150):
        if refused:
            break
        page.wait_for_timeout(100)
    assert refused, "the browser did not refuse the frame"
    expect(page.frame_locator("#embed").get_by_text("Sprachcafé im Hafen")).to_have_count(0)


def test_embed_is_accessible_on_its_own(page, live_server):
    live_server.run(lambda s: make_item(s, title="Sprachcafé im Hafen"))
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{live_server.url}/embed/angebote")
        assert axe_violations(page) == []
