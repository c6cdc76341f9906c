"""The one base of refusals that carry a message for a person."""

from __future__ import annotations

from typing import Any


class UserError(ValueError):
    """Something that cannot be done, with a message for whoever asked.

    The message is usually a lazy string, kept as it is so that it renders in the
    language of whoever displays it, not of whoever raised it.
    """

    def __init__(self, message: Any) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)
