"""Personal links, VERP tokens and suppression salts: pure functions, no app, no database."""

import pytest

from newsticker.config import Settings
from newsticker.core.tokens import KeyRing, TokenError
from subscribers import services

RING = KeyRing(["unit-test-secret"])


def prefixes(base: str) -> services.LinkPrefixes:
    """Return the link prefixes a site under this base URL has (as LinkPrefixes.from_links)."""
    base = base.rstrip("/")
    return services.LinkPrefixes(f"{base}/abmelden/", f"{base}/einstellungen/")


def test_personal_links_build_urls_and_headers_without_a_database():
    links = services.personal_links(RING, prefixes("https://news.example.org/"), 42, "ticker")
    assert links["unsubscribe"].startswith("https://news.example.org/abmelden/")
    assert links["preferences"].startswith("https://news.example.org/einstellungen/")
    assert links["list_unsubscribe"] == f"<{links['unsubscribe']}>"
    assert links["list_unsubscribe_post"] == "List-Unsubscribe=One-Click"
    token = links["unsubscribe"].rsplit("/", 1)[1]
    assert services.read_unsubscribe_token(RING, token) == (42, "ticker")
    prefs = links["preferences"].rsplit("/", 1)[1]
    assert services.read_preferences_token(RING, prefs) == 42


def test_links_are_stable_per_subscriber_and_publication():
    first = services.personal_links(RING, prefixes("https://x.example"), 7, "ticker")
    assert first == services.personal_links(RING, prefixes("https://x.example"), 7, "ticker")
    other = services.personal_links(RING, prefixes("https://x.example"), 7, "newsletter")
    assert other["unsubscribe"] != first["unsubscribe"]
    assert other["preferences"] == first["preferences"]
    assert services.personal_links(RING, prefixes("https://x.example"), 8, "ticker") != first


def test_tokens_are_bound_to_their_purpose():
    unsubscribe = services.unsubscribe_token(RING, 5, "ticker")
    preferences = services.preferences_token(RING, 5)
    with pytest.raises(TokenError):
        services.read_preferences_token(RING, unsubscribe)
    with pytest.raises(TokenError):
        services.read_unsubscribe_token(RING, preferences)
    with pytest.raises(TokenError):
        services.read_unsubscribe_token(
            RING, RING.sign(services.UNSUBSCRIBE_PURPOSE, "x", "ticker")
        )
    with pytest.raises(TokenError):
        services.read_unsubscribe_token(RING, RING.sign(services.UNSUBSCRIBE_PURPOSE, 5))


@pytest.mark.parametrize("cut", [1, 10, 43, 50])
def test_truncated_tokens_are_refused(cut):
    token = services.unsubscribe_token(RING, 5, "ticker")
    with pytest.raises(TokenError):
        services.read_unsubscribe_token(RING, token[:-cut])


def test_rotation_old_links_verify_new_links_sign_with_the_new_key():
    old = KeyRing(["old-secret"])
    rotated = KeyRing(["new-secret", "old-secret"])
    token = services.unsubscribe_token(old, 9, "newsletter")
    assert services.read_unsubscribe_token(rotated, token) == (9, "newsletter")
    fresh = services.unsubscribe_token(rotated, 9, "newsletter")
    with pytest.raises(TokenError):
        services.read_unsubscribe_token(old, fresh)


def test_verp_tokens_are_short_lowercase_and_checked():
    token = services.verp_token(RING, 123456)
    assert token.startswith("123456-") and token == token.lower()
    assert len("bounces+" + token) <= 64  # the local part of an address
    assert services.verp_subscriber_id(RING, token) == 123456
    assert services.verp_subscriber_id(RING, token.upper()) == 123456
    assert services.verp_subscriber_id(RING, "123457-" + token.split("-")[1]) is None
    assert services.verp_subscriber_id(KeyRing(["other"]), token) is None
    for junk in ("", "-", "abc-def", "1" * 20 + "-00"):
        assert services.verp_subscriber_id(RING, junk) is None


def test_suppression_salts_differ_per_secret_and_skip_empty_ones():
    salts = services.suppression_salts(["a", "", "b"])
    assert len(salts) == 2 and salts[0] != salts[1]
    assert all(len(salt) == 32 for salt in salts)
    assert services.suppression_salts(["a"]) == salts[:1]


def test_bounce_policy_defaults_are_those_of_the_config():
    assert services.BouncePolicy() == services.BouncePolicy(1, 5, 30)
    assert services.BouncePolicy.from_settings(Settings()) == services.BouncePolicy()


def test_a_single_soft_bounce_never_removes_anybody():
    with pytest.raises(ValueError, match="single soft bounce"):
        services.BouncePolicy(soft_threshold=1)
