"""Read returned mail defensively: bytes in, a parsed message out, or a reason to quarantine.

Everything in a bounce mailbox is hostile input. Before the email package sees a message
we refuse what no mail server writes: an empty file, binary data, control characters or
invalid UTF-8 in the header, thousands of MIME parts. After parsing we walk the parts
without recursion and refuse nesting deeper than any report needs (a DSN is three levels
deep; forwarded reports add a few). Refusals raise `PoisonMessage`, whose reason goes
into the log and the run's report; the message itself goes to the quarantine folder.

Messages are parsed with the lenient compat32 policy: the modern policy builds header
objects lazily and can raise on a strange header long after parsing, deep inside the
classifier. Header values are decoded here, once, by `header`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from email import message_from_bytes
from email import policy as email_policy
from email.errors import CloseBoundaryNotFoundDefect, StartBoundaryNotFoundDefect
from email.header import decode_header, make_header
from email.message import Message

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 20
MAX_BOUNDARIES = 200
MAX_TEXT = 200_000  # characters of one part that the classifier reads

_HEADER_LINE = re.compile(rb"^(?:[!-9;-~]+:|From )")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# ESC is allowed in a header: old Japanese mail writes raw ISO-2022-JP there.
_HEADER_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]")
_BOUNDARY = re.compile(rb"boundary\s*=", re.IGNORECASE)


class PoisonMessage(Exception):
    """A message that cannot be read safely; the reason says why, for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_message(raw: bytes) -> Message:
    """Parse returned mail, or raise PoisonMessage with the reason it cannot be read."""
    if not raw.strip():
        raise PoisonMessage("empty message")
    if len(raw) > MAX_BYTES:
        raise PoisonMessage(f"larger than {MAX_BYTES // (1024 * 1024)} MB")
    head = _header_block(raw)
    first = head.lstrip(b"\r\n").split(b"\n", 1)[0]
    if not _HEADER_LINE.match(first):
        raise PoisonMessage("binary data or text without a mail header")
    if _HEADER_CONTROL.search(head):
        raise PoisonMessage("control characters in the header")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PoisonMessage(f"invalid code points in the header (byte {exc.start})") from exc
    if _looks_binary(raw[:8192]):
        raise PoisonMessage("binary data, not a mail message")
    if len(_BOUNDARY.findall(raw)) > MAX_BOUNDARIES:
        raise PoisonMessage(f"more than {MAX_BOUNDARIES} nested MIME multiparts")
    try:
        message = message_from_bytes(raw, policy=email_policy.compat32)
    except Exception as exc:  # the parser's own failures are poison too
        raise PoisonMessage(f"cannot be parsed: {type(exc).__name__}") from exc
    if not message.keys():
        raise PoisonMessage("no header fields")
    for _part in walk(message):
        pass  # raises on nesting that is too deep
    return message


def _header_block(raw: bytes) -> bytes:
    match = re.search(rb"\r?\n\r?\n", raw)
    return raw[: match.start()] if match else raw


def _looks_binary(sample: bytes) -> bool:
    # Mail is text: NULs or many other control bytes mean an image, an archive, junk.
    if sample.count(b"\x00") > 2:
        return True
    controls = len(_CONTROL.findall(sample))
    return controls > max(8, len(sample) // 20)


def walk(message: Message) -> Iterator[Message]:
    """Yield every part, depth first, without recursion; raise PoisonMessage when too deep."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PoisonMessage(f"MIME parts nested deeper than {MAX_DEPTH} levels")
        yield part
        payload = part.get_payload()
        if isinstance(payload, list):
            children = [p for p in payload if isinstance(p, Message)]
            stack.extend((child, depth + 1) for child in reversed(children))


def is_damaged(message: Message) -> bool:
    """Return whether a multipart was cut off (no closing boundary) or has no parts."""
    damaged = (CloseBoundaryNotFoundDefect, StartBoundaryNotFoundDefect)
    return any(isinstance(d, damaged) for part in walk(message) for d in part.defects)


def header(message: Message, name: str) -> str:
    """Return a header as one line of text, encoded words decoded; "" when absent or broken."""
    try:
        value = message.get(name)
    except Exception:  # a malformed header is no header
        return ""
    return _decoded(value)


def headers(message: Message, name: str) -> list[str]:
    """Return every value of a header, decoded like `header`."""
    try:
        values = message.get_all(name) or []
    except Exception:
        return []
    return [_decoded(value) for value in values]


def _decoded(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    if "=?" in text:
        with contextlib.suppress(LookupError, UnicodeError, ValueError, TypeError):
            text = str(make_header(decode_header(text)))
    return " ".join(text.split())


def part_text(part: Message) -> str:
    """Return the decoded text of a leaf part ("" for anything that is not text)."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        return ""
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset, "replace")
    except (LookupError, ValueError):
        text = payload.decode("utf-8", "replace")
    return text[:MAX_TEXT]


def raw_text(part: Message) -> str:
    """Return a part's payload as it stands, undecoded (for message/* parts kept as text)."""
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload[:MAX_TEXT]
    return ""
