"""The marshmallow schemas of the API: they parse requests and make the OpenAPI document.

Request bodies that a public form also takes (a submission, a subscription) declare
only the types here; the rules and their messages are the forms' own, applied by the
endpoint through the same form class, so the API and the page refuse the same input
with the same words.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from newsticker.api.problems import ProblemSchema as ProblemSchema
from newsticker.core.i18n import MAIL_LANGUAGES
from newsticker.issues.models import SECTION_KINDS
from newsticker.items.languages import language_choices
from newsticker.items.models import FIELDS_OF_ACTION, ItemKind, ItemStatus

MAX_PAGE = 1000


class Base(ma.Schema):
    """Unknown fields are refused, so a typo in a field name is not silently ignored."""

    class Meta:
        unknown = ma.RAISE


class Query(ma.Schema):
    """Query strings ignore parameters they do not know, as the site's pages do."""

    class Meta:
        unknown = ma.EXCLUDE


class Paged(Query):
    """A page of a list."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))


class Versioned(Base):
    """The version of the issue a change is based on (optional: then it is not checked)."""

    version = fields.Integer(load_default=None, allow_none=True)


class ItemDetails(Base):
    """The texts and details an item shows besides its title and dates (and a submission
    gives): shared by what is read and what is submitted."""

    summary = fields.String()
    description = fields.String()
    organiser = fields.String()
    content_language = fields.String()
    place_name = fields.String()
    place_address = fields.String()
    accessibility_note = fields.String()
    contact_name = fields.String()
    contact_email = fields.String()
    contact_phone = fields.String()
    link = fields.String()
    image_alt = fields.String()


class Dates(Base):
    """When an event's date begins and ends."""

    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(allow_none=True)


class Counts(Base):
    """What became of a send's recipients so far."""

    sent = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    skipped = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)


# ---------------------------------------------------------------- items


class DirectoryQuery(Paged):
    """The public directory's filters and page (what /angebote takes as q, bereich, ...)."""

    q = fields.String(load_default="", validate=validate.Length(max=200))
    field_of_action = fields.String(
        load_default="", validate=validate.OneOf(["", *FIELDS_OF_ACTION])
    )
    language = fields.String(
        load_default="",
        validate=validate.OneOf(["", *(c for c, _n in language_choices(sign_language=True))]),
    )
    kind = fields.String(load_default="", validate=validate.OneOf(["", *ItemKind]))


class ItemSchema(ItemDetails):
    """A published item, as its page shows it."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": list(ItemKind)})
    title = fields.String(required=True)
    field_of_action = fields.String()
    tags = fields.List(fields.String())
    event_languages = fields.List(fields.String())
    starts_at = fields.AwareDateTime(allow_none=True)
    ends_at = fields.AwareDateTime(allow_none=True)
    all_day = fields.Boolean()
    url = fields.String(required=True, metadata={"description": "The item's public page"})


class PublishedItemSchema(ItemSchema):
    """A published item with its text in each language it has."""

    versions = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(lambda: VersionSchema()),
        required=True,
        metadata={
            "description": "The item's text by language: the original (`content_language`) "
            "and every approved version"
        },
    )


class ItemDetailSchema(PublishedItemSchema):
    """One item with its next dates and its versions by language."""

    next_dates = fields.List(fields.Nested(lambda: DateSchema()))


class VersionSchema(Base):
    """The text of an item in one language."""

    title = fields.String(required=True)
    summary = fields.String()
    description = fields.String()


class DateSchema(Dates):
    """One date of an event."""


class OccurrenceSchema(Dates):
    """One date of an event in the directory, with its item."""

    item = fields.Nested(PublishedItemSchema, required=True)


class DirectorySchema(Base):
    """One page of the directory: event dates, and current announcements and calls."""

    page = fields.Integer(required=True)
    has_more = fields.Boolean(required=True)
    dates = fields.List(fields.Nested(OccurrenceSchema), required=True)
    notices = fields.List(fields.Nested(PublishedItemSchema), required=True)


# ---------------------------------------------------------------- publications, archive


class PublicationSchema(Base):
    """A publication people can subscribe to."""

    slug = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String()
    cadence = fields.String()
    sections = fields.List(fields.String())


class ArchiveQuery(Query):
    """Which publication's sent issues to list."""

    publication = fields.String(load_default=None, validate=validate.Length(max=40))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ArchivedIssueSchema(Base):
    """A sent issue in the public archive."""

    publication = fields.String(required=True)
    number = fields.Integer(required=True)
    subject = fields.String()
    sent_at = fields.AwareDateTime(allow_none=True)
    url = fields.String(required=True)


# ---------------------------------------------------------------- submitting, subscribing


class SubmissionSchema(ItemDetails):
    """A submission, field for field what the public form takes (without the image)."""

    kind = fields.String(metadata={"enum": list(ItemKind)})
    title = fields.String()
    field_of_action = fields.String(metadata={"enum": list(FIELDS_OF_ACTION)})
    tags = fields.String(metadata={"description": "Keywords, separated by commas"})
    event_languages = fields.List(fields.String())
    start_date = fields.Date()
    start_time = fields.Time()
    end_date = fields.Date()
    end_time = fields.Time()
    all_day = fields.Boolean()
    repeat = fields.String()
    repeat_interval = fields.Integer()
    repeat_weekdays = fields.List(fields.String())
    repeat_nth = fields.String()
    repeat_weekday = fields.String()
    repeat_months = fields.List(fields.String())
    repeat_until = fields.Date()
    repeat_count = fields.Integer()
    repeat_exceptions = fields.String()
    visible_until = fields.Date()
    submitter_email = fields.String(metadata={"description": "Where the receipt goes"})
    mail_language = fields.String(metadata={"enum": list(MAIL_LANGUAGES)})
    consent = fields.Boolean(
        metadata={"description": "The submitter agrees to publication (must be true)"}
    )


class SubmittedSchema(Base):
    """What a stored submission answers."""

    id = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String(required=True)


class SubscriptionSchema(Base):
    """A sign-up, as the subscribe form takes it."""

    email = fields.String()
    name = fields.String()
    publications = fields.List(fields.String())
    language = fields.String(metadata={"enum": list(MAIL_LANGUAGES)})


class MessageSchema(Base):
    """A plain answer for people."""

    message = fields.String(required=True)


# ---------------------------------------------------------------- moderation


class QueueQuery(Paged):
    """Which items of the moderation queue to list."""

    status = fields.String(
        load_default=ItemStatus.SUBMITTED.value,
        validate=validate.OneOf([*ItemStatus, "all"]),
    )


class QueuedItemSchema(ItemSchema):
    """An item as editors see it in the queue."""

    status = fields.String(required=True, metadata={"enum": list(ItemStatus)})
    submitter_email = fields.String()
    created_at = fields.AwareDateTime(required=True)
    duplicate_of_id = fields.Integer(allow_none=True)
    rejection_reason = fields.String()


class QueueSchema(Base):
    """One page of the moderation queue."""

    page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    items = fields.List(fields.Nested(QueuedItemSchema), required=True)


class RejectionSchema(Base):
    """Why an item is rejected (the submitter reads it)."""

    reason = fields.String(load_default="", validate=validate.Length(max=2000))


# ---------------------------------------------------------------- issues


class IssueEntrySchema(Base):
    """One entry of an issue: an item's date, or an article."""

    id = fields.Integer(required=True)
    section = fields.String(required=True)
    position = fields.Integer(required=True)
    item_id = fields.Integer(allow_none=True)
    occurrence_start = fields.AwareDateTime(allow_none=True)
    title = fields.String()
    body = fields.String()
    link = fields.String()
    language = fields.String()


class IssueSchema(Base):
    """An issue of a publication, from draft to sent."""

    id = fields.Integer(required=True)
    publication = fields.String(required=True)
    number = fields.Integer(required=True)
    status = fields.String(required=True)
    subject = fields.String()
    preheader = fields.String()
    editorial = fields.String()
    scheduled_at = fields.AwareDateTime(allow_none=True)
    sent_at = fields.AwareDateTime(allow_none=True)
    version = fields.Integer(
        required=True, metadata={"description": "Send it back with a change (optimistic lock)"}
    )
    entries = fields.List(fields.Nested(IssueEntrySchema))


class NewDraftSchema(Base):
    """Which publication's next draft to build (or to add new items to)."""

    publication = fields.String(load_default="", validate=validate.Length(max=40))


class IssueEditSchema(Versioned):
    """The texts of an issue."""

    subject = fields.String(load_default="", validate=validate.Length(max=1000))
    preheader = fields.String(load_default="", validate=validate.Length(max=1000))
    editorial = fields.String(load_default="", validate=validate.Length(max=100_000))


class ScheduleSchema(Versioned):
    """When to send an issue, in the site's time zone."""

    send_date = fields.Date(required=True)
    send_time = fields.Time(required=True)
    override_size = fields.Boolean(load_default=False)


class VersionQuery(Query):
    """The version of the issue a removal is based on (optional)."""

    version = fields.Integer(load_default=None, allow_none=True)


class NewEntrySchema(Versioned):
    """A published item to add to the issue (to the section of its kind)."""

    item_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2147483647))


class ArticleSchema(Versioned):
    """An article written for the issue (Markdown text)."""

    title = fields.String(required=True, validate=validate.Length(max=1000))
    body = fields.String(load_default="", validate=validate.Length(max=100_000))
    link = fields.String(load_default="", validate=validate.Length(max=1000))
    language = fields.String(
        load_default="de",
        validate=validate.OneOf([c for c, _n in language_choices(sign_language=False)]),
    )


def id_list() -> fields.List[int]:
    """Return a list of ids (of entries or key figures) in the order wanted."""
    return fields.List(
        fields.Integer(validate=validate.Range(min=1, max=2147483647)),
        required=True,
        validate=validate.Length(max=1000),
    )


class SectionOrderSchema(Versioned):
    """A section's entries in their new order (all of them, each once)."""

    section = fields.String(required=True, validate=validate.OneOf([*SECTION_KINDS, "articles"]))
    entry_ids = id_list()


class FigureSchema(Versioned):
    """A key figure: label, value (a number as people write it), unit, period, source."""

    label = fields.String(required=True, validate=validate.Length(max=1000))
    value = fields.String(required=True, validate=validate.Length(max=100))
    unit = fields.String(load_default="", validate=validate.Length(max=1000))
    period = fields.String(load_default="", validate=validate.Length(max=1000))
    source = fields.String(load_default="", validate=validate.Length(max=1000))


class FigureOrderSchema(Versioned):
    """The key figures in their new order (all of them, each once)."""

    figure_ids = id_list()


class TestSendSchema(Base):
    """Where to send a test of an issue, and in which language."""

    addresses = fields.String(
        required=True,
        validate=validate.Length(max=5000),
        metadata={"description": "Up to 10 addresses, separated by commas or lines"},
    )
    language = fields.String(load_default="de", validate=validate.OneOf(MAIL_LANGUAGES))


# ---------------------------------------------------------------- delivery


class ProgressSchema(Counts):
    """Where the sending of an issue stands."""

    issue_id = fields.Integer(required=True)
    state = fields.String(allow_none=True)
    total = fields.Integer(required=True)
    pending = fields.Integer(required=True)
    rate_per_second = fields.Float(required=True)
    eta_seconds = fields.Float(allow_none=True)
    finished = fields.Boolean(required=True)


class ReportSchema(Counts):
    """The report of one send."""

    issue_id = fields.Integer(required=True)
    publication = fields.String(required=True)
    number = fields.Integer(required=True)
    state = fields.String(required=True)
    scheduled_for = fields.AwareDateTime(allow_none=True)
    started_at = fields.AwareDateTime(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)
    recipients = fields.Integer(required=True)
    failure_reasons = fields.List(fields.List(fields.Raw()))


# ---------------------------------------------------------------- subscribers


class SubscriberQuery(Paged):
    """The editor list's search and filters."""

    q = fields.String(load_default="", validate=validate.Length(max=200))
    publication = fields.String(load_default="", validate=validate.Length(max=40))
    status = fields.String(
        load_default="",
        validate=validate.OneOf(["", "pending", "confirmed", "unsubscribed", "bounced", "blocked"]),
    )


class SubscriptionStateSchema(Base):
    """One subscription of a subscriber."""

    publication = fields.String(required=True)
    status = fields.String(required=True)
    confirmed_at = fields.AwareDateTime(allow_none=True)


class SubscriberSchema(Base):
    """A subscriber with their subscriptions."""

    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String()
    language = fields.String()
    created_at = fields.AwareDateTime(required=True)
    blocked = fields.Boolean(required=True)
    subscriptions = fields.List(fields.Nested(SubscriptionStateSchema))


class BlockSchema(Base):
    """Why a subscriber is blocked (optional; the editors read it)."""

    note = fields.String(load_default="")


class SubscriberPageSchema(Base):
    """One page of subscribers."""

    page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    subscribers = fields.List(fields.Nested(SubscriberSchema), required=True)


class NewSubscriberSchema(Base):
    """A person the editors add by hand, with how they consented (the editors' form)."""

    email = fields.String()
    name = fields.String()
    language = fields.String(metadata={"enum": list(MAIL_LANGUAGES)})
    publications = fields.List(fields.String())
    consent_note = fields.String(metadata={"description": "How and when the person consented"})
    ask_confirmation = fields.Boolean(
        metadata={"description": "Send the confirmation mail instead (double opt-in)"}
    )


class ExportQuery(Query):
    """Which publication's confirmed subscribers to export."""

    publication = fields.String(required=True, validate=validate.Length(max=40))


class ImportSchema(Base):
    """A list to import, as the editors' import form takes it (the file as text)."""

    publication = fields.String()
    consent_note = fields.String(metadata={"description": "How the people on it consented"})
    csv = fields.String(
        validate=validate.Length(max=20 * 1024 * 1024),
        metadata={"description": "The CSV file's text (a column of addresses, optional names)"},
    )
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "Only check the list and report"}
    )


class ImportProblemSchema(Base):
    """A row that is not imported, and why."""

    row = fields.Integer(required=True)
    value = fields.String(required=True)
    reason = fields.String(required=True)


class ImportResultSchema(Base):
    """What an import did (or, with dry_run, would do)."""

    dry_run = fields.Boolean(required=True)
    imported = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    problems = fields.List(fields.Nested(ImportProblemSchema), required=True)
