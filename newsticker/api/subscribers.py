"""Subscribers through the API (token: subscribers): list, add with a consent note, block
and unblock, export and erase (these two, as in the editor area, for administrators only)."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, g
from flask_smorest import Blueprint
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import Forbidden, NotFound

from newsticker.api import schemas
from newsticker.api import services as api_services
from newsticker.api.auth import SECURITY, current_actor, token_required
from newsticker.api.models import ApiScope
from newsticker.api.problems import problem
from newsticker.api.public import as_formdata, form_errors
from newsticker.config import get_settings
from newsticker.core.audit import Actor
from newsticker.core.db import db, utcnow
from newsticker.core.site import site_keyring, site_links
from subscribers import exporting, importing, services
from subscribers.csvio import ImportFileError
from subscribers.forms import AddSubscriberForm, BlockForm, ImportForm, publication_choices
from subscribers.models import Subscriber
from subscribers.site import site_salts

bp = Blueprint(
    "api_subscribers",
    __name__,
    url_prefix="/api/v1/subscribers",
    description="Subscribers (token: subscribers; export and erase need an administrator).",
)

PER_PAGE = 50
SUBSCRIBER_ID = "<int(min=1, max=2147483647):subscriber_id>"


def subscriber_data(subscriber: Subscriber) -> dict[str, Any]:
    """Return what the API shows of a subscriber."""
    return {
        "id": subscriber.id,
        "email": subscriber.email,
        "name": subscriber.name,
        "language": subscriber.language,
        "created_at": subscriber.created_at,
        "blocked": subscriber.blocked_at is not None,
        "subscriptions": [
            {"publication": s.publication, "status": s.status.value, "confirmed_at": s.confirmed_at}
            for s in subscriber.subscriptions
        ],
    }


def _require_admin() -> None:
    if not g.api_user.is_admin:
        raise Forbidden()


@bp.route("")
@bp.doc(security=SECURITY)
@token_required(ApiScope.SUBSCRIBERS)
@bp.arguments(schemas.SubscriberQuery, location="query", as_kwargs=True)
@bp.response(200, schemas.SubscriberPageSchema)
def index(q: str, publication: str, status: str, page: int) -> Any:
    """Subscribers matching a search, newest first."""
    found, total = services.search_subscribers(
        db.session,
        services.SubscriberFilters(query=q, publication=publication, status=status),
        page=page,
        per_page=PER_PAGE,
    )
    return {"page": page, "total": total, "subscribers": [subscriber_data(s) for s in found]}


@bp.route("", methods=["POST"])
@bp.doc(security=SECURITY)
@token_required(ApiScope.SUBSCRIBERS)
@bp.arguments(schemas.NewSubscriberSchema)
@bp.response(201, schemas.SubscriberSchema)
def add(values: dict[str, Any]) -> Any:
    """Add a person who consented elsewhere, with a note on how (or ask them to confirm)."""
    settings = get_settings()
    form = AddSubscriberForm(formdata=as_formdata(values), meta={"csrf": False})
    form.publications.choices = publication_choices(settings)
    if not form.validate():
        return problem(422, errors=form_errors(form))
    actor = current_actor()
    try:
        subscriber = services.add_subscriber(
            db.session,
            email=form.email.normalised,
            name=form.name.data or "",
            language=form.language.data or "de",
            publications=form.publications.data or [],
            note=form.consent_note.data or "",
            actor=actor.label,
            salts=site_salts(),
            now=utcnow(),
            ask_confirmation=bool(form.ask_confirmation.data),
            keyring=site_keyring(),
            links=site_links(),
            settings=settings,
            window=services.MailWindow.from_settings(settings),
        )
    except services.SubscriberError as exc:
        return problem(422, errors={"email": [str(exc)]})
    api_services.record_api_change(
        db.session,
        "subscriber.added",
        actor=actor,
        now=utcnow(),
        subject=("subscriber", subscriber.id),
        details={"publications": list(form.publications.data or [])},
    )
    db.session.flush()
    return subscriber_data(subscriber), 201


@bp.route("/export")
@bp.doc(security=SECURITY)
@token_required(ApiScope.SUBSCRIBERS)
@bp.arguments(schemas.ExportQuery, location="query", as_kwargs=True)
@bp.response(200, content_type="text/csv", description="The confirmed subscribers as CSV")
def export(publication: str) -> Any:
    """The confirmed subscribers of one publication as CSV (administrators only)."""
    _require_admin()
    if get_settings().publication(publication) is None:
        raise NotFound()
    body = exporting.export_csv(db.session, publication)
    api_services.record_api_change(
        db.session,
        "subscribers.exported",
        actor=current_actor(),
        now=utcnow(),
        subject=("publication", publication),
    )
    return Response(body, mimetype="text/csv")


@bp.route(f"/{SUBSCRIBER_ID}", methods=["DELETE"])
@bp.doc(security=SECURITY)
@token_required(ApiScope.SUBSCRIBERS)
@bp.response(204)
def erase(subscriber_id: int) -> Any:
    """Erase a person and all their data on request (administrators only)."""
    _require_admin()
    subscriber = _subscriber(subscriber_id)
    services.erase_subscriber(db.session, subscriber, salts=site_salts())
    api_services.record_api_change(
        db.session,
        "subscriber.erased",
        actor=current_actor(),
        now=utcnow(),
        subject=("subscriber", subscriber_id),
    )
    return Response(status=204)


@bp.route(f"/{SUBSCRIBER_ID}/block", methods=["POST"])
@bp.doc(security=SECURITY)
@token_required(ApiScope.SUBSCRIBERS)
@bp.arguments(schemas.BlockSchema)
@bp.response(200, schemas.SubscriberSchema)
def block(values: dict[str, Any], subscriber_id: int) -> Any:
    """Block a subscriber: no more mail, no new sign-ups of the address."""
    subscriber = _subscriber(subscriber_id)
    form = BlockForm(formdata=as_formdata(values), meta={"csrf": False})
    if not form.validate():
        return problem(422, errors=form_errors(form))
    actor = current_actor()
    services.block_subscriber(
        db.session, subscriber, actor=actor.label, note=form.note.data or "", now=utcnow()
    )
    return _changed(subscriber, "subscriber.blocked", actor)


@bp.route(f"/{SUBSCRIBER_ID}/unblock", methods=["POST"])
@bp.doc(security=SECURITY)
@token_required(ApiScope.SUBSCRIBERS)
@bp.response(200, schemas.SubscriberSchema)
def unblock(subscriber_id: int) -> Any:
    """Lift a block; confirmed subscriptions receive mail again."""
    subscriber = _subscriber(subscriber_id)
    actor = current_actor()
    services.unblock_subscriber(db.session, subscriber, actor=actor.label, now=utcnow())
    return _changed(subscriber, "subscriber.unblocked", actor)


def _subscriber(subscriber_id: int) -> Subscriber:
    subscriber = services.get_subscriber(db.session, subscriber_id)
    if subscriber is None:
        raise NotFound()
    return subscriber


def _changed(subscriber: Subscriber, action: str, actor: Actor) -> dict[str, Any]:
    """Record a change of a subscriber in the audit trail; answer the subscriber."""
    api_services.record_api_change(
        db.session, action, actor=actor, now=utcnow(), subject=("subscriber", subscriber.id)
    )
    db.session.flush()
    return subscriber_data(subscriber)


@bp.route("/import", methods=["POST"])
@bp.doc(security=SECURITY)
@token_required(ApiScope.SUBSCRIBERS)
@bp.arguments(schemas.ImportSchema)
@bp.response(200, schemas.ImportResultSchema)
def import_list(values: dict[str, Any]) -> Any:
    """Import a list of people who consented elsewhere, as confirmed subscribers.

    The same checks and report as the editors' import; with `dry_run` only the report.
    """
    data = str(values.get("csv", "")).encode("utf-8")
    formdata: MultiDict[str, Any] = MultiDict(
        {
            "file": FileStorage(io.BytesIO(data), filename="api.csv"),
            "publication": str(values.get("publication", "")),
            "consent_note": str(values.get("consent_note", "")),
        }
    )
    form = ImportForm(formdata=formdata, meta={"csrf": False})
    form.publication.choices = publication_choices(get_settings())
    if not form.validate():
        return problem(422, errors=form_errors(form))
    try:
        plan = importing.plan_import(
            db.session, data, publication=form.publication.data, salts=site_salts()
        )
    except ImportFileError as exc:
        return problem(422, errors={"csv": [str(exc)]})
    if values["dry_run"]:
        return {
            "dry_run": True,
            "imported": len(plan.accepted),
            "unchanged": 0,
            "rejected": len(plan.report),
            "problems": _problems(plan.report),
        }
    actor = current_actor()
    result = importing.run_import(
        db.session,
        plan,
        publication=form.publication.data,
        consent_note=form.consent_note.data or "",
        actor=actor.label,
        channel="api",
        filename="api.csv",
        now=utcnow(),
    )
    api_services.record_api_change(
        db.session,
        "subscribers.imported",
        actor=actor,
        now=utcnow(),
        subject=("publication", form.publication.data),
        details={"imported": result.imported, "rejected": result.rejected},
    )
    return {
        "dry_run": False,
        "imported": result.imported,
        "unchanged": result.unchanged,
        "rejected": result.rejected,
        "problems": _problems(result.problems),
    }


def _problems(lines: Any) -> list[dict[str, Any]]:
    return [
        {"row": line.row_number, "value": line.value, "reason": str(line.reason)} for line in lines
    ]
