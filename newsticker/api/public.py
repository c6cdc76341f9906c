"""Public endpoints (no token): the directory, items, publications, the archive,
submitting an item and signing up, each as the site's own pages and forms do it."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import get_locale
from flask_smorest import Blueprint
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound

from newsticker.api import schemas
from newsticker.api import services as api_services
from newsticker.api.problems import problem
from newsticker.config import get_settings
from newsticker.core.audit import Actor
from newsticker.core.db import db, utcnow
from newsticker.core.extensions import submission_limit, subscription_limit
from newsticker.core.i18n import gettext as _
from newsticker.core.site import site_keyring, site_links
from newsticker.issues import services as issue_services
from newsticker.items import services as item_services
from newsticker.items.directory import directory_page
from newsticker.items.forms import SubmissionForm
from newsticker.items.images import upload_dir
from newsticker.items.models import Item
from subscribers import services as subscriber_services
from subscribers.forms import SubscribeForm, publication_choices

bp = Blueprint(
    "api_public",
    __name__,
    url_prefix="/api/v1",
    description="What everyone may read, submit and sign up for (no token).",
)

PAGE_SIZE = 30
# What the form's selects post when a person leaves them alone (a JSON body leaves them out).
SUBMISSION_DEFAULTS = {
    "repeat": "none",
    "repeat_interval": "1",
    "repeat_nth": "",
    "repeat_weekday": "",
}


def public_actor() -> Actor:
    """Return the audit trail's actor of a call without a token: the public, by address."""
    return Actor(label="api (public)", ip=request.remote_addr or "")


def item_data(item: Item) -> dict[str, Any]:
    """Return an item's public fields and the link to its page."""
    return {
        "id": item.id,
        "kind": item.kind.value,
        "title": item.title,
        "summary": item.summary,
        "description": item.description,
        "field_of_action": item.field_of_action,
        "tags": list(item.tags or []),
        "event_languages": list(item.event_languages or []),
        "content_language": item.content_language,
        "starts_at": item.starts_at,
        "ends_at": item.ends_at,
        "all_day": item.all_day,
        "place_name": item.place_name,
        "place_address": item.place_address,
        "accessibility_note": item.accessibility_note,
        "organiser": item.organiser,
        "contact_name": item.contact_name,
        "contact_email": item.contact_email,
        "contact_phone": item.contact_phone,
        "link": item.link,
        "image_alt": item.image_alt,
        "url": site_links().url("items.detail", item_id=item.id),
    }


def published_item_data(item: Item) -> dict[str, Any]:
    """Return item_data() and the item's text in the original and each approved language."""
    texts = (item_services.item_text(item, language) for language in item.approved_languages)
    return {
        **item_data(item),
        "versions": {
            text.language: {
                "title": text.title,
                "summary": text.summary,
                "description": text.description,
            }
            for text in texts
        },
    }


@bp.route("/items")
@bp.arguments(schemas.DirectoryQuery, location="query", as_kwargs=True)
@bp.response(200, schemas.DirectorySchema)
def directory(q: str, field_of_action: str, language: str, kind: str, page: int) -> Any:
    """Upcoming events and current notices, filtered and paged like /angebote.

    Events come one by one at their next date (a recurring event once, as on /angebote);
    announcements and calls come with the first page, or on every page when `kind` asks.
    Each item's `versions` holds its text in the original and every approved language.
    """
    filters = item_services.PublicFilters(
        query=q, field_of_action=field_of_action, language=language, kind=kind
    )
    found = directory_page(
        db.session, filters, page=page, now=item_services.current_time(), page_size=PAGE_SIZE
    )
    return {
        "page": page,
        "has_more": found.has_more,
        "dates": [
            {"starts_at": o.starts_at, "ends_at": o.ends_at, "item": published_item_data(o.item)}
            for o in found.occurrences
        ],
        "notices": [published_item_data(item) for item in found.notices],
    }


@bp.route("/items/<int(min=1, max=2147483647):item_id>")
@bp.response(200, schemas.ItemDetailSchema)
def item(item_id: int) -> Any:
    """One published item with its next dates and its text in each language it has.

    `versions` holds the original (`content_language`) and every approved version.
    """
    found = item_services.public_item(db.session, item_id)
    if found is None:
        raise NotFound()
    dates = item_services.next_dates(found, now=item_services.current_time(), tz=get_settings().tz)
    return {
        **published_item_data(found),
        "next_dates": [{"starts_at": d.starts_at, "ends_at": d.ends_at} for d in dates],
    }


@bp.route("/publications")
@bp.response(200, schemas.PublicationSchema(many=True))
def publications() -> Any:
    """The publications people can subscribe to."""
    return [
        {
            "slug": p.slug,
            "name": p.name,
            "description": p.description,
            "cadence": p.cadence,
            "sections": list(p.sections),
        }
        for p in get_settings().publications
    ]


@bp.route("/archive")
@bp.arguments(schemas.ArchiveQuery, location="query", as_kwargs=True)
@bp.response(200, schemas.ArchivedIssueSchema(many=True))
def archive(publication: str | None, limit: int) -> Any:
    """Sent issues, newest first (of one publication, or of all)."""
    if publication is not None and get_settings().publication(publication) is None:
        return problem(404, _("There is no publication “%(slug)s”.", slug=publication))
    issues = issue_services.archived_issues(db.session, publication, limit=limit)
    links = site_links()
    return [
        {
            "publication": issue.publication,
            "number": issue.number,
            "subject": issue.subject,
            "sent_at": issue.sent_at,
            "url": links.url("issues.issue", slug=issue.publication, number=issue.number),
        }
        for issue in issues
    ]


# ---------------------------------------------------------------- the forms' paths


def as_formdata(values: dict[str, Any]) -> MultiDict[str, str]:
    """Turn a JSON body into what the HTML form would have posted."""
    data: MultiDict[str, str] = MultiDict()
    for name, value in values.items():
        if isinstance(value, bool):
            if value:
                data.add(name, "y")
        elif isinstance(value, list):
            for entry in value:
                data.add(name, str(entry))
        elif hasattr(value, "strftime") and not hasattr(value, "year"):
            data.add(name, value.strftime("%H:%M"))  # a time, as the form's field reads it
        elif hasattr(value, "isoformat"):
            data.add(name, value.isoformat())
        elif value is not None:
            data.add(name, str(value))
    return data


def form_errors(form: Any) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        key = "_form" if name is None else str(name)
        errors[key] = [str(m) for m in messages]
    if form.form_errors:
        errors.setdefault("_form", []).extend(str(m) for m in form.form_errors)
    return errors


def _created(response: Any) -> bool:
    return int(response.status_code) == 201


@bp.route("/submissions", methods=["POST"])
@bp.arguments(schemas.SubmissionSchema)
@bp.response(201, schemas.SubmittedSchema)
@submission_limit(deduct_when=_created)
def submit(values: dict[str, Any]) -> Any:
    """Submit an item: it enters moderation, and the submitter gets the receipt mail.

    The same rules as the form /einreichen, with its messages, its rate limit per address
    and its limit of receipts per mail address. Images are not taken here.
    """
    settings = get_settings()
    form = SubmissionForm(
        formdata=as_formdata({**SUBMISSION_DEFAULTS, **values}), meta={"csrf": False}
    )
    form.tz = settings.tz
    form.now = item_services.current_time()
    if not form.validate():
        return problem(422, errors=form_errors(form))
    assert form.data_out is not None
    try:
        created, _token = item_services.submit_item(
            db.session,
            form.data_out,
            submitter_email=form.submitter_email.data or "",
            submitter_language=form.mail_language.data or "de",
            image=None,
            upload_dir=upload_dir(),
            tz=settings.tz,
            now=form.now,
            links=site_links(),
            receipt_window_hours=settings.rate_limits.confirmation_mails_per_address_hours,
        )
    except item_services.TooManyReceipts as exc:
        return problem(429, str(exc.message))
    api_services.record_api_change(
        db.session,
        "item.submitted",
        actor=public_actor(),
        now=form.now,
        subject=("item", created.id),
        summary=created.title,
    )
    return {
        "id": created.id,
        "status": created.status.value,
        "message": _(
            "Thank you! We have sent a confirmation to %(email)s. The editors will review "
            "your submission.",
            email=created.submitter_email,
        ),
    }, 201


def _accepted(response: Any) -> bool:
    return int(response.status_code) == 202


@bp.route("/subscriptions", methods=["POST"])
@bp.arguments(schemas.SubscriptionSchema)
@bp.response(202, schemas.MessageSchema)
@subscription_limit(deduct_when=_accepted)
def subscribe(values: dict[str, Any]) -> Any:
    """Ask for a subscription: the address gets the confirmation mail (double opt-in).

    The same rules as the form /abonnieren. The answer is the same whatever the address's
    state (new, pending, subscribed, blocked), so it tells nothing about anyone. The caller
    must have shown the consent text of the subscribe form.
    """
    settings = get_settings()
    form = SubscribeForm(formdata=as_formdata(values), meta={"csrf": False})
    form.publications.choices = publication_choices(settings)
    if not form.validate():
        return problem(422, errors=form_errors(form))
    email = form.email.normalised
    outcome = subscriber_services.request_subscription(
        db.session,
        subscriber_services.SignupRequest(
            email=email,
            name=form.name.data or "",
            language=form.language.data or "de",
            publications=tuple(form.publications.data or ()),
            ip=request.remote_addr,
            form_url=request.url,
            consent_language=str(get_locale() or settings.site.default_language),
            channel="api",
        ),
        keyring=site_keyring(),
        links=site_links(),
        settings=settings,
        now=utcnow(),
        window=subscriber_services.MailWindow.from_settings(settings),
    )
    api_services.record_api_change(
        db.session,
        "subscription.requested",
        actor=public_actor(),
        now=utcnow(),
        details={"outcome": str(outcome), "publications": list(form.publications.data or [])},
    )
    return {
        "message": _(
            "Please look in your mailbox: we have sent a link to %(email)s to confirm "
            "the subscription.",
            email=email,
        )
    }, 202
