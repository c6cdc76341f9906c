"""Lookup keys of subscriber addresses, and the salted hash that remembers an erased one."""

import hashlib
import hmac
import unicodedata

from newsticker.core.addresses import MAX_ADDRESS_LENGTH, InvalidAddress, normalise_address

__all__ = [
    "MAX_ADDRESS_LENGTH",
    "InvalidAddress",
    "address_key",
    "normalise_address",
    "suppression_hash",
]


def address_key(address: str) -> str:
    """Return the lookup key under which a normalised address is one subscriber."""
    local, at, domain = unicodedata.normalize("NFC", address).rpartition("@")
    if not at:
        local, domain = domain, ""
    # casefold() merges case variants (and ß/ss) in the local part. The domain
    # is only lowercased: email-validator has already applied IDNA, under which
    # straße.de and strasse.de are two different domains.
    folded_local = unicodedata.normalize("NFC", local.casefold())
    return f"{folded_local}{at}{domain.lower()}"


def suppression_hash(address: str, salt: bytes) -> str:
    """Return the salted hash that remembers an erased address without storing it."""
    if not salt:
        raise ValueError("a suppression hash needs a non-empty salt")
    # HMAC rather than sha256(salt + key): the salt acts as a key and the
    # construction has no length-extension or concatenation ambiguities.
    key = address_key(address).encode("utf-8")
    return hmac.new(salt, key, hashlib.sha256).hexdigest()
