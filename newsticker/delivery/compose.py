"""Build each recipient's message from parts encoded once per issue and language.

The email package needs milliseconds to build and flatten a 60 KB message; a send to
100,000 people cannot afford that per recipient. So a `MessageTemplate` is made once per
issue and language: the prepared issue's HTML and text are split at their personal
values, every static piece is quoted-printable encoded once, and the headers that are
the same for everyone are folded once. Per recipient there is left: signing the links,
encoding three short values and joining bytes.

Quoted-printable allows a soft line break ("=" CRLF) anywhere, so each value is put
between two soft breaks: decoding the joined parts gives exactly what
`PreparedIssue.fill` returns (a test checks that byte for byte).
"""

from __future__ import annotations

import binascii
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email import policy
from email.utils import format_datetime, formataddr, parseaddr
from typing import Protocol
from urllib.parse import quote

from markupsafe import escape

from newsticker.config import Settings

CRLF = b"\r\n"
SOFT_BREAK = b"=\r\n"
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
PERSONAL_KEYS = ("greeting", "unsubscribe_url", "preferences_url")


class Fillable(Protocol):
    """What delivery needs of a prepared issue (newsticker.issues.rendering.PreparedIssue)."""

    @property
    def subject(self) -> str:
        """Return the subject line."""

    def fill(self, values: Mapping[str, str]) -> tuple[str, str]:
        """Return (html, text) with the personal values filled in."""

    def greeting_for(self, name: str | None) -> str:
        """Return the salutation for a recipient's name."""


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def qp_encode(text: str) -> bytes:
    """Return text as quoted-printable UTF-8 with CRLF line ends and lines of at most 76.

    No line starts with a dot (see `_no_leading_dot`).
    """
    encoded = binascii.b2a_qp(_crlf(text).encode("utf-8"), quotetabs=False, istext=True)
    # b2a_qp ends lines as the input's first line does; pieces without one get "\n".
    return _no_leading_dot(encoded.replace(CRLF, b"\n").replace(b"\n", CRLF))


def _qp_value(value: str) -> bytes:
    # Values are single lines (URLs, a greeting); anything else is encoded, not broken.
    # Each starts a line of its own (see encode_body), so its first dot counts too.
    return _no_leading_dot(
        binascii.b2a_qp(value.encode("utf-8"), quotetabs=False, istext=False).replace(
            b"=\n", SOFT_BREAK
        )
    )


def _no_leading_dot(encoded: bytes) -> bytes:
    """Write each dot that starts a line as "=2E" and a soft break: it decodes the same.

    SMTP doubles a dot at the start of a line; with none in the message, sending can skip
    the scan for them (`newsticker.core.mail`), which costs more than composing the
    message. The soft break keeps the line within 76 characters.
    """
    return _LEADING_DOTS.sub(lambda dots: b"=2E=\r\n" * len(dots[0]), encoded)


_LEADING_DOTS = re.compile(rb"(?m)^\.+")


@dataclass(frozen=True)
class EncodedBody:
    """A body split at its personal values; static pieces encoded once.

    `pieces[i]` precedes `slots[i]`; the last piece follows the last slot.
    """

    pieces: tuple[bytes, ...]
    slots: tuple[str, ...]
    html: bool

    def render(self, values: Mapping[str, bytes]) -> bytes:
        """Join the pieces with the encoded values."""
        out: list[bytes] = []
        for piece, slot in zip(self.pieces, self.slots, strict=False):
            out.append(piece)
            out.append(values[slot])
        out.append(self.pieces[-1])
        return b"".join(out)


def split_filled(prepared: Fillable) -> tuple[list[str], list[str], list[str], list[str]]:
    """Return (html pieces, html slots, text pieces, text slots) of a prepared issue.

    Uses only `fill`: it is filled once with unique sentinels, which are then found again.
    """
    tag = secrets.token_hex(6)
    sentinels = {key: f"zq{tag}{index}qz" for index, key in enumerate(PERSONAL_KEYS)}
    html, text = prepared.fill(sentinels)
    pattern = re.compile(rf"zq{tag}(\d)qz")
    result: list[list[str]] = []
    for filled in (html, text):
        parts = pattern.split(filled)
        result.append(parts[0::2])
        result.append([PERSONAL_KEYS[int(i)] for i in parts[1::2]])
    return result[0], result[1], result[2], result[3]


def encode_body(pieces: Sequence[str], slots: Sequence[str], *, html: bool) -> EncodedBody:
    """Encode the static pieces once; every value starts and ends on a soft line break."""
    encoded = []
    last = len(pieces) - 1
    for index, piece in enumerate(pieces):
        data = qp_encode(piece) if piece else b""
        if index > 0 and data:
            data = SOFT_BREAK + data  # after a value: go on in a fresh line
        if index < last:
            if data and not data.endswith(CRLF):
                data += SOFT_BREAK  # a value follows: it starts in a fresh line
            elif not data and index > 0:
                data = SOFT_BREAK  # two values in a row
        else:
            data += CRLF  # belongs to the boundary delimiter (RFC 2046)
        encoded.append(data)
    return EncodedBody(tuple(encoded), tuple(slots), html)


@dataclass(frozen=True)
class PersonalValues:
    """One recipient's links and return path (from the subscribers' services)."""

    unsubscribe_url: str
    preferences_url: str
    envelope_from: str


@dataclass
class Composed:
    """A message ready for the relay."""

    envelope_from: str
    recipient: str
    data: bytes
    smtputf8: bool = False


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
            for line in data.split(b"\r\n\r\n", 1)[0].split(CRLF)
            if line and line[:1] not in (b" ", b"\t")
        }
        signature: bytes = dkim.sign(
            data,
            self.selector,
            self.domain,
            self.private_key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=[h for h in DKIM_HEADERS if h in present],
            linesep=CRLF,
        )
        return signature


def _fold(name: str, value: str) -> bytes:
    # The header classes encode non-ASCII (RFC 2047) and fold long values.
    header = policy.SMTP.header_factory(name, value)
    return header.fold(policy=policy.SMTP).encode("ascii")


def _address_header(name: str, address: str) -> str:
    if not name:
        return address
    if name.isascii():
        return formataddr((name, address))
    return f"{encode_words(name)} <{address}>"


def encode_words(text: str) -> str:
    """Return text as RFC 2047 encoded words of at most 75 characters, folded.

    Words are split after a space where possible (the space stays inside the encoded
    word), as readers drop the white space between two encoded words.
    """
    words: list[bytes] = []
    chunk = b""
    for token in re.findall(r"\S+\s*|\s+", text):
        data = token.encode("utf-8")
        if chunk and len(chunk) + len(data) > 45:  # 45 bytes are 60 base64 characters
            words.append(chunk)
            chunk = b""
        while len(data) > 45:
            cut = 45
            while cut and (data[cut] & 0xC0) == 0x80:  # never cut inside a character
                cut -= 1
            words.append(data[:cut])
            data = data[cut:]
        chunk += data
    words.append(chunk)
    return "\r\n ".join(
        f"=?utf-8?b?{binascii.b2a_base64(word, newline=False).decode('ascii')}?=" for word in words
    )


def domain_of(address: str) -> str:
    """Return the domain of an address or "Name <address>" value."""
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


@dataclass
class MessageTemplate:
    """One issue in one language, ready to become a message for any recipient."""

    subject: str
    html: EncodedBody
    text: EncodedBody
    head: bytes  # folded headers shared by every recipient of this issue and language
    boundary: bytes
    prepared: Fillable
    dkim: DkimKey | None = None
    _date: tuple[int, bytes] = field(default=(0, b""), repr=False)

    def _date_header(self) -> bytes:
        second = int(time.time())
        if self._date[0] != second:
            from datetime import UTC, datetime

            value = format_datetime(datetime.fromtimestamp(second, UTC))
            self._date = (second, f"Date: {value}\r\n".encode("ascii"))
        return self._date[1]

    def compose(
        self,
        *,
        address: str,
        name: str,
        message_id: str,
        personal: PersonalValues,
        list_unsubscribe: bytes,
    ) -> Composed:
        """Return the message for one recipient."""
        raw = {
            "greeting": self.prepared.greeting_for(name),
            "unsubscribe_url": personal.unsubscribe_url,
            "preferences_url": personal.preferences_url,
        }
        html_values = {key: _qp_value(str(escape(value))) for key, value in raw.items()}
        text_values = {key: _qp_value(value) for key, value in raw.items()}
        to_header = _address_header(name, address)
        smtputf8 = not address.isascii()
        head = [
            self._date_header(),
            b"To: ",
            to_header.encode("utf-8"),
            b"\r\nMessage-ID: ",
            message_id.encode("ascii"),
            CRLF,
            list_unsubscribe,
            self.head,
        ]
        boundary = self.boundary
        data = b"".join(
            [
                *head,
                b"\r\n--",
                boundary,
                b"\r\nContent-Type: text/plain; charset=utf-8\r\n"
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                self.text.render(text_values),
                b"--",
                boundary,
                b"\r\nContent-Type: text/html; charset=utf-8\r\n"
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                self.html.render(html_values),
                b"--",
                boundary,
                b"--\r\n",
            ]
        )
        if self.dkim is not None:
            data = self.dkim.sign(data) + data
        return Composed(personal.envelope_from, address, data, smtputf8)


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


def make_template(
    prepared: Fillable,
    headers: ListHeaders,
    *,
    dkim: DkimKey | None = None,
) -> MessageTemplate:
    """Encode a prepared issue once for every recipient in its language."""
    html_pieces, html_slots, text_pieces, text_slots = split_filled(prepared)
    _check_split(prepared, html_pieces, html_slots, text_pieces, text_slots)
    boundary = f"=_nt_{secrets.token_hex(12)}".encode("ascii")
    head = b"".join(
        [
            _fold("From", headers.sender),
            _fold("Reply-To", headers.reply_to) if headers.reply_to else b"",
            _fold("Subject", prepared.subject),
            _fold("List-Id", headers.list_id),
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
            _fold("Feedback-ID", headers.feedback_id),
            b"MIME-Version: 1.0\r\n",
            b'Content-Type: multipart/alternative; boundary="',
            boundary,
            b'"\r\n',
        ]
    )
    return MessageTemplate(
        subject=prepared.subject,
        html=encode_body(html_pieces, html_slots, html=True),
        text=encode_body(text_pieces, text_slots, html=False),
        head=head,
        boundary=boundary,
        prepared=prepared,
        dkim=dkim,
    )


def _check_split(
    prepared: Fillable,
    html_pieces: list[str],
    html_slots: list[str],
    text_pieces: list[str],
    text_slots: list[str],
) -> None:
    """Refuse to send when joining the pieces would not give what fill() gives."""
    sample = {
        "greeting": prepared.greeting_for('Ünal & <Zoë> "Q"'),
        "unsubscribe_url": "https://example.org/a?b=1&c=<2>",
        "preferences_url": "https://example.org/p/é",
    }
    html, text = prepared.fill(sample)
    joined_html = _join(html_pieces, html_slots, {k: str(escape(v)) for k, v in sample.items()})
    joined_text = _join(text_pieces, text_slots, sample)
    if joined_html != html or joined_text != text:
        raise ValueError("the prepared issue fills its values in a way delivery cannot mirror")


def _join(pieces: Sequence[str], slots: Sequence[str], values: Mapping[str, str]) -> str:
    out: list[str] = []
    for piece, slot in zip(pieces, slots, strict=False):
        out.extend((piece, values[slot]))
    out.append(pieces[-1])
    return "".join(out)


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
