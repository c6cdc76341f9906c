"""Signed tokens for links in mails, and random tokens for single use.

A signed token carries its own data (`<payload>.<mac>`), so a link such as
"unsubscribe subscriber 42 from publication 7" needs no database row. A random
token carries nothing; the database keeps only its digest, so a leaked database
cannot be replayed as links.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Sequence

__all__ = [
    "KeyRing",
    "TokenError",
    "TokenExpired",
    "random_token",
    "token_digest",
]

# Longer tokens are refused before any decoding, so a hostile link cannot make
# the server decode megabytes of JSON.
MAX_TOKEN_LENGTH = 4096

_KEY_CONTEXT = b"newsticker:"
# The MAC is compared as its exact unpadded base64 text, not as decoded bytes:
# the last base64 character carries spare bits, and comparing bytes would let a
# changed character pass.
_TOKEN_RE = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})")


class TokenError(ValueError):
    """A token is malformed, truncated, forged or signed for another purpose."""


class TokenExpired(TokenError):
    """A genuine token is older than the caller accepts."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class KeyRing:
    """Sign and verify tokens with the newest secret, accepting any in the ring."""

    def __init__(
        self,
        secret_keys: Sequence[str | bytes],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Build a ring from secrets, newest first; the first one signs."""
        if isinstance(secret_keys, str | bytes):
            # A lone string is a sequence too; iterating it would make every
            # character a "secret".
            raise TypeError("pass a list of secrets, newest first")
        keys = [s.encode("utf-8") if isinstance(s, str) else bytes(s) for s in secret_keys]
        if not keys:
            raise ValueError("a key ring needs at least one secret")
        if not all(keys):
            raise ValueError("a secret must not be empty")
        self._secrets = tuple(keys)
        self._clock = clock
        self._derived: dict[tuple[int, str], bytes] = {}

    def __repr__(self) -> str:
        # Never let a secret reach a log line or a traceback.
        return f"<KeyRing with {len(self._secrets)} secret(s)>"

    def _key(self, index: int, purpose: str) -> bytes:
        # One key per purpose, so a token for one purpose can never be replayed
        # as a token for another, whatever their payloads look like.
        cache_key = (index, purpose)
        key = self._derived.get(cache_key)
        if key is None:
            context = _KEY_CONTEXT + purpose.encode("utf-8")
            key = hmac.new(self._secrets[index], context, hashlib.sha256).digest()
            self._derived[cache_key] = key
        return key

    def _mac(self, index: int, purpose: str, payload: str) -> str:
        digest = hmac.new(
            self._key(index, purpose), payload.encode("ascii"), hashlib.sha256
        ).digest()
        return _b64encode(digest)

    def sign(self, purpose: str, *parts: str | int, ts: bool = False) -> str:
        """Return a URL-safe token binding the parts to the purpose."""
        _check_purpose(purpose)
        values: list[str | int | None] = [int(self._clock()) if ts else None]
        for part in parts:
            # bool is an int; True as a part is almost surely a bug.
            if isinstance(part, bool) or not isinstance(part, str | int):
                raise TypeError(f"token parts must be str or int, not {type(part)!r}")
            values.append(str(part))
        # ensure_ascii keeps lone surrogates and any other code point intact.
        raw = json.dumps(values, separators=(",", ":"), ensure_ascii=True)
        payload = _b64encode(raw.encode("ascii"))
        return f"{payload}.{self._mac(0, purpose, payload)}"

    def verify(self, purpose: str, token: str, *, max_age: float | None = None) -> list[str]:
        """Return the parts of a genuine token, or raise TokenError."""
        _check_purpose(purpose)
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
            raise TokenError("malformed token")
        match = _TOKEN_RE.fullmatch(token)
        if match is None:
            raise TokenError("malformed token")
        payload, mac = match.groups()
        given = mac.encode("ascii")
        if not any(
            hmac.compare_digest(self._mac(i, purpose, payload).encode("ascii"), given)
            for i in range(len(self._secrets))
        ):
            raise TokenError("bad signature")
        issued_at, parts = _decode_payload(payload)
        if max_age is not None:
            if issued_at is None:
                raise TokenError("token carries no timestamp")
            if self._clock() - issued_at > max_age:
                raise TokenExpired("token expired")
        return parts


def _check_purpose(purpose: str) -> None:
    if not isinstance(purpose, str) or not purpose:
        raise ValueError("a token purpose must be a non-empty string")


def _decode_payload(payload: str) -> tuple[int | None, list[str]]:
    # Only reachable with a valid MAC, so a failure here means a bug or a
    # leaked secret; either way the token is refused, never half-trusted.
    try:
        values = json.loads(_b64decode(payload))
    except (binascii.Error, ValueError) as exc:
        raise TokenError("malformed payload") from exc
    if not isinstance(values, list) or not values:
        raise TokenError("malformed payload")
    issued_at, *parts = values
    if isinstance(issued_at, bool) or not isinstance(issued_at, int | None):
        raise TokenError("malformed payload")
    if not all(isinstance(part, str) for part in parts):
        raise TokenError("malformed payload")
    return issued_at, parts


def random_token(nbytes: int = 32) -> str:
    """Return an unguessable URL-safe token for single use."""
    if nbytes < 16:
        raise ValueError("a random token needs at least 16 bytes of entropy")
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """Return the SHA-256 hex digest under which a random token is stored."""
    # surrogatepass: a hostile URL must get "not found", never a crash.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
