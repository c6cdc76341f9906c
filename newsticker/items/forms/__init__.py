"""Forms for submitting, editing, moderating and filtering items.

- `fields`: field classes, filters and validators the forms share
- `dates`: choices of the date and repeat fields, reading written dates
- `item`: `ItemForm`, what an item says (with its dates and repeat rule)
- `submission`: `SubmissionForm` (the public form) and `ItemEditForm`
- `moderation`: the moderation queue's forms
- `versions`: an item's texts in more languages (a repeatable group, or one alone)

The names import from `newsticker.items.forms` as before the split.
"""

from newsticker.items.forms.dates import MONTHS, NTHS, WEEKDAYS, nth_of, parse_date
from newsticker.items.forms.fields import (
    MailAddress,
    MultiCheckboxField,
    PlainText,
    SingleLine,
    WebLink,
    choices,
    clean_text,
    strip_space,
    text_field,
)
from newsticker.items.forms.item import MAX_TAG_LENGTH, MAX_TAGS, ItemForm
from newsticker.items.forms.moderation import (
    BulkForm,
    ConfirmForm,
    MergeForm,
    QueueFilterForm,
    ReasonForm,
    RejectForm,
)
from newsticker.items.forms.submission import ItemEditForm, SubmissionForm
from newsticker.items.forms.versions import MAX_VERSIONS, VERSION_GROUPS, VersionForm
from newsticker.items.languages import (
    LANGUAGE_CODES,
    SIGN_LANGUAGE,
    language_choices,
    language_name,
)

__all__ = [
    "LANGUAGE_CODES",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "MAX_VERSIONS",
    "MONTHS",
    "NTHS",
    "SIGN_LANGUAGE",
    "VERSION_GROUPS",
    "WEEKDAYS",
    "BulkForm",
    "ConfirmForm",
    "ItemEditForm",
    "ItemForm",
    "MailAddress",
    "MergeForm",
    "MultiCheckboxField",
    "PlainText",
    "QueueFilterForm",
    "ReasonForm",
    "RejectForm",
    "SingleLine",
    "SubmissionForm",
    "VersionForm",
    "WebLink",
    "choices",
    "clean_text",
    "language_choices",
    "language_name",
    "nth_of",
    "parse_date",
    "strip_space",
    "text_field",
]
