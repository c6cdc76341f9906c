"""The moderation queue and its decisions (token with scope read, or moderate to decide)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from werkzeug.exceptions import NotFound

from newsticker.api import schemas
from newsticker.api import services as api_services
from newsticker.api.auth import SECURITY, current_actor, current_token, token_required
from newsticker.api.models import ApiScope
from newsticker.api.problems import problem
from newsticker.api.public import item_data
from newsticker.config import get_settings
from newsticker.core.db import db
from newsticker.core.site import site_links
from newsticker.items import services as item_services
from newsticker.items.models import Item, ItemStatus

bp = Blueprint(
    "api_moderation",
    __name__,
    url_prefix="/api/v1/moderation",
    description="The moderation queue and decisions (token: read; moderate to decide).",
)

PER_PAGE = 50


def _queued(item: Item) -> dict[str, Any]:
    return {
        **item_data(item),
        "status": item.status.value,
        "submitter_email": item.submitter_email,
        "created_at": item.created_at,
        "duplicate_of_id": item.duplicate_of_id,
        "rejection_reason": item.rejection_reason,
    }


def _item(item_id: int) -> Item:
    item = db.session.get(Item, item_id)
    if item is None:
        raise NotFound()
    return item


@bp.route("/items")
@bp.doc(security=SECURITY)
@token_required(ApiScope.READ)
@bp.arguments(schemas.QueueQuery, location="query", as_kwargs=True)
@bp.response(200, schemas.QueueSchema)
def queue(status: str, page: int) -> Any:
    """Items of the moderation queue (submitted ones by default), newest first."""
    filters = item_services.EditorFilters(status=None if status == "all" else ItemStatus(status))
    items, total = item_services.editor_items(
        db.session, filters, tz=get_settings().tz, page=page, per_page=PER_PAGE
    )
    return {"page": page, "total": total, "items": [_queued(i) for i in items]}


@bp.route("/items/<int(min=1, max=2147483647):item_id>")
@bp.doc(security=SECURITY)
@token_required(ApiScope.READ)
@bp.response(200, schemas.QueuedItemSchema)
def show(item_id: int) -> Any:
    """One item in any status, as editors see it."""
    return _queued(_item(item_id))


@bp.route("/items/<int(min=1, max=2147483647):item_id>/approve", methods=["POST"])
@bp.doc(security=SECURITY)
@token_required(ApiScope.MODERATE)
@bp.response(200, schemas.QueuedItemSchema)
@bp.alt_response(409, schema=schemas.ProblemSchema, content_type="application/problem+json")
def approve(item_id: int) -> Any:
    """Publish a submitted (or rejected) item; its submitter is told by mail."""
    item = _item(item_id)
    now = item_services.current_time()
    try:
        item_services.approve_item(
            db.session, item, user_id=current_token().user_id, now=now, links=site_links()
        )
    except item_services.ItemError as exc:
        return problem(409, str(exc.message))
    api_services.record_api_change(
        db.session,
        "item.approved",
        actor=current_actor(),
        now=now,
        subject=("item", item.id),
        summary=item.title,
    )
    return _queued(item)


@bp.route("/items/<int(min=1, max=2147483647):item_id>/reject", methods=["POST"])
@bp.doc(security=SECURITY)
@token_required(ApiScope.MODERATE)
@bp.arguments(schemas.RejectionSchema)
@bp.response(200, schemas.QueuedItemSchema)
@bp.alt_response(409, schema=schemas.ProblemSchema, content_type="application/problem+json")
def reject(values: dict[str, Any], item_id: int) -> Any:
    """Reject an item with a reason, which its submitter reads in the mail."""
    item = _item(item_id)
    now = item_services.current_time()
    try:
        item_services.reject_item(
            db.session,
            item,
            reason=values["reason"],
            user_id=current_token().user_id,
            now=now,
            links=site_links(),
        )
    except item_services.ItemError as exc:
        if not values["reason"].strip():
            return problem(422, errors={"reason": [str(exc.message)]})
        return problem(409, str(exc.message))
    api_services.record_api_change(
        db.session,
        "item.rejected",
        actor=current_actor(),
        now=now,
        subject=("item", item.id),
        summary=item.title,
    )
    return _queued(item)
