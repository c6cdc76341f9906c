"""Every mail header built from text, one way: cleaned, encoded by us, folded by us.

Text from people (a submission's title in a receipt's subject, a subscriber's name in
To, an editor's subject line) reaches headers. Python's mail library is not safe for
that: it *decodes* RFC 2047 encoded words it finds in a value and folds the decoded
text, so a title like `=?utf-8?q?x=0D=0ABcc:_x@evil.example?=` becomes a real Bcc line
(CVE-2024-6923; the fix is only in newer Pythons). Its folder also drops the space
between two encoded words in some Arabic subjects. So we never hand it text to parse:

- a line break (CR, LF, NEL, VT, FF, U+2028/2029) in a value is refused: no caller has
  a reason to send one; other control characters are removed, runs of white space
  become one space;
- a value that is plain printable ASCII with no `=?` is folded at spaces as it is;
  anything else is encoded *as a whole* into base64 encoded words of at most 75
  characters, cut only between characters, with each space inside a word (readers drop
  white space between encoded words), so `=?...?=` typed by someone stays literal text;
- display names are quoted or encoded, addresses are checked by email-validator and
  refused when they carry anything but an address.

`mail.build_message` and the bulk composer both build their headers here, and the
message policy refuses any generated header with a stray line break where the Python
version supports it (verify_generated_headers).
"""

from __future__ import annotations

import binascii
import re
from email.utils import parseaddr

from email_validator import EmailNotValidError, validate_email

__all__ = [
    "HeaderError",
    "address_header",
    "clean_text",
    "display_phrase",
    "encode_words",
    "fold_header",
    "mailbox",
    "parse_mailbox",
]

MAX_LINE = 78
_ENCODED_WORD_BYTES = 45  # 45 bytes are 60 base64 characters: 72 with =?utf-8?b??=
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_BREAK = re.compile("[\r\n\x0b\x0c\x85\u2028\u2029]")
_SPACE = re.compile(r"\s+")
# RFC 5322 atext plus space: a display name made of these needs no quotes.
_PLAIN_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+")
_FIELD_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII except ":"


class HeaderError(ValueError):
    """A header value that cannot be used (an address that is not one, a bad name)."""


def clean_text(value: str) -> str:
    """Return text fit for one header line: no control characters, single spaces."""
    return _SPACE.sub(" ", _CONTROL.sub(" ", value)).strip()


def _is_plain(text: str) -> bool:
    return text.isascii() and text.isprintable() and "=?" not in text


def encode_words(text: str, *, first_line_room: int = MAX_LINE) -> str:
    """Return text as base64 encoded words, folded with CRLF + space between them.

    Words are cut after a space where possible (the space stays inside the word) and
    never inside a character. The first word is shorter when the header name leaves
    less room on the first line.
    """
    words: list[bytes] = []
    chunk = b""
    limit = _first_limit(first_line_room)
    for token in re.findall(r"\S+\s*|\s+", text):
        data = token.encode("utf-8")
        if chunk and len(chunk) + len(data) > limit:
            words.append(chunk)
            chunk, limit = b"", _ENCODED_WORD_BYTES
        while len(chunk) + len(data) > limit:
            cut = limit - len(chunk)
            while cut > 0 and (data[cut] & 0xC0) == 0x80:  # never cut inside a character
                cut -= 1
            if cut <= 0 and chunk:
                words.append(chunk)
                chunk, limit = b"", _ENCODED_WORD_BYTES
                continue
            words.append(chunk + data[:cut])
            chunk, data, limit = b"", data[cut:], _ENCODED_WORD_BYTES
        chunk += data
    if chunk or not words:
        words.append(chunk)
    return "\r\n ".join(
        f"=?utf-8?b?{binascii.b2a_base64(word, newline=False).decode('ascii')}?=" for word in words
    )


def _first_limit(room: int) -> int:
    # base64 of n bytes takes 4*ceil(n/3) characters, plus 12 for =?utf-8?b? and ?=.
    usable = max(room - 12, 8) // 4 * 3
    return max(min(usable, _ENCODED_WORD_BYTES), 3)


def _fold_plain(text: str, first_line_room: int) -> str:
    lines: list[str] = []
    line = ""
    room = first_line_room
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if line and len(candidate) > room:
            lines.append(line)
            line, room = word, MAX_LINE - 1
        else:
            line = candidate
    lines.append(line)
    return "\r\n ".join(lines)


def fold_header(name: str, value: str) -> str:
    """Return the folded value of an unstructured header (Subject, List-Id, ...).

    Plain ASCII stays readable and is folded at spaces; anything else, including text
    that looks like an encoded word, is encoded as a whole.
    """
    if not _FIELD_NAME.fullmatch(name):
        raise HeaderError(f"not a header name: {name!r}")
    if _LINE_BREAK.search(value):
        raise HeaderError(f"line break in the value of {name}")
    text = clean_text(value)
    room = MAX_LINE - len(name) - 2
    if _is_plain(text) and all(len(word) <= MAX_LINE - 1 for word in text.split(" ")):
        return _fold_plain(text, room)
    return encode_words(text, first_line_room=room)


def mailbox(address: str) -> str:
    """Return a checked address (email-validator, no DNS), refusing anything else."""
    if _CONTROL.search(address) or any(ch in address for ch in '<>,;"() '):
        raise HeaderError(f"not a single e-mail address: {address!r}")
    try:
        checked = validate_email(address, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise HeaderError(f"not a valid e-mail address: {address!r}: {exc}") from exc
    return checked.ascii_email or checked.normalized


def parse_mailbox(value: str) -> tuple[str, str]:
    """Split a configured "Name <address>" (or a bare address) into name and checked address."""
    if _CONTROL.search(value):
        raise HeaderError(f"control character in address: {value!r}")
    name, address = parseaddr(value)
    if not address or value.count("@") != 1:
        raise HeaderError(f"not a single address: {value!r}")
    return clean_text(name), mailbox(address)


def display_phrase(display_name: str) -> str:
    """Return a display name as a header phrase: plain, quoted, or encoded as a whole.

    Any line break or control character becomes a space first, so a name stored long ago
    still gets its mail; `=?` typed in a name makes it encoded, so it stays literal.
    """
    name = clean_text(display_name)
    if not name:
        return ""
    if _is_plain(name) and _PLAIN_PHRASE.fullmatch(name):
        return name
    if _is_plain(name):
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return encode_words(name)


def address_header(display_name: str, address: str) -> str:
    """Return "Name <address>" with the name quoted or encoded, the address checked."""
    if _LINE_BREAK.search(display_name):
        raise HeaderError("line break in a display name")
    addr = mailbox(address)
    phrase = display_phrase(display_name)
    return f"{phrase} <{addr}>" if phrase else addr
