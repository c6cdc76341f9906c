"""Links in mails come from the configured base URL, never from a request."""

import pytest
from werkzeug.routing import Map, Rule

from newsticker.core.links import BuildError, SiteLinks

URL_MAP = Map(
    [
        Rule("/", endpoint="public.index"),
        Rule("/abmelden/<token>", endpoint="subscribers.unsubscribe"),
        Rule("/archiv/<publication>/<int:number>", endpoint="issues.archived"),
    ]
)


def test_links_use_the_base_url_with_its_path_and_scheme():
    links = SiteLinks(URL_MAP, "https://stadt.example/newsticker/")
    assert links.url("public.index") == "https://stadt.example/newsticker/"
    assert (
        links.url("issues.archived", publication="ticker", number=7)
        == "https://stadt.example/newsticker/archiv/ticker/7"
    )


def test_extra_values_become_the_query_and_anchor_the_fragment():
    links = SiteLinks(URL_MAP, "http://localhost:5000")
    url = links.url("subscribers.unsubscribe", token="a.b", lang="en", _anchor="top")
    assert url == "http://localhost:5000/abmelden/a.b?lang=en#top"
    assert links.path("subscribers.unsubscribe", token="x") == "/abmelden/x"


def test_has_tells_which_endpoints_exist():
    links = SiteLinks(URL_MAP, "http://localhost")
    assert links.has("public.index")
    assert not links.has("api.items")
    with pytest.raises(BuildError):
        links.url("api.items")


@pytest.mark.parametrize("base", ["stadt.example", "ftp://stadt.example", "https://"])
def test_a_base_url_that_is_not_absolute_http_is_refused(base):
    with pytest.raises(ValueError, match="base URL"):
        SiteLinks(URL_MAP, base)
