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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Protocol

from markupsafe import escape

from newsticker.delivery.headers import (
    DKIM_HEADERS,
    DkimKey,
    ListHeaders,
    address_header,
    domain_of,
    envelope_sender,
    fold_header,
    list_headers,
    list_unsubscribe_header,
    message_id,
)

# The header names of before headers.py, still imported from here.
__all__ = [
    "DKIM_HEADERS",
    "Composed",
    "DkimKey",
    "EncodedBody",
    "Fillable",
    "ListHeaders",
    "MessageTemplate",
    "PersonalValues",
    "domain_of",
    "encode_body",
    "envelope_sender",
    "list_headers",
    "list_unsubscribe_header",
    "make_template",
    "message_id",
    "qp_encode",
    "split_filled",
]

CRLF = b"\r\n"
SOFT_BREAK = b"=\r\n"
PERSONAL_KEYS = (
    "greeting",
    "unsubscribe_url",
    "preferences_url",
    "subscription",
    "browser_url",
)


class Fillable(Protocol):
    """What delivery needs of a prepared issue (newsticker.issues.rendering.PreparedIssue)."""

    @property
    def subject(self) -> str:
        """Return the subject line."""

    @property
    def archive_url(self) -> str:
        """Return the issue's page in the archive (its "read in the browser" link)."""

    @property
    def publication_name(self) -> str:
        """Return the name of the issue's publication (the footer's default subscription)."""

    @property
    def language(self) -> str:
        """Return the language the issue is rendered in (a code such as "de" or "ar")."""

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
    """One recipient's links and return path (from the subscribers' services).

    `subscription` names the publication through which they receive the issue (empty:
    the issue's own); their unsubscribe link ends exactly that subscription.
    """

    unsubscribe_url: str
    preferences_url: str
    envelope_from: str
    subscription: str = ""


@dataclass
class Composed:
    """A message ready for the relay."""

    envelope_from: str
    recipient: str
    data: bytes
    smtputf8: bool = False


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
    # Values shared by many recipients (the subscription's name, the archive link),
    # encoded once: (html, text) per value.
    _shared: dict[str, tuple[bytes, bytes]] = field(default_factory=dict, repr=False)

    def _shared_value(self, value: str) -> tuple[bytes, bytes]:
        encoded = self._shared.get(value)
        if encoded is None:
            encoded = (_qp_value(str(escape(value))), _qp_value(value))
            self._shared[value] = encoded
        return encoded

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
        shared = {
            "subscription": personal.subscription or self.prepared.publication_name,
            "browser_url": self.prepared.archive_url,
        }
        for key, value in shared.items():
            html_values[key], text_values[key] = self._shared_value(value)
        to_header = address_header(name, address)
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
            fold_header("From", headers.sender),
            fold_header("Reply-To", headers.reply_to) if headers.reply_to else b"",
            fold_header("Subject", prepared.subject),
            fold_header("List-Id", headers.list_id),
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
            fold_header("Feedback-ID", headers.feedback_id),
            # The language of the chrome; each item carries its own in the HTML (RFC 3282).
            fold_header("Content-Language", prepared.language),
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
        "subscription": "Ticker <&> «Zusammenleben»",
        "browser_url": "https://example.org/ausgaben/x?a=1&b=<2>",
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
