"""RFC 3464 delivery status reports: one block per recipient, every one of them read.

A report carries a message/delivery-status part (RFC 6533: message/global-delivery-status)
with a block about the message and one block per recipient: Final-Recipient (and maybe
Original-Recipient), Action (failed, delayed, delivered, relayed, expanded), Status
(RFC 3463) and often Diagnostic-Code with the remote server's own words. When the MIME
structure is broken (a missing boundary, a wrong content type) the same fields are looked
for in the text of the message, as long as they come in blocks with a recipient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32

from subscribers.bounces.parsing import header, part_text, raw_text, walk

_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
_FIELD_BLOCK = re.compile(r"^(?:Final|Original)-Recipient:", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class RecipientBlock:
    """What a report says about one recipient."""

    address: str | None
    action: str
    status: str
    diagnostic: str
    category: str = ""  # a sending platform's own verdict (PowerMTA's bounce category)


def recipient_blocks(message: Message) -> list[RecipientBlock]:
    """Return the per-recipient blocks of every delivery status part, in order."""
    blocks: list[RecipientBlock] = []
    found_part = False
    for part in walk(message):
        if part.get_content_type() in _STATUS_TYPES:
            found_part = True
            blocks.extend(_read(block) for block in _status_blocks(part) if _about_recipient(block))
    if not found_part:
        blocks = [_read(block) for block in _blocks_in_text(message)]
    return [b for b in blocks if b.address or b.action]


def _about_recipient(block: Message) -> bool:
    # The first block describes the whole message (Reporting-MTA), not a recipient.
    return bool(block.get("Final-Recipient") or block.get("Original-Recipient"))


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if not isinstance(payload, list):
        return _parse_blocks(part_text(part) or raw_text(part))
    blocks: list[Message] = []
    for item in payload:
        if not isinstance(item, Message):
            continue
        blocks.append(item)
        # message/global-delivery-status is parsed like an attached mail: the first block
        # becomes its headers and the rest its body, which holds the other blocks.
        if not item.is_multipart():
            blocks.extend(_parse_blocks(raw_text(item)))
    return blocks


def _parse_blocks(text: str) -> list[Message]:
    parser = HeaderParser(policy=compat32)
    return [
        parser.parsestr(chunk.strip() + "\n")
        for chunk in re.split(r"\r?\n[ \t]*\r?\n", text or "")
        if chunk.strip()
    ]


def _blocks_in_text(message: Message) -> list[Message]:
    """Find DSN fields written into the text of a report whose MIME structure is broken."""
    found: list[Message] = []
    for part in walk(message):
        # A multipart whose boundary could not be found keeps its text as a string.
        if part.is_multipart() or part.get_content_maintype() not in (
            "text",
            "message",
            "multipart",
        ):
            continue
        text = part_text(part) or raw_text(part)
        if not _FIELD_BLOCK.search(text):
            continue
        for block in _parse_blocks(text):
            if _about_recipient(block) and (block.get("Action") or block.get("Status")):
                found.append(block)
        if found:
            break
    return found


def _read(block: Message) -> RecipientBlock:
    original = _recipient(header(block, "Original-Recipient"))
    final = _recipient(header(block, "Final-Recipient"))
    return RecipientBlock(
        # The original recipient is the address we sent to; the final one may be where
        # a forward or alias led.
        address=original or final,
        action=header(block, "Action").casefold(),
        status=header(block, "Status"),
        diagnostic=typed_value(header(block, "Diagnostic-Code")),
        category=header(block, "X-PowerMTA-BounceCategory").casefold(),
    )


def typed_value(value: str) -> str:
    """Return the value of a DSN field "type; value" ("smtp; 550 ..." gives "550 ...")."""
    _type, semicolon, rest = value.partition(";")
    return rest.strip() if semicolon else value.strip()


def _recipient(value: str) -> str | None:
    address_type, _semicolon, _rest = value.partition(";")
    address = typed_value(value).strip().strip("<>").strip()
    if address_type.strip().casefold() == "utf-8":
        # RFC 6533 writes non-ASCII characters as \x{HEX}.
        address = re.sub(
            r"\\x\{([0-9A-Fa-f]{1,6})\}",
            lambda m: chr(int(m.group(1), 16)) if int(m.group(1), 16) <= 0x10FFFF else "",
            address,
        )
    return address or None
