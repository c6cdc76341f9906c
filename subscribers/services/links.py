"""Personal links: signed unsubscribe and preferences tokens, VERP tokens, suppression salts.

Personal links are HMAC-signed per subscriber, publication and purpose, so unsubscribing
needs no stored token. Links in subscriber mails come from `Links` (the app's URL map
bound to the base URL). Issue mails are the exception: `personal_links` runs once per
recipient, so the URLs up to the token are built once per send (`LinkPrefixes`) and
each recipient costs two HMACs and a string join.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from newsticker.core.links import Links
from newsticker.core.tokens import KeyRing, TokenError

UNSUBSCRIBE_PURPOSE = "subscribers:unsubscribe"
PREFERENCES_PURPOSE = "subscribers:preferences"
VERP_PURPOSE = "subscribers:verp"
DATA_COPY_PURPOSE = "subscribers:data-copy"
# How long the link in the data-copy mail works: long enough to open it after a weekend,
# short enough that an old mail in a shared mailbox does not hand the data out for ever.
DATA_COPY_LINK_DAYS = 7
SUPPRESSION_CONTEXT = b"newsticker:subscribers:suppression"
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"

# Endpoints behind the personal links (the public pages in subscribers.views).
CONFIRM_ENDPOINT = "subscribers.confirm"
UNSUBSCRIBE_ENDPOINT = "subscribers.unsubscribe"
PREFERENCES_ENDPOINT = "subscribers.preferences"
DATA_COPY_ENDPOINT = "subscribers.my_data"
# Stands in for the token when the prefixes are built; a URL map leaves it as it is.
_PLACEHOLDER = "TOKEN"


def suppression_salts(secrets: Sequence[str]) -> list[bytes]:
    """Derive one salt per secret key; erased addresses are checked against all of them."""
    return [
        hmac.new(secret.encode("utf-8"), SUPPRESSION_CONTEXT, hashlib.sha256).digest()
        for secret in secrets
        if secret
    ]


def unsubscribe_token(keyring: KeyRing, subscriber_id: int, publication: str) -> str:
    """Return the token of one subscriber's unsubscribe link for one publication."""
    return keyring.sign(UNSUBSCRIBE_PURPOSE, subscriber_id, publication)


def preferences_token(keyring: KeyRing, subscriber_id: int) -> str:
    """Return the token of one subscriber's preferences link."""
    return keyring.sign(PREFERENCES_PURPOSE, subscriber_id)


def read_unsubscribe_token(keyring: KeyRing, token: str) -> tuple[int, str]:
    """Return (subscriber id, publication) of a genuine unsubscribe token, or raise TokenError."""
    parts = keyring.verify(UNSUBSCRIBE_PURPOSE, token)
    if len(parts) != 2 or not parts[0].isdigit():
        raise TokenError("malformed unsubscribe token")
    return int(parts[0]), parts[1]


def read_preferences_token(keyring: KeyRing, token: str) -> int:
    """Return the subscriber id of a genuine preferences token, or raise TokenError."""
    parts = keyring.verify(PREFERENCES_PURPOSE, token)
    if len(parts) != 1 or not parts[0].isdigit():
        raise TokenError("malformed preferences token")
    return int(parts[0])


def data_copy_token(keyring: KeyRing, subscriber_id: int) -> str:
    """Return the token of a data-copy link: one subscriber, with the time it was made."""
    return keyring.sign(DATA_COPY_PURPOSE, subscriber_id, ts=True)


def read_data_copy_token(keyring: KeyRing, token: str) -> int:
    """Return the subscriber id of a genuine, unexpired data-copy token, or raise TokenError."""
    parts = keyring.verify(DATA_COPY_PURPOSE, token, max_age=DATA_COPY_LINK_DAYS * 24 * 3600)
    if len(parts) != 1 or not parts[0].isdigit():
        raise TokenError("malformed data-copy token")
    return int(parts[0])


def data_copy_url(links: Links, keyring: KeyRing, subscriber_id: int) -> str:
    """Return the absolute URL of the page with a subscriber's data (an expiring link)."""
    return links.url(DATA_COPY_ENDPOINT, token=data_copy_token(keyring, subscriber_id))


def confirm_url(links: Links, token: str) -> str:
    """Return the absolute URL of a confirmation link."""
    return links.url(CONFIRM_ENDPOINT, token=token)


def preferences_url(links: Links, keyring: KeyRing, subscriber_id: int) -> str:
    """Return the absolute URL of a subscriber's preferences page."""
    return links.url(PREFERENCES_ENDPOINT, token=preferences_token(keyring, subscriber_id))


@dataclass(frozen=True)
class LinkPrefixes:
    """The absolute URLs of the unsubscribe and preferences pages up to their token."""

    unsubscribe: str
    preferences: str

    @classmethod
    def from_links(cls, links: Links) -> LinkPrefixes:
        """Build the prefixes once (per send) from the site's links."""
        return cls(
            unsubscribe=_prefix(links, UNSUBSCRIBE_ENDPOINT),
            preferences=_prefix(links, PREFERENCES_ENDPOINT),
        )


def _prefix(links: Links, endpoint: str) -> str:
    url = links.url(endpoint, token=_PLACEHOLDER)
    if not url.endswith(_PLACEHOLDER):
        raise ValueError(f"the URL of {endpoint} must end with its token: {url}")
    return url.removesuffix(_PLACEHOLDER)


def personal_links(
    keyring: KeyRing, prefixes: LinkPrefixes, subscriber_id: int, publication_slug: str
) -> dict[str, str]:
    """Return a subscriber's unsubscribe and preferences URLs and the List-Unsubscribe headers.

    Costs two HMACs and no database access, so it is cheap enough to call per recipient.
    Keys: "unsubscribe", "preferences", "list_unsubscribe" (the header value, "<URL>"),
    "list_unsubscribe_post" (RFC 8058's fixed "List-Unsubscribe=One-Click").
    """
    unsubscribe = (
        f"{prefixes.unsubscribe}{unsubscribe_token(keyring, subscriber_id, publication_slug)}"
    )
    return {
        "unsubscribe": unsubscribe,
        "preferences": f"{prefixes.preferences}{preferences_token(keyring, subscriber_id)}",
        "list_unsubscribe": f"<{unsubscribe}>",
        "list_unsubscribe_post": ONE_CLICK_BODY,
    }


def list_unsubscribe_headers(links: dict[str, str]) -> dict[str, str]:
    """Return the RFC 2369 / RFC 8058 headers for links from personal_links."""
    return {
        "List-Unsubscribe": links["list_unsubscribe"],
        "List-Unsubscribe-Post": links["list_unsubscribe_post"],
    }


def verp_token(keyring: KeyRing, subscriber_id: int) -> str:
    """Return a short token for a VERP return path ("bounces+TOKEN@domain") of a subscriber.

    Lower-case hex only, because some relays change the case of addresses.
    """
    return f"{subscriber_id}-{_verp_mac(keyring, subscriber_id)}"


def verp_subscriber_id(keyring: KeyRing, token: str) -> int | None:
    """Return the subscriber id of a genuine VERP token, else None.

    Only the newest key is checked: after a rotation the delivery report's recipient
    address still identifies the subscriber.
    """
    number, dash, mac = token.strip().lower().partition("-")
    # Anything from a bounce is hostile input: ASCII digits only, and compare bytes
    # (compare_digest refuses non-ASCII str with a TypeError).
    if not dash or not (number.isascii() and number.isdigit()) or len(number) > 12:
        return None
    expected = _verp_mac(keyring, int(number))
    return int(number) if hmac.compare_digest(expected.encode(), mac.encode()) else None


def _verp_mac(keyring: KeyRing, subscriber_id: int) -> str:
    mac = keyring.sign(VERP_PURPOSE, subscriber_id).rpartition(".")[2]
    return base64.urlsafe_b64decode(mac + "=").hex()[:16]
