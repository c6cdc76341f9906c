"""Passwords nobody should use: too short, or on a list of common passwords.

The list is the zxcvbn package's bundled list of the 30,000 most common passwords,
plus a short list of common German ones shipped in this package; nothing is
downloaded. A password is refused when it is on the list, or is a listed password
with only digits and punctuation added around it ("Passwort2024!").
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

MIN_PASSWORD_LENGTH = 12

_DECORATION = re.compile(r"^[\W\d_]*(.*?)[\W\d_]*$", re.DOTALL)


@cache
def common_passwords() -> frozenset[str]:
    """Return the common passwords, lower case (loaded once)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    words = set(FREQUENCY_LISTS["passwords"])
    german = files("newsticker.auth").joinpath("data/common_passwords_de.txt")
    for line in german.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(line.lower())
    return frozenset(words)


def is_common(password: str) -> bool:
    """Return whether a password is common, or a common one with digits and marks added."""
    lowered = password.lower()
    if lowered in common_passwords():
        return True
    core = _DECORATION.fullmatch(lowered)
    stem = core.group(1) if core else lowered
    if stem and stem in common_passwords():
        return True
    # A run along the digits, the alphabet or a keyboard row ("12345678901234").
    if any(lowered in run or lowered[::-1] in run for run in _RUNS):
        return True
    # One character or one short pattern repeated ("aaaaaaaaaaaa", "abcabcabcabc").
    return any(
        lowered == lowered[:n] * (len(lowered) // n) for n in range(1, 5) if len(lowered) % n == 0
    )


_RUNS = (
    "1234567890" * 4,
    "abcdefghijklmnopqrstuvwxyz" * 2,
    "qwertzuiopasdfghjklyxcvbnm" * 2,
    "qwertyuiopasdfghjklzxcvbnm" * 2,
)
