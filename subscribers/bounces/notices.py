"""Failure notices that are no RFC 3464 report: Postfix, Exim, qmail, Sendmail v5, Exchange,
Lotus Notes, Yahoo, Gmail, OpenSMTPD, DragonFly and the many appliances that write prose.

What they share: a robot sender (MAILER-DAEMON, postmaster, "Mail Delivery System"), an
empty return path, a subject that says delivery failed, and a text that names the failed
address near the server's reply, above a copy of the returned message. So this module

1. decides whether a mail is such a notice at all (a person's mail to the bounce address
   is not, whatever addresses it mentions);
2. cuts the notice's own text off above the returned message;
3. collects the failed addresses: X-Failed-Recipients, flufl.bounce's detectors, and the
   addresses in the notice's text, minus the robots' and our own;
4. gives each address the lines around it, which `reasons.judge` reads.

flufl.bounce recognises many old formats but says nothing about why; the reason comes
from the text either way. A notice that only says delivery is delayed and will be
retried is a delay warning, not a failure.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

import flufl.bounce

from newsticker.core.addresses import InvalidAddress, normalise_address
from subscribers.bounces.feedback import original_headers
from subscribers.bounces.parsing import header, headers, part_text, raw_text, walk

logger = logging.getLogger(__name__)
# flufl.bounce logs every detector it tries at INFO: a dozen lines per message would
# drown the scheduler's and the command's log. Its warnings and errors still show.
logging.getLogger("flufl.bounce").setLevel(logging.WARNING)

_ROBOT_LOCALS = frozenset(
    {
        "mailer-daemon",
        "postmaster",
        "mail-daemon",
        "maildaemon",
        "mailerdaemon",
        "mdaemon",
        "abuse",
        "root",
        "noreply",
        "no-reply",
        "double-bounce",
        "bounce",
        "bounces",
    }
)
_ROBOT_SENDER = re.compile(
    r"mailer[- ]?daemon|postmaster|mail delivery|delivery (?:status|subsystem)|"
    r"mail administrator|mail system|microsoft outlook|\bsmtp\b|mail ?guard",
    re.IGNORECASE,
)
_FAILURE_SUBJECT = re.compile(
    r"undeliver|undelivered|not (?:be )?delivered|delivery (?:status notification|failure|"
    r"failed|report|problem|notification)|failure notice|returned mail|return(?:ed)? to sender|"
    r"mail delivery failed|could not (?:be )?deliver|nondeliverable|non-?delivery|"
    r"delivery has failed|bounce|rejected|mail system error|warning: could not send|"
    r"unzustellbar|nicht zustellbar|unzustellbare|fehlgeschlagen|"
    r"non remis|non distribu|[ée]chec de (?:la )?(?:remise|distribution)|"
    r"no entregado|imposible entregar|mancata consegna|non recapitat|"
    r"onbestelbaar|niet afgeleverd|devolvido|n[ãa]o entregue|"
    r"retourn|delayed|delay|warning|mail error|error sending|failure",
    re.IGNORECASE,
)
_DELAY = re.compile(
    r"will (?:continue to )?(?:retry|try again|keep trying)|still (?:trying|being retried)|"
    r"delivery attempts will continue|has not (?:yet )?been delivered|"
    r"not yet been delivered|is delayed|been delayed|delivery delayed|"
    r"warning message only|no action is required|you do not need to resend|"
    r"temporar(?:il)?y (?:failure|problem|unavailable|deferred)|deferred|"
    r"wird (?:weiter|erneut) versucht|verz[öo]gert|"
    r"sera retent|nouvelle tentative|se reintentar|verr[àa] ritentat",
    re.IGNORECASE,
)
_PERMANENT = re.compile(
    r"permanent(?:ly)? (?:error|failure|fatal|failed)|fatal error|could not be delivered|"
    r"couldn'?t be delivered|cannot be delivered|was not delivered|undeliverable|"
    r"has failed|delivery failed|failed permanently|giving up|gave up|"
    r"(?:^|\s)5\d\d[ -]|\b5\.\d{1,3}\.\d{1,3}\b|"
    r"endg[üu]ltig|nicht zugestellt werden|unzustellbar",
    re.IGNORECASE,
)
# Where the copy of the returned message starts, as the MTAs write it: a line of its own,
# often between dashes ("------ This is a copy of the message, including all the headers.").
_RETURNED_MARK = re.compile(
    r"^\s*[-=*_]*\s*(?:"
    r"(?:this is a )?copy of (?:the|your) (?:original )?message\b.*|"
    r"below (?:this line )?is a copy of the (?:original )?message\b.*|"
    r"(?:the )?(?:original|unsent|returned|undelivered) message(?: headers)?(?: follows?)?|"
    r"message headers follow|headers? of (?:the )?original message|"
    r"original message headers|returned mail follows|"
    r"the (?:first|following) \d+ lines of .*|"
    r"urspr[üu]ngliche nachricht|kopfzeilen der urspr[üu]nglichen nachricht|"
    r"message d'origine|mensaje original|messaggio originale"
    r")\s*[:.]?\s*[-=*_]*\s*$",
    re.IGNORECASE,
)
_HEADER_START = re.compile(
    r"^(?:Received|Return-Path|Message-I[Dd]|DKIM-Signature|X-Received|Delivered-To|"
    r"ARC-Seal|Authentication-Results|Content-Type: message/rfc822):",
)
# An address in running text; the last label must be an ASCII top-level domain, so text
# that follows without a space ("a@example.jp您好") is not taken for part of it.
_ADDRESS = re.compile(
    r"(?<![\w.%+=-])[\w.!#$%&'*+/=?^`{|}~-]{1,64}@(?:[\w-]{1,63}\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})(?![\w-])",
)
WINDOW_LINES = 4
MAX_CANDIDATES = 50


@dataclass(frozen=True, slots=True)
class NoticeRecipient:
    """A failed address of a notice and the text about it, closest first."""

    address: str
    levels: tuple[str, ...]


def is_failure_notice(message: Message) -> bool:
    """Return whether a mail looks written by a mail server about a delivery.

    An empty return path alone proves nothing (vacation robots use it too, as RFC 3834
    asks): it counts only with a subject that says delivery failed.
    """
    if header(message, "X-Failed-Recipients"):
        return True
    if message.get_content_type() == "multipart/report":
        return True
    sender = header(message, "From")
    name, address = next(iter(getaddresses([sender])), ("", ""))
    if _is_robot_local(address.rpartition("@")[0]) or _ROBOT_SENDER.search(name):
        return True
    if not sender or "<>" in sender:
        return True
    if not _FAILURE_SUBJECT.search(header(message, "Subject")):
        return False
    return_path = header(message, "Return-Path")
    return (
        (bool(return_path) and return_path.strip("<> ") == "")
        or bool(header(message, "Auto-Submitted"))
        or _looks_like_server_text(notice_text(message))
    )


def _looks_like_server_text(text: str) -> bool:
    return bool(re.search(r"(?:^|\s)[45]\d\d[ -]|\b[45]\.\d{1,3}\.\d{1,3}\b", text))


def notice_text(message: Message) -> str:
    """Return the notice's own text, without the copy of the returned message."""
    chunks: list[str] = []
    inside_returned: set[int] = set()
    for part in walk(message):
        if id(part) in inside_returned:
            continue
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "text/rfc822-headers"):
            inside_returned.update(id(p) for p in walk(part))
            continue
        if part.is_multipart():
            continue
        if part.get_content_maintype() == "multipart":
            # A multipart whose boundary could not be found: its text is all there is.
            text = raw_text(part)
        elif part.get_content_maintype() == "text":
            text = part_text(part)
        else:
            continue
        if content_type == "text/html":
            text = _strip_html(text)
        chunks.append(_cut_returned(text))
        if len("".join(chunks)) > 50_000:
            break
    return "\n".join(chunks)


def _strip_html(text: str) -> str:
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</li>", "\n", text)
    text = re.sub(r"<[^>]+>", " ", text)
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&nbsp;", " "), ("&amp;", "&")):
        text = text.replace(entity, char)
    return text


def _cut_returned(text: str) -> str:
    lines = text.splitlines()
    seen_text = False
    for index, line in enumerate(lines):
        if seen_text and (_RETURNED_MARK.match(line) or _HEADER_START.match(line)):
            return "\n".join(lines[:index])
        seen_text = seen_text or bool(line.strip())
    return text


def is_delay_warning(message: Message, text: str) -> bool:
    """Return whether a notice only says delivery is delayed and will be retried."""
    subject = header(message, "Subject")
    delayed = bool(_DELAY.search(text)) or bool(
        re.search(r"delay|warning|verz[öo]gert", subject, re.IGNORECASE)
    )
    if not delayed:
        return False
    permanent_subject = re.search(
        r"fail|undeliver|not delivered|unzustellbar|returned", subject, re.IGNORECASE
    )
    return not permanent_subject and not _PERMANENT.search(_without_delay_phrases(text))


def _without_delay_phrases(text: str) -> str:
    # "4xx" replies quoted in a warning are not permanent; 5xx ones would be.
    return _DELAY.sub(" ", text)


def failed_recipients(message: Message, text: str) -> list[NoticeRecipient]:
    """Return the failed addresses of a notice, each with the lines that talk about it."""
    candidates: dict[str, None] = {}
    explicit: set[str] = set()
    for value in headers(message, "X-Failed-Recipients"):
        for _name, address in getaddresses([value]):
            candidates[address] = None
            explicit.add(address.casefold())
    try:
        _temporary, permanent = flufl.bounce.all_failures(message)
    except Exception:  # a detector must not stop bounce processing
        logger.warning("flufl.bounce failed on a message", exc_info=True)
        permanent = frozenset()
    for detected in sorted(permanent):
        with contextlib.suppress(UnicodeDecodeError):
            name = detected.decode("ascii") if isinstance(detected, bytes) else str(detected)
            candidates[name] = None
    for match in _ADDRESS.finditer(text):
        candidates[match.group(0).strip(".")] = None
    skip = _own_addresses(message)
    result: list[NoticeRecipient] = []
    seen: set[str] = set()
    for raw in candidates:
        found = valid_address(raw)
        if found is None or found.casefold() in seen:
            continue
        if raw.casefold() not in explicit and _is_robot(found, skip):
            continue
        seen.add(found.casefold())
        result.append(NoticeRecipient(found, tuple(evidence(text, raw))))
        if len(result) >= MAX_CANDIDATES:
            break
    return result


def valid_address(raw: str) -> str | None:
    """Return a normalised address, or None for text that is not one."""
    candidate = raw.strip().strip("<>()[]\"'.,;:").strip()
    if candidate.casefold().startswith("mailto:"):
        candidate = candidate[len("mailto:") :]
    try:
        return normalise_address(candidate)
    except InvalidAddress:
        return None


def _own_addresses(message: Message) -> frozenset[str]:
    """Return the notice's sender and receiver and the returned mail's sender."""
    found: set[str] = set()
    # Not Delivered-To or X-Original-To: some agents (DragonFly) put the failed address there.
    names = ("From", "To", "Reply-To", "Sender", "Return-Path")
    for name in names:
        for _display, address in getaddresses(headers(message, name)):
            found.add(address.casefold())
    original = original_headers(message)
    if original is not None:
        for name in ("From", "Sender", "Return-Path", "Reply-To"):
            for _display, address in getaddresses(headers(original, name)):
                found.add(address.casefold())
    return frozenset(a for a in found if a)


def _is_robot(address: str, skip: frozenset[str]) -> bool:
    return address.casefold() in skip or _is_robot_local(address.rpartition("@")[0])


def _is_robot_local(local: str) -> bool:
    # "post_master", "Mailer.Daemon", "MAILER-DAEMON" are one robot.
    folded = local.casefold()
    return folded in _ROBOT_LOCALS or re.sub(r"[-_.]", "", folded) in _ROBOT_LOCALS


def evidence(text: str, address: str) -> list[str]:
    """Return the text about an address, closest first: its statement, then with the line before.

    Level one is each line naming the address with the lines that continue it (Exim and
    Exchange write the address alone and the reply below; Postfix wraps the reply), up to
    a blank line, another address, or a new reply or transcript line (a Sendmail
    transcript's next reply is another statement). Level two adds the line before each
    (Lotus Notes writes the reason first, Sendmail the command: ">>> DATA").
    """
    lines = text.splitlines()
    needle = address.casefold()
    statement: set[int] = set()
    before: set[int] = set()
    for index, line in enumerate(lines):
        if needle not in line.casefold():
            continue
        statement.add(index)
        if index and lines[index - 1].strip() and not _names_another(lines[index - 1], needle):
            before.add(index - 1)
        for offset in range(index + 1, min(index + 1 + WINDOW_LINES, len(lines))):
            next_line = lines[offset]
            if not next_line.strip() or _NEW_STATEMENT.match(next_line):
                break
            if needle in next_line.casefold() or _names_another(next_line, needle):
                break  # its own statement, or the next recipient's
            statement.add(offset)
    return [
        "\n".join(lines[i] for i in sorted(statement)),
        "\n".join(lines[i] for i in sorted(statement | before)),
    ]


# A line that starts a statement of its own: an SMTP reply or a transcript line.
_NEW_STATEMENT = re.compile(r"^\s*(?:[45]\d\d[ -]|>>>|<<<)")


def _names_another(line: str, needle: str) -> bool:
    return any(m.group(0).casefold() != needle for m in _ADDRESS.finditer(line))


def original_recipients(message: Message) -> list[str]:
    """Return the To addresses of the returned mail (ours go to one person each)."""
    original = original_headers(message)
    values = headers(original, "To") if original is not None else _returned_to_lines(message)
    addresses = [valid_address(a) for _n, a in getaddresses(values)]
    return [a for a in addresses if a]


def _returned_to_lines(message: Message) -> list[str]:
    """Return the To lines of a returned mail quoted in the text below the notice."""
    for part in walk(message):
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        lines = part_text(part).splitlines()
        for index, line in enumerate(lines):
            if index and (_RETURNED_MARK.match(line) or _HEADER_START.match(line)):
                quoted = lines[index : index + 60]
                return [q[3:].strip() for q in quoted if q[:3].casefold() == "to:"][:1]
    return []
