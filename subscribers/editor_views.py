"""The editors' subscriber pages: list, counts, growth, add, block, consent log, erase, export.

The blueprint (`bp`) and what its pages share live in subscribers.editor_pages; importing
this module also brings in subscribers.import_views, bounce_views and proof_views, so
`subscribers.editor_views.bp` carries every editor page of the subscribers.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from newsticker.config import get_settings
from newsticker.core.access import admin_required, request_actor
from newsticker.core.db import db, utcnow
from newsticker.core.site import site_keyring, site_links
from subscribers import bounce_views as bounce_views  # registers its routes on bp
from subscribers import exporting, services
from subscribers import import_views as import_views  # registers its routes on bp
from subscribers import proof_views as proof_views  # registers its routes on bp
from subscribers.editor_pages import actor, bp, publication_names, subscriber_or_404
from subscribers.editor_show import render_show
from subscribers.forms import (
    ActionForm,
    AddSubscriberForm,
    BlockForm,
    EraseForm,
    SearchForm,
    publication_choices,
)
from subscribers.models import (
    CHANNEL_LABELS,
    CONSENT_ACTION_LABELS,
    STATUS_LABELS,
    SubscriptionStatus,
)
from subscribers.site import site_salts

__all__ = ["bounce_views", "bp", "import_views", "proof_views"]

logger = logging.getLogger(__name__)

PER_PAGE = 50
GROWTH_WEEKS = 26


def _chart(weeks: list[services.WeekGrowth]) -> dict[str, Any]:
    """Lay out the growth chart: bars up for subscriptions, down for withdrawals."""
    peak = max([1, *(w.subscribed for w in weeks), *(w.withdrawn for w in weeks)])
    bar, gap, half = 14, 6, 80
    bars = []
    for index, week in enumerate(weeks):
        up = round(half * week.subscribed / peak)
        down = round(half * week.withdrawn / peak)
        x = index * (bar + gap) + 40
        bars.append({"x": x, "up": up, "down": down, "week": week})
    return {
        "bars": bars,
        "width": len(weeks) * (bar + gap) + 40,
        "height": 2 * half + 30,
        "mid": half + 10,
        "bar": bar,
        "peak": peak,
    }


@bp.route("")
def index() -> ResponseReturnValue:
    """List and search subscribers, with counts per publication and a growth chart."""
    settings = get_settings()
    form = SearchForm(formdata=request.args if request.args else None)
    form.setup(settings)
    status = 200
    if request.args and not form.validate():
        status = 422
    filters = services.SubscriberFilters(
        query=(form.q.data or "")[:200] if not form.q.errors else "",
        publication=form.publication.data or "",
        status=form.status.data or "",
    )
    raw_page = request.args.get("seite", "1")
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) <= 10_000 else 1
    subscribers, total = services.search_subscribers(
        db.session, filters, page=page, per_page=PER_PAGE
    )
    weeks = services.growth_by_week(db.session, weeks=GROWTH_WEEKS, now=utcnow(), tz=settings.tz)
    return (
        render_template(
            "subscribers/editor/index.html",
            form=form,
            subscribers=subscribers,
            total=total,
            page=page,
            has_more=page * PER_PAGE < total,
            page_args={k: v for k, v in request.args.items() if k != "seite"},
            counts=services.subscription_counts(db.session),
            statuses=list(SubscriptionStatus),
            status_labels=STATUS_LABELS,
            publication_names=publication_names(),
            weeks=weeks,
            chart=_chart(weeks),
            imports=services.recent_imports(db.session),
        ),
        status,
    )


@bp.route("/neu", methods=["GET", "POST"])
def add() -> ResponseReturnValue:
    """Add a subscriber by hand, with a note on how they consented."""
    settings = get_settings()
    form = AddSubscriberForm()
    form.publications.choices = publication_choices(settings)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                subscriber = services.add_subscriber(
                    db.session,
                    email=form.email.normalised,
                    name=form.name.data or "",
                    language=form.language.data or "de",
                    publications=form.publications.data or [],
                    note=form.consent_note.data or "",
                    actor=actor(),
                    salts=site_salts(),
                    now=utcnow(),
                    ask_confirmation=bool(form.ask_confirmation.data),
                    keyring=site_keyring(),
                    links=site_links(),
                    settings=settings,
                    window=services.MailWindow.from_settings(settings),
                )
            except services.SubscriberError as exc:
                form.email.errors = [*form.email.errors, str(exc)]
                status = 422
            else:
                if form.ask_confirmation.data:
                    flash(
                        _(
                            "A confirmation mail has been sent to %(email)s.",
                            email=subscriber.email,
                        ),
                        "success",
                    )
                else:
                    flash(_("%(email)s has been added.", email=subscriber.email), "success")
                return redirect(
                    url_for("subscribers_editor.show", subscriber_id=subscriber.id), 303
                )
        else:
            status = 422
    return render_template("subscribers/editor/add.html", form=form), status


@bp.route("/<int:subscriber_id>")
def show(subscriber_id: int) -> ResponseReturnValue:
    """Show one subscriber: subscriptions, bounces, actions."""
    return render_show(subscriber_or_404(subscriber_id))


@bp.route("/<int:subscriber_id>/sperren", methods=["POST"])
def block(subscriber_id: int) -> ResponseReturnValue:
    """Block a subscriber: no more mail, no new sign-ups of the address."""
    subscriber = subscriber_or_404(subscriber_id)
    form = BlockForm()
    if not form.validate_on_submit():
        return render_show(subscriber, 422, block_form=form)
    services.block_subscriber(
        db.session, subscriber, actor=actor(), note=form.note.data or "", now=utcnow()
    )
    flash(_("%(email)s is blocked and receives no more mail.", email=subscriber.email), "success")
    return redirect(url_for("subscribers_editor.show", subscriber_id=subscriber.id), 303)


@bp.route("/<int:subscriber_id>/entsperren", methods=["POST"])
def unblock(subscriber_id: int) -> ResponseReturnValue:
    """Lift a block."""
    subscriber = subscriber_or_404(subscriber_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.unblock_subscriber(db.session, subscriber, actor=actor(), now=utcnow())
    flash(_("%(email)s is no longer blocked.", email=subscriber.email), "success")
    return redirect(url_for("subscribers_editor.show", subscriber_id=subscriber.id), 303)


@bp.route("/<int:subscriber_id>/abmelden/<publication>", methods=["POST"])
def unsubscribe(subscriber_id: int, publication: str) -> ResponseReturnValue:
    """Unsubscribe a person who asked the office to (by phone or letter)."""
    subscriber = subscriber_or_404(subscriber_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.unsubscribe(
        db.session, subscriber.id, publication, channel="editor", now=utcnow(), actor=actor()
    )
    flash(_("The subscription has been ended."), "success")
    return redirect(url_for("subscribers_editor.show", subscriber_id=subscriber.id), 303)


@bp.route("/<int:subscriber_id>/einwilligung")
@admin_required
def consent(subscriber_id: int) -> ResponseReturnValue:
    """Show the printable proof of consent for one address."""
    subscriber = subscriber_or_404(subscriber_id)
    events = services.consent_log(db.session, subscriber)
    versions = sorted({e.consent_text_version for e in events if e.consent_text_version})
    return render_template(
        "subscribers/editor/consent.html",
        subscriber=subscriber,
        events=events,
        sent_times=services.mail_sent_times(db.session, (e.message_id for e in events)),
        publication_names=publication_names(),
        status_labels=STATUS_LABELS,
        action_labels=CONSENT_ACTION_LABELS,
        channel_labels=CHANNEL_LABELS,
        consent_texts=[(v, services.CONSENT_TEXTS.get(v, "")) for v in versions],
        proofs=services.consent_proofs(db.session, subscriber),
        printed_at=utcnow(),
        printed_by=actor(),
    )


@bp.route("/<int:subscriber_id>/loeschen", methods=["GET", "POST"])
@admin_required
def erase(subscriber_id: int) -> ResponseReturnValue:
    """Erase a person on request (GDPR Art. 17), after a confirming tick."""
    subscriber = subscriber_or_404(subscriber_id)
    form = EraseForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            services.erase_subscriber(
                db.session, subscriber, salts=site_salts(), who=request_actor(), now=utcnow()
            )
            logger.info("subscriber %s erased by %s", subscriber_id, actor())
            flash(_("All data of the subscriber has been erased."), "success")
            return redirect(url_for("subscribers_editor.index"), 303)
        status = 422
    return render_template(
        "subscribers/editor/erase.html", form=form, subscriber=subscriber
    ), status


@bp.route("/export.csv")
@admin_required
def export() -> ResponseReturnValue:
    """Download the confirmed subscribers of one publication as CSV."""
    slug = request.args.get("publication", "")
    if get_settings().publication(slug) is None:
        abort(404)
    body = exporting.export_csv(db.session, slug, who=request_actor(), now=utcnow())
    response = Response(body, mimetype="text/csv")
    stamp = utcnow().strftime("%Y-%m-%d")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="abonnenten-{slug}-{stamp}.csv"'
    )
    return response
