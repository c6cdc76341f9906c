"""Properties of the link tokens as the subscriber links use them.

Extends tests/unit/test_tokens.py (round trips, tampering, purposes of the bare key
ring) with the readers the web pages call, fed arbitrary and hostile strings.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from newsticker.core.tokens import KeyRing, TokenError, random_token, token_digest
from subscribers import services as subs

RING = KeyRing(["the-site-secret", "an-old-secret"])
STRANGER = KeyRing(["someone-elses-secret"])
ids = st.integers(min_value=1, max_value=2**31)
slugs = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)
junk = st.one_of(
    st.text(),
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", max_size=120
    ),
    st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
)


@settings(max_examples=500)
@given(junk)
def test_readers_refuse_arbitrary_strings_with_token_error_only(token: str) -> None:
    for read in (subs.read_preferences_token, subs.read_unsubscribe_token):
        try:
            read(RING, token)
        except TokenError:
            continue
        raise AssertionError(f"{read.__name__} accepted {token!r}")
    assert subs.verp_subscriber_id(RING, token) is None


@given(ids, slugs)
def test_each_link_opens_only_its_own_door(subscriber_id: int, slug: str) -> None:
    prefs = subs.preferences_token(RING, subscriber_id)
    unsub = subs.unsubscribe_token(RING, subscriber_id, slug)
    assert subs.read_preferences_token(RING, prefs) == subscriber_id
    assert subs.read_unsubscribe_token(RING, unsub) == (subscriber_id, slug)
    for read, token in (
        (subs.read_preferences_token, unsub),
        (subs.read_unsubscribe_token, prefs),
        (subs.read_preferences_token, subs.preferences_token(STRANGER, subscriber_id)),
        (subs.read_unsubscribe_token, subs.unsubscribe_token(STRANGER, subscriber_id, slug)),
    ):
        try:
            read(RING, token)
        except TokenError:
            continue
        raise AssertionError("a token opened a door it was not made for")


@given(ids, ids)
def test_verp_tokens_name_exactly_one_subscriber(a: int, b: int) -> None:
    token = subs.verp_token(RING, a)
    assert subs.verp_subscriber_id(RING, token) == a
    assert subs.verp_subscriber_id(STRANGER, token) is None
    if a != b:
        assert token != subs.verp_token(RING, b)


@settings(max_examples=50)
@given(st.integers(min_value=16, max_value=64))
def test_random_tokens_are_distinct_and_their_digests_too(nbytes: int) -> None:
    tokens = {random_token(nbytes) for _ in range(200)}
    assert len(tokens) == 200
    assert len({token_digest(t) for t in tokens}) == 200
    assert all(len(t) >= 22 for t in tokens)


def test_verp_tokens_from_hostile_bounces_are_refused_not_crashing():
    from newsticker.core.tokens import KeyRing
    from subscribers.services import verp_subscriber_id

    ring = KeyRing(["secret-one"])
    for token in ("12-ü", "²-abc", "١٢-abc", "12-" + "é" * 16, "", "-", "x-y"):
        assert verp_subscriber_id(ring, token) is None
