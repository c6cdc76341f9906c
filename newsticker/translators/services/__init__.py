"""Services for translators: `people` (the list the editors keep), `requests` (asking,
answering, expiring, what is open). Callers import the names from this package.
"""

from newsticker.translators.services.people import (
    TranslatorData,
    TranslatorError,
    list_translators,
    save_translator,
    set_active,
    translators_for,
)
from newsticker.translators.services.requests import (
    LinkClosed,
    PendingRequest,
    TranslationInvalid,
    ask_for_translation,
    decline_request,
    expire_requests,
    find_request,
    follow_versions,
    language_offers,
    link_usable,
    pending_requests,
    recent_requests,
    requests_for_item,
    submit_translation,
    withdraw_request,
)

__all__ = [
    "LinkClosed",
    "PendingRequest",
    "TranslationInvalid",
    "TranslatorData",
    "TranslatorError",
    "ask_for_translation",
    "decline_request",
    "expire_requests",
    "find_request",
    "follow_versions",
    "language_offers",
    "link_usable",
    "list_translators",
    "pending_requests",
    "recent_requests",
    "requests_for_item",
    "save_translator",
    "set_active",
    "submit_translation",
    "translators_for",
    "withdraw_request",
]
