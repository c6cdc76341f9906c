"""The headers of an issue's mails: From, List-Id, List-Unsubscribe, DKIM, Message-ID.

What is the same for every recipient of an issue (From, Reply-To, List-Id, Feedback-ID)
is folded once per issue by compose.py; per recipient there are the To header, the
Message-ID (stable across retries: a resend after a crash is recognisably the same
mail) and List-Unsubscribe with the recipient's one-click link (RFC 2369, RFC 8058).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import quote

from newsticker.config import Settings
from newsticker.core.headers import HeaderError, display_phrase
from newsticker.core.headers import fold_header as fold_text_header

# Headers a DKIM signature covers; RFC 8058 asks for both List-Unsubscribe headers.
DKIM_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"feedback-id",
    b"mime-version",
    b"content-type",
)


@dataclass(frozen=True)
class DkimKey:
    """A DKIM private key with its selector and domain."""

    selector: bytes
    domain: bytes
    private_key: bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> DkimKey | None:
        """Load the configured key, or return None when DKIM is not configured."""
        mail = settings.mail
        if not (mail.dkim_selector and mail.dkim_domain and mail.dkim_private_key):
            return None
        with open(mail.dkim_private_key, "rb") as handle:
            key = handle.read()
        return cls(mail.dkim_selector.encode(), mail.dkim_domain.encode(), key)

    def sign(self, data: bytes) -> bytes:
        """Return the DKIM-Signature header line for a message."""
        import dkim

        present = {
            line.split(b":", 1)[0].strip().lower()
            for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
            if line and line[:1] not in (b" ", b"\t")
        }
        signature: bytes = dkim.sign(
            data,
            self.selector,
            self.domain,
            self.private_key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=[h for h in DKIM_HEADERS if h in present],
            linesep=b"\r\n",
        )
        return signature


def fold_header(name: str, value: str) -> bytes:
    """Return one header line, encoded (RFC 2047) and folded as SMTP wants it.

    Built by core.headers, never by the mail library's header classes: those decode
    encoded words found in the value (header injection) and drop the space between two
    encoded words of an Arabic subject.
    """
    return f"{name}: {fold_text_header(name, value)}\r\n".encode("ascii")


def address_header(name: str, address: str) -> str:
    """Return a recipient's address with their display name (core.headers' phrase).

    The address was checked when it was stored; here it is only refused when it could
    break the header (the full check would cost more than building the message).
    """
    if not address.isprintable() or any(ch in address for ch in _NOT_IN_ADDRESS):
        raise HeaderError(f"not a single e-mail address: {address!r}")
    phrase = display_phrase(name)
    return f"{phrase} <{address}>" if phrase else address


_NOT_IN_ADDRESS = frozenset('<>,;"() \r\n')


def domain_of(address: str) -> str:
    """Return the domain of an address or "Name <address>" value."""
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


@dataclass(frozen=True)
class ListHeaders:
    """Headers of a publication that are the same for every recipient of an issue."""

    sender: str
    reply_to: str
    list_id: str
    feedback_id: str


def list_headers(
    settings: Settings, *, issue_id: int, publication_slug: str, publication_name: str
) -> ListHeaders:
    """Return From, Reply-To, List-Id and Feedback-ID for an issue of a publication."""
    domain = domain_of(settings.mail.sender)
    list_name = publication_name.replace('"', "'")
    list_id = f'"{list_name}" <{publication_slug}.{domain}>'
    feedback = f"{issue_id}:{publication_slug}:newsletter:{settings.mail.feedback_id_sender}"
    return ListHeaders(settings.mail.sender, settings.mail.reply_to, list_id, feedback)


def list_unsubscribe_header(unsubscribe_url: str, mailto: str, publication: str) -> bytes:
    """Return List-Unsubscribe with the one-click https link and a mailto (RFC 2369, 8058)."""
    subject = quote(f"unsubscribe {publication}")
    return (
        f"List-Unsubscribe: <{unsubscribe_url}>,\r\n <mailto:{mailto}?subject={subject}>\r\n"
    ).encode("ascii")


def envelope_sender(return_path: str, sender: str, token: Callable[[], str]) -> str:
    """Return the envelope sender: the VERP return path with the recipient's token, or fixed."""
    if "{token}" in return_path:
        return return_path.replace("{token}", token())
    if return_path:
        return return_path
    return parseaddr(sender)[1]


def message_id(issue_key: str, subscriber_id: int, domain: str) -> str:
    """Return the Message-ID of an issue's mail to one subscriber (stable across retries)."""
    return f"<{issue_key}.{subscriber_id}@{domain}>"
