"""Services for items: submitting, moderating, listing, searching and expiring them.

One module per concern; this package re-exports their public names, so callers import
`newsticker.items.services` (or its names) without knowing the module map:

- `search`: folding text for duplicate keys and search words
- `derived`: what follows from an item's own fields (rule, last end, search text)
- `validation`: `ItemData` and the rules across its fields
- `editing`: applying and auditing a change, `update_item` for editors and submitters
- `submissions`: the public's submissions, receipts, private links, withdrawal
- `moderation`: approving, rejecting and merging, one or several at once
- `reasons`: the rejection reasons the admins keep
- `duplicates`: likely duplicates of a submission, for a one-click merge
- `versions`: language versions of an item, and `item_text` (what a reader sees in a language)
- `listings`: the public list, item pages, feeds and the moderation queue
- `expiry`: retiring ended and old items

Views call the services through this package (`services.current_time()`), which is
also where tests freeze the clock or replace a service.
"""

# Tests reach the time zone class through this module, as they did before the split.
from zoneinfo import ZoneInfo as ZoneInfo

from newsticker.items.services.derived import (
    FAR_FUTURE,
    derive_fields,
    item_recurrence,
    last_end,
)
from newsticker.items.services.duplicates import SIMILAR_TITLE, likely_duplicates
from newsticker.items.services.editing import (
    EDITABLE_FIELDS,
    LIVE_STATUSES,
    ItemError,
    StaleItem,
    apply_values,
    check_version,
    current_time,
    find_duplicate,
    record_audit,
    refusing_stale_rows,
    submitter_may_edit,
    update_item,
)
from newsticker.items.services.expiry import ExpiryRun, expire_items
from newsticker.items.services.listings import (
    DEFAULT_UPCOMING_DAYS,
    EditorFilters,
    Listing,
    Occurrence,
    PublicFilters,
    count_notices,
    current_notices,
    directory_version,
    editor_items,
    feed_entries,
    feed_events,
    feed_fingerprint,
    item_version,
    marked_duplicates,
    next_dates,
    next_events,
    public_item,
    status_counts,
    upcoming_events,
)
from newsticker.items.services.moderation import (
    MAX_BULK,
    MERGE_FILL_FIELDS,
    approve_item,
    decide_many,
    merge_item,
    reject_item,
)
from newsticker.items.services.reasons import (
    delete_reason,
    get_reason,
    rejection_reasons,
    save_reason,
)
from newsticker.items.services.search import (
    MAX_SEARCH_WORDS,
    fold,
    search_fold,
    search_text_of,
    search_words,
)
from newsticker.items.services.submissions import (
    RECEIPTS_PER_ADDRESS,
    TOKEN_MIN_DAYS,
    TooManyReceipts,
    find_by_token,
    receipts_left,
    submit_item,
    token_expires_at,
    withdraw_item,
)
from newsticker.items.services.validation import (
    DEFAULT_VISIBLE_DAYS,
    MAX_EVENT_DAYS,
    MAX_YEARS_AHEAD,
    ItemData,
    check_item_data,
)
from newsticker.items.services.versions import (
    ItemText,
    VersionInput,
    VersionRejected,
    approve_version,
    delete_version,
    item_text,
    pending_versions,
    propose_version,
    reject_version,
    version_errors,
    version_errors_for,
)

__all__ = [
    "DEFAULT_UPCOMING_DAYS",
    "DEFAULT_VISIBLE_DAYS",
    "EDITABLE_FIELDS",
    "FAR_FUTURE",
    "LIVE_STATUSES",
    "MAX_BULK",
    "MAX_EVENT_DAYS",
    "MAX_SEARCH_WORDS",
    "MAX_YEARS_AHEAD",
    "MERGE_FILL_FIELDS",
    "RECEIPTS_PER_ADDRESS",
    "SIMILAR_TITLE",
    "TOKEN_MIN_DAYS",
    "EditorFilters",
    "ExpiryRun",
    "ItemData",
    "ItemError",
    "ItemText",
    "Listing",
    "Occurrence",
    "PublicFilters",
    "StaleItem",
    "TooManyReceipts",
    "VersionInput",
    "VersionRejected",
    "ZoneInfo",
    "apply_values",
    "approve_item",
    "approve_version",
    "check_item_data",
    "check_version",
    "count_notices",
    "current_notices",
    "current_time",
    "decide_many",
    "delete_reason",
    "delete_version",
    "derive_fields",
    "directory_version",
    "editor_items",
    "expire_items",
    "feed_entries",
    "feed_events",
    "feed_fingerprint",
    "find_by_token",
    "find_duplicate",
    "fold",
    "get_reason",
    "item_recurrence",
    "item_text",
    "item_version",
    "last_end",
    "likely_duplicates",
    "marked_duplicates",
    "merge_item",
    "next_dates",
    "next_events",
    "pending_versions",
    "propose_version",
    "public_item",
    "receipts_left",
    "record_audit",
    "refusing_stale_rows",
    "reject_item",
    "reject_version",
    "rejection_reasons",
    "save_reason",
    "search_fold",
    "search_text_of",
    "search_words",
    "status_counts",
    "submit_item",
    "submitter_may_edit",
    "token_expires_at",
    "upcoming_events",
    "update_item",
    "version_errors",
    "version_errors_for",
    "withdraw_item",
]
