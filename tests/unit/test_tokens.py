"""Tests for signed and random tokens."""

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from newsticker.core.tokens import (
    MAX_TOKEN_LENGTH,
    KeyRing,
    TokenError,
    TokenExpired,
    random_token,
    token_digest,
)

parts_strategy = st.lists(st.text() | st.integers(), max_size=6)
purposes = st.text(min_size=1, max_size=30)
URL_SAFE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing(["current-secret"])


@given(purpose=purposes, parts=parts_strategy)
def test_round_trip_for_arbitrary_parts(purpose: str, parts: list[str | int]) -> None:
    ring = KeyRing(["s3cret"])
    token = ring.sign(purpose, *parts)
    assert URL_SAFE.fullmatch(token)
    assert ring.verify(purpose, token) == [str(part) for part in parts]


@given(parts=parts_strategy, data=st.data())
def test_any_single_character_change_fails(parts: list[str | int], data: st.DataObject) -> None:
    ring = KeyRing(["s3cret"])
    token = ring.sign("unsubscribe", *parts)
    index = data.draw(st.integers(0, len(token) - 1), label="index")
    # Mostly characters a URL could carry, so the MAC check is what fails.
    replacement = data.draw(
        st.sampled_from("ABCDEFGHabcdefgh0123456789-_.QgwAE") | st.characters(),
        label="replacement",
    )
    assume(replacement != token[index])
    forged = token[:index] + replacement + token[index + 1 :]
    with pytest.raises(TokenError):
        ring.verify("unsubscribe", forged)


@given(parts=parts_strategy, data=st.data())
def test_any_truncation_fails(parts: list[str | int], data: st.DataObject) -> None:
    ring = KeyRing(["s3cret"])
    token = ring.sign("confirm", *parts)
    cut = data.draw(st.integers(0, len(token) - 1), label="cut")
    with pytest.raises(TokenError):
        ring.verify("confirm", token[:cut])
    with pytest.raises(TokenError):
        ring.verify("confirm", token[cut + 1 :])


@given(a=purposes, b=purposes, parts=parts_strategy)
def test_token_for_one_purpose_never_verifies_for_another(
    a: str, b: str, parts: list[str | int]
) -> None:
    assume(a != b)
    ring = KeyRing(["s3cret"])
    with pytest.raises(TokenError):
        ring.verify(b, ring.sign(a, *parts))


@given(parts=parts_strategy)
def test_token_survives_rotation_until_old_key_is_dropped(
    parts: list[str | int],
) -> None:
    old = KeyRing(["old-secret"])
    token = old.sign("preferences", *parts)
    rotated = KeyRing(["new-secret", "old-secret"])
    assert rotated.verify("preferences", token) == [str(p) for p in parts]
    # New tokens are signed with the newest key only.
    fresh = rotated.sign("preferences", *parts)
    assert KeyRing(["new-secret"]).verify("preferences", fresh) == [str(p) for p in parts]
    with pytest.raises(TokenError):
        old.verify("preferences", fresh)
    with pytest.raises(TokenError):
        KeyRing(["new-secret"]).verify("preferences", token)


def test_different_secrets_give_different_tokens() -> None:
    assert KeyRing(["a"]).sign("p", 1) != KeyRing(["b"]).sign("p", 1)


def test_int_parts_come_back_as_strings(ring: KeyRing) -> None:
    assert ring.verify("unsubscribe", ring.sign("unsubscribe", 42, 7)) == ["42", "7"]


def test_parts_with_separators_and_unicode_round_trip(ring: KeyRing) -> None:
    parts = ["a.b", "c;d", '"quoted"', "Jürgen <j@x.de>", "", "\ud800", "💌"]
    assert ring.verify("p", ring.sign("p", *parts)) == parts


@pytest.mark.parametrize(
    "token",
    [
        "",
        ".",
        "abc",
        "abc.",
        ".abc",
        "abc.def",
        "a.b.c",
        "not a token",
        "ä" * 50 + "." + "A" * 43,
        "A" * (MAX_TOKEN_LENGTH + 1),
    ],
)
def test_malformed_tokens_are_refused(ring: KeyRing, token: str) -> None:
    with pytest.raises(TokenError):
        ring.verify("p", token)


def test_non_string_token_is_refused(ring: KeyRing) -> None:
    with pytest.raises(TokenError):
        ring.verify("p", None)  # type: ignore[arg-type]


def test_trailing_newline_is_refused(ring: KeyRing) -> None:
    with pytest.raises(TokenError):
        ring.verify("p", ring.sign("p", 1) + "\n")


def test_timestamped_token_verifies_within_max_age() -> None:
    clock = FakeClock()
    ring = KeyRing(["s"], clock=clock)
    token = ring.sign("confirm", 5, ts=True)
    clock.now += 3600
    assert ring.verify("confirm", token, max_age=3600) == ["5"]
    # Without max_age the timestamp is carried but not enforced.
    clock.now += 10**6
    assert ring.verify("confirm", token) == ["5"]


def test_timestamped_token_expires() -> None:
    clock = FakeClock()
    ring = KeyRing(["s"], clock=clock)
    token = ring.sign("confirm", 5, ts=True)
    clock.now += 3601
    with pytest.raises(TokenExpired):
        ring.verify("confirm", token, max_age=3600)


def test_expired_is_a_token_error() -> None:
    assert issubclass(TokenExpired, TokenError)


def test_max_age_refuses_a_token_without_timestamp(ring: KeyRing) -> None:
    token = ring.sign("confirm", 5)
    with pytest.raises(TokenError) as excinfo:
        ring.verify("confirm", token, max_age=3600)
    assert not isinstance(excinfo.value, TokenExpired)


def test_timestamp_is_not_a_part(ring: KeyRing) -> None:
    assert ring.verify("p", ring.sign("p", "x", ts=True)) == ["x"]


def test_signed_and_timed_tokens_differ(ring: KeyRing) -> None:
    assert ring.sign("p", "x") != ring.sign("p", "x", ts=True)


@pytest.mark.parametrize("bad", [[], [""], [b""]])
def test_key_ring_needs_non_empty_secrets(bad: list[str | bytes]) -> None:
    with pytest.raises(ValueError, match="secret"):
        KeyRing(bad)


def test_key_ring_refuses_a_lone_string() -> None:
    with pytest.raises(TypeError):
        KeyRing("secret")


def test_bytes_secrets_work() -> None:
    assert KeyRing([b"s"]).verify("p", KeyRing(["s"]).sign("p", 1)) == ["1"]


def test_repr_hides_secrets() -> None:
    assert "hunter2" not in repr(KeyRing(["hunter2", "older"]))


@pytest.mark.parametrize("purpose", ["", None])
def test_purpose_is_required(ring: KeyRing, purpose: str) -> None:
    with pytest.raises(ValueError, match="purpose"):
        ring.sign(purpose, 1)
    with pytest.raises(ValueError, match="purpose"):
        ring.verify(purpose, "x.y")


@pytest.mark.parametrize("part", [True, None, 1.5, b"x"])
def test_parts_must_be_str_or_int(ring: KeyRing, part: object) -> None:
    with pytest.raises(TypeError):
        ring.sign("p", part)  # type: ignore[arg-type]


def test_random_tokens_are_url_safe_and_unique() -> None:
    tokens = {random_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", token) for token in tokens)


def test_random_token_refuses_weak_sizes() -> None:
    with pytest.raises(ValueError):
        random_token(8)


def test_token_digest_is_sha256_hex() -> None:
    # sha256("abc"), a published test vector.
    assert token_digest("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert token_digest(random_token()) != token_digest(random_token())


def test_token_digest_survives_hostile_input() -> None:
    assert len(token_digest("\ud800")) == 64
