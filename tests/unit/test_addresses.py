"""Tests for address normalisation, lookup keys and suppression hashes."""

import unicodedata
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_babel import Babel, force_locale
from hypothesis import given
from hypothesis import strategies as st

from subscribers.addresses import (
    InvalidAddress,
    address_key,
    normalise_address,
    suppression_hash,
)

SALT = b"test-salt-0123456789"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("anna@example.org", "anna@example.org"),
        ("  anna@example.org\t", "anna@example.org"),
        ("\u00a0anna@example.org\u00a0", "anna@example.org"),
        ("Anna.Schmidt@Example.ORG", "Anna.Schmidt@example.org"),
        ("user+newsticker@example.org", "user+newsticker@example.org"),
        ("jürgen@example.org", "jürgen@example.org"),
        ("info@bücher.example", "info@bücher.example"),
        # email-validator turns an IDNA ASCII domain into its Unicode form.
        ("info@xn--bcher-kva.example", "info@bücher.example"),
        ("info@BÜCHER.example", "info@bücher.example"),
        ("مريم@example.org", "مريم@example.org"),
    ],
)
def test_valid_addresses_are_normalised(raw: str, expected: str) -> None:
    assert normalise_address(raw) == expected


def test_local_part_is_brought_to_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "jürgen@example.org")
    assert nfd != "jürgen@example.org"
    assert normalise_address(nfd) == "jürgen@example.org"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "Please enter an e-mail address."),
        ("   ", "Please enter an e-mail address."),
        ("anna.example.org", "exactly one @"),
        ("anna(at)example.org", "exactly one @"),
        ("anna@@example.org", "exactly one @"),
        ("anna@verein@example.org", "exactly one @"),
        ("anna schmidt@example.org", "must not contain spaces"),
        ("anna@example .org", "must not contain spaces"),
        ("anna\t@example.org", "must not contain spaces"),
        ("anna@example.org.", "must not end with a dot"),
        ("anna@localhost", "with a dot"),
        ("anna@example", "with a dot"),
        ("@example.org", "something before the @"),
        ("anna@", "domain after the @"),
        ("anna@example,org", "comma or a semicolon"),
        ("anna@example.org, ben@example.org", "exactly one @"),
        ("anna@example.org;", "comma or a semicolon"),
        ("anna..schmidt@example.org", "two dots in a row"),
        (".anna@example.org", "two dots in a row"),
        ("anna.@example.org", "two dots in a row"),
        ("anna@.example.org", "two dots in a row"),
        ("a" * 65 + "@example.org", "at most 64 characters"),
        ("a" * 60 + "@" + "b" * 190 + ".example", "at most 254 characters"),
        ("anna@example.org\r\n", "control character"),
        ("anna@example.org\nBcc: all@example.org", "control character"),
        ("anna\r@example.org", "control character"),
        ("anna\x00@example.org", "control character"),
        ("anna\u2028@example.org", "control character"),
        ("anna@exam_ple.org", "typing errors"),
        ('"anna"@example.org', "typing errors"),
        ("anna@[192.0.2.1]", "typing errors"),
        ("anna\u200b@example.org", "typing errors"),
        ("anna@example.invalid", "typing errors"),
    ],
)
def test_invalid_addresses_explain_why(raw: str, fragment: str) -> None:
    with pytest.raises(InvalidAddress) as excinfo:
        normalise_address(raw)
    assert fragment in str(excinfo.value)
    assert fragment in str(excinfo.value.message)


def test_exactly_254_characters_is_allowed() -> None:
    address = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 58]) + ".de"
    assert len(address) == 254
    assert normalise_address(address) == address


def test_message_is_lazy_and_translatable() -> None:
    # Rendering needs no app; inside one, the current locale decides.
    with pytest.raises(InvalidAddress) as excinfo:
        normalise_address("no-at-sign")
    assert str(excinfo.value).startswith("This is not a valid e-mail address")
    app = Flask(__name__)
    Babel(app)
    with app.app_context(), force_locale("de"):
        # This bare app has no catalogue, so the English msgid shows; what
        # matters is that the text is looked up at str() time, not at raise time.
        assert "exactly one @" in str(excinfo.value)


@pytest.fixture
def babel_app() -> Iterator[Flask]:
    app = Flask(__name__)
    Babel(app)
    with app.app_context():
        yield app


def test_message_renders_inside_an_app_context(babel_app: Flask) -> None:
    with pytest.raises(InvalidAddress) as excinfo:
        normalise_address("")
    assert str(excinfo.value) == "Please enter an e-mail address."


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Anna@Example.org", "anna@example.org"),
        ("ANNA@EXAMPLE.ORG", "anna@example.org"),
        ("Jürgen@example.org", "JÜRGEN@example.org"),
        (unicodedata.normalize("NFD", "jürgen@example.org"), "jürgen@example.org"),
        ("info@xn--bcher-kva.example", "INFO@Bücher.example"),
    ],
)
def test_same_subscriber_has_one_key(a: str, b: str) -> None:
    assert address_key(normalise_address(a)) == address_key(normalise_address(b))


def test_different_addresses_have_different_keys() -> None:
    assert address_key("anna@example.org") != address_key("anna@example.com")
    assert address_key("anna.b@example.org") != address_key("annab@example.org")


def test_key_keeps_distinct_idna_domains_apart() -> None:
    # ß is a valid IDNA2008 character: straße.example and strasse.example are
    # two domains, unlike the local parts, which casefold() merges.
    assert address_key(normalise_address("a@straße.example")) != address_key(
        normalise_address("a@strasse.example")
    )
    assert address_key("Straße@example.org") == address_key("strasse@example.org")


emailish = st.from_regex(r"[A-Za-zÄÖÜäöüß0-9._%+-]{1,20}@[a-zäöü0-9-]{1,15}\.de", fullmatch=True)


@given(emailish)
def test_normalisation_is_idempotent(raw: str) -> None:
    try:
        once = normalise_address(raw)
    except InvalidAddress:
        return
    assert normalise_address(once) == once
    assert address_key(once) == address_key(normalise_address(raw.upper()))


@given(st.text(max_size=300))
def test_normalise_never_raises_anything_but_invalid_address(raw: str) -> None:
    try:
        result = normalise_address(raw)
    except InvalidAddress as exc:
        assert str(exc)
    else:
        assert result.count("@") == 1
        assert not any(char.isspace() for char in result)


def test_suppression_hash_matches_key_equivalents() -> None:
    assert suppression_hash("Anna@Example.org", SALT) == suppression_hash("anna@example.org", SALT)


def test_suppression_hash_depends_on_salt_and_hides_address() -> None:
    digest = suppression_hash("anna@example.org", SALT)
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert "anna" not in digest
    assert digest != suppression_hash("anna@example.org", b"other-salt")
    assert digest != suppression_hash("ben@example.org", SALT)


def test_suppression_hash_needs_a_salt() -> None:
    with pytest.raises(ValueError, match="salt"):
        suppression_hash("anna@example.org", b"")
