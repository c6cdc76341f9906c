"""Check and normalise e-mail addresses typed by people (subscribers, submitters, editors)."""

import unicodedata

from email_validator import EmailNotValidError, validate_email

from newsticker.core.errors import UserError
from newsticker.core.i18n import lazy_gettext as _l

__all__ = ["MAX_ADDRESS_LENGTH", "InvalidAddress", "normalise_address"]

MAX_ADDRESS_LENGTH = 254  # RFC 5321 path limit minus the angle brackets
MAX_LOCAL_PART_LENGTH = 64

_EMPTY = _l("Please enter an e-mail address.")
_CONTROL = _l(
    "This is not a valid e-mail address: it contains a line break or another "
    "invisible control character."
)
_TOO_LONG = _l("This e-mail address is too long: it may have at most 254 characters.")
_LOCAL_TOO_LONG = _l(
    "This is not a valid e-mail address: the part before the @ may have at most 64 characters."
)
_ONE_AT = _l("This is not a valid e-mail address: it must contain exactly one @.")
_SPACES = _l("This is not a valid e-mail address: it must not contain spaces.")
_NOTHING_BEFORE_AT = _l("This is not a valid e-mail address: there must be something before the @.")
_NOTHING_AFTER_AT = _l(
    "This is not a valid e-mail address: there must be a domain after the @, such as example.org."
)
_SEPARATOR = _l(
    "This is not a valid e-mail address: it must not contain a comma or a "
    "semicolon. Please enter only one address."
)
_TRAILING_DOT = _l("This is not a valid e-mail address: it must not end with a dot.")
_MISPLACED_DOT = _l(
    "This is not a valid e-mail address: it must not start with a dot, have two "
    "dots in a row, or have a dot next to the @."
)
_DOMAIN_WITHOUT_DOT = _l(
    "This is not a valid e-mail address: the part after the @ must be a domain "
    "with a dot, such as example.org."
)
_GENERIC = _l("This is not a valid e-mail address. Please check it for typing errors.")


class InvalidAddress(UserError):
    """An address that cannot be used, with a message for the user."""


def _is_forbidden_character(char: str) -> bool:
    # A tab is treated as a space (it arrives from pasted spreadsheet cells);
    # CR, LF, NUL and the other controls could smuggle headers into a mail.
    return char != "\t" and unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"}


def normalise_address(raw: str) -> str:
    """Return the canonical form of an address, or raise InvalidAddress."""
    if any(_is_forbidden_character(char) for char in raw):
        raise InvalidAddress(_CONTROL)
    # Leading and trailing blanks (including no-break spaces from word
    # processors) are copy-and-paste noise, not part of the address.
    address = raw.strip()
    if not address:
        raise InvalidAddress(_EMPTY)
    if len(address.encode("utf-8")) > MAX_ADDRESS_LENGTH:
        raise InvalidAddress(_TOO_LONG)
    if address.count("@") != 1:
        raise InvalidAddress(_ONE_AT)
    if any(char.isspace() for char in address):
        raise InvalidAddress(_SPACES)
    local, domain = address.split("@")
    if not local:
        raise InvalidAddress(_NOTHING_BEFORE_AT)
    if not domain:
        raise InvalidAddress(_NOTHING_AFTER_AT)
    if "," in address or ";" in address:
        raise InvalidAddress(_SEPARATOR)
    if len(local.encode("utf-8")) > MAX_LOCAL_PART_LENGTH:
        raise InvalidAddress(_LOCAL_TOO_LONG)
    if address.endswith("."):
        raise InvalidAddress(_TRAILING_DOT)
    if ".." in address or local.startswith(".") or local.endswith("."):
        raise InvalidAddress(_MISPLACED_DOT)
    if domain.startswith("."):
        raise InvalidAddress(_MISPLACED_DOT)
    if "." not in domain:
        raise InvalidAddress(_DOMAIN_WITHOUT_DOT)
    try:
        # No DNS: the check is slow, fails offline, and a typo'd domain is
        # caught by the opt-in mail bouncing anyway.
        validated = validate_email(address, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise InvalidAddress(_GENERIC) from exc
    return validated.normalized
