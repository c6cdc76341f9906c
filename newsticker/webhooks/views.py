"""Admin pages of webhooks (/redaktion/webhooks): endpoints, delivery log, test event."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from newsticker.config import get_settings
from newsticker.core import webhooks
from newsticker.core.access import admin_required, protect_editor_blueprint
from newsticker.core.db import db, utcnow
from newsticker.core.unit_of_work import after_commit
from newsticker.webhooks.forms import EndpointForm

bp = Blueprint("webhooks", __name__, url_prefix="/redaktion/webhooks")
protect_editor_blueprint(bp)


def _endpoint(endpoint_id: int) -> webhooks.WebhookEndpoint:
    endpoint = db.session.get(webhooks.WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


@bp.route("/", methods=["GET", "POST"])
@login_required
@admin_required
def index() -> ResponseReturnValue:
    """List the endpoints and register new ones."""
    form = EndpointForm()
    status = 200
    if form.validate_on_submit():
        try:
            endpoint = webhooks.add_endpoint(
                db.session,
                url=form.url.data or "",
                events=form.events.data or [],
                description=form.description.data or "",
                allow_http_loopback=get_settings().webhooks.allow_http_loopback,
                user_id=current_user.id,
                now=utcnow(),
            )
        except webhooks.WebhookError as exc:
            form.url.errors = [*form.url.errors, str(exc.message)]
            status = 422
        else:
            flash(_("Endpoint registered. Give its signing secret to the receiver."), "success")
            return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint.id), 303)
    elif form.is_submitted():
        status = 422
    endpoints = webhooks.list_endpoints(db.session)
    return render_template(
        "webhooks/index.html", form=form, endpoints=endpoints, event_types=webhooks.EVENT_TYPES
    ), status


@bp.route("/<int:endpoint_id>")
@login_required
@admin_required
def endpoint(endpoint_id: int) -> ResponseReturnValue:
    """Show an endpoint, its secret and its delivery log."""
    found = _endpoint(endpoint_id)
    return render_template(
        "webhooks/endpoint.html",
        endpoint=found,
        deliveries=webhooks.recent_deliveries(db.session, found.id),
        event_types=webhooks.EVENT_LABELS,
        WebhookStatus=webhooks.WebhookStatus,
    )


@bp.route("/<int:endpoint_id>/test", methods=["POST"])
@login_required
@admin_required
def send_test(endpoint_id: int) -> ResponseReturnValue:
    """Queue a test event for the endpoint and try to deliver it right after the commit."""
    found = _endpoint(endpoint_id)
    delivery = webhooks.emit_test_event(
        db.session, found, now=utcnow(), actor=str(current_user.email)
    )
    settings = get_settings().webhooks
    factory = db.session_factory
    delivery_id = delivery.id
    after_commit(
        db.session,
        lambda: webhooks.deliver_due_webhooks(
            factory,
            max_attempts=settings.max_attempts,
            retry_base_seconds=settings.retry_base_seconds,
            timeout=settings.timeout_seconds,
            ids=[delivery_id],
        ),
    )
    flash(_("Test event sent; its result is in the log below."), "info")
    return redirect(url_for("webhooks.endpoint", endpoint_id=found.id), 303)


@bp.route("/<int:endpoint_id>/aktiv", methods=["POST"])
@login_required
@admin_required
def toggle(endpoint_id: int) -> ResponseReturnValue:
    """Pause or resume an endpoint."""
    found = _endpoint(endpoint_id)
    webhooks.set_endpoint_active(db.session, found, not found.active)
    return redirect(url_for("webhooks.endpoint", endpoint_id=found.id), 303)


@bp.route("/<int:endpoint_id>/loeschen", methods=["POST"])
@login_required
@admin_required
def delete(endpoint_id: int) -> ResponseReturnValue:
    """Delete an endpoint and its log."""
    webhooks.delete_endpoint(db.session, _endpoint(endpoint_id))
    flash(_("Endpoint deleted."), "success")
    return redirect(url_for("webhooks.index"), 303)
