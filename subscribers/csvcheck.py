"""Check the rows of an import file: each is imported or reported, with the reason.

`classify_rows` decides for each row of subscribers.csvio's reading whether it is
imported or reported. It touches no database; the caller passes in what it knows about
existing subscribers (their statuses and the suppression list's hashes).
"""

import unicodedata
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Literal

from flask_babel.speaklater import LazyString

from newsticker.core.i18n import MAIL_LANGUAGES
from newsticker.core.i18n import lazy_gettext as _l
from subscribers.addresses import (
    InvalidAddress,
    address_key,
    normalise_address,
    suppression_hash,
)
from subscribers.models import SubscriptionStatus

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "NAME_MAX_LENGTH",
    "AcceptedRow",
    "ImportRow",
    "ReportKind",
    "ReportLine",
    "classify_rows",
]

LANGUAGES = frozenset(MAIL_LANGUAGES)
DEFAULT_LANGUAGE = "de"
NAME_MAX_LENGTH = 200

ReportKind = Literal["invalid", "duplicate", "suppressed", "unsubscribed", "unchanged"]

_NAME_CONTROL = _l("The name contains a line break or another invisible control character.")
_NAME_FORMULA = _l(
    "The name must not start with =, +, - or @: a spreadsheet would run it as a formula."
)
_SUPPRESSED = _l(
    "This address was erased at the subscriber's request and must not be imported again."
)
_UNSUBSCRIBED = _l("This address has unsubscribed. Only the subscriber can subscribe again.")
_BOUNCED = _l("Mail to this address could not be delivered, so it was taken off the list.")
_UNCHANGED = _l("Already subscribed; nothing changed.")


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One data row as it appears in the file, not yet validated."""

    row_number: int  # as a spreadsheet shows it: the header is row 1
    email_raw: str
    name: str
    language: str


@dataclass(frozen=True, slots=True)
class AcceptedRow:
    """A row that may be imported: normalised address, name and language."""

    row_number: int
    email: str
    key: str
    name: str
    language: str
    # PENDING when the address is already known but unconfirmed, so the
    # caller updates rather than inserts; None for a new address.
    existing_status: SubscriptionStatus | None


@dataclass(frozen=True, slots=True)
class ReportLine:
    """A row that is not imported, and why."""

    row_number: int
    value: str
    reason: LazyString
    kind: ReportKind


def classify_rows(
    rows: Iterable[ImportRow],
    *,
    existing_keys: Mapping[str, str | SubscriptionStatus],
    suppressed_hashes: AbstractSet[str],
    salt: bytes,
) -> tuple[list[AcceptedRow], list[ReportLine]]:
    """Split rows into those to import and those to report, one outcome per row."""
    accepted: list[AcceptedRow] = []
    report: list[ReportLine] = []
    first_row_of: dict[str, int] = {}
    for row in rows:
        outcome = _classify_row(
            row,
            first_row_of=first_row_of,
            existing_keys=existing_keys,
            suppressed_hashes=suppressed_hashes,
            salt=salt,
        )
        if isinstance(outcome, AcceptedRow):
            accepted.append(outcome)
        else:
            report.append(outcome)
    return accepted, report


def _classify_row(
    row: ImportRow,
    *,
    first_row_of: dict[str, int],
    existing_keys: Mapping[str, str | SubscriptionStatus],
    suppressed_hashes: AbstractSet[str],
    salt: bytes,
) -> AcceptedRow | ReportLine:
    def reject(value: str, reason: LazyString, kind: ReportKind) -> ReportLine:
        return ReportLine(row.row_number, value, reason, kind)

    try:
        email = normalise_address(row.email_raw)
    except InvalidAddress as exc:
        return reject(row.email_raw, exc.message, "invalid")
    name = _clean_name(row.name)
    if isinstance(name, LazyString):
        return reject(row.name, name, "invalid")
    language = row.language.strip().casefold() or DEFAULT_LANGUAGE
    if language not in LANGUAGES:
        reason = _l(
            'Unknown language "%(value)s": use one of %(codes)s, or leave the cell empty.',
            value=row.language.strip(),
            codes=", ".join(MAIL_LANGUAGES),
        )
        return reject(row.language, reason, "invalid")

    key = address_key(email)
    # Only rows that passed the checks above claim their address, so the row a
    # duplicate points to is one the user does not have to fix.
    if key in first_row_of:
        reason = _l(
            "This address is already in row %(row)s of the file.",
            row=first_row_of[key],
        )
        return reject(row.email_raw, reason, "duplicate")
    first_row_of[key] = row.row_number
    if suppression_hash(email, salt) in suppressed_hashes:
        return reject(row.email_raw, _SUPPRESSED, "suppressed")
    known = existing_keys.get(key)
    status = _status(known) if known is not None else None
    if status == SubscriptionStatus.UNSUBSCRIBED:
        return reject(row.email_raw, _UNSUBSCRIBED, "unsubscribed")
    if status == SubscriptionStatus.BOUNCED:
        # Importing would override the bounce handling; to the office it is
        # the same case as an unsubscription: the address is off the list.
        return reject(row.email_raw, _BOUNCED, "unsubscribed")
    if status == SubscriptionStatus.CONFIRMED:
        return reject(row.email_raw, _UNCHANGED, "unchanged")
    return AcceptedRow(row.row_number, email, key, name, language, status)


def _status(value: str) -> SubscriptionStatus:
    try:
        return SubscriptionStatus(value)
    except ValueError:
        raise ValueError(f"unknown subscriber status {value!r}") from None


def _clean_name(raw: str) -> str | LazyString:
    if any(unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"} and char != "\t" for char in raw):
        return _NAME_CONTROL
    name = " ".join(raw.split())
    # A lone dash is the usual spreadsheet filler for "no name".
    if not name.strip("-– "):
        return ""
    if name.startswith(("=", "+", "-", "@")):
        return _NAME_FORMULA
    if len(name) > NAME_MAX_LENGTH:
        return _l(
            "The name is too long: it may have at most %(limit)s characters.",
            limit=NAME_MAX_LENGTH,
        )
    return name
