"""Personal links from the site's links: prefixes built once, then a join per recipient."""

from __future__ import annotations

from typing import Any

import pytest

from newsticker.core.site import site_keyring, site_links
from subscribers import services


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # A site under a path: the prefixes must keep it, as the URL map does.
    return {"site.base_url": "https://news.example.org/stadt/"}


def test_prefixes_are_the_pages_up_to_their_token(app):
    prefixes = services.LinkPrefixes.from_links(site_links(app))
    assert prefixes == services.LinkPrefixes(
        unsubscribe="https://news.example.org/stadt/abmelden/",
        preferences="https://news.example.org/stadt/einstellungen/",
    )


def test_personal_links_equal_the_links_the_url_map_builds(app):
    ring = site_keyring(app)
    links = site_links(app)
    result = services.personal_links(ring, services.LinkPrefixes.from_links(links), 42, "ticker")
    assert result["unsubscribe"] == links.url(
        "subscribers.unsubscribe", token=services.unsubscribe_token(ring, 42, "ticker")
    )
    assert result["preferences"] == services.preferences_url(links, ring, 42)
    assert result["list_unsubscribe"] == f"<{result['unsubscribe']}>"


class _TokenInTheMiddle:
    def url(self, endpoint: str, /, **values: Any) -> str:
        return f"https://example.org/{values['token']}/page"

    def has(self, endpoint: str, /) -> bool:
        return True


def test_a_page_whose_url_does_not_end_with_the_token_is_refused():
    with pytest.raises(ValueError, match="must end with its token"):
        services.LinkPrefixes.from_links(_TokenInTheMiddle())
