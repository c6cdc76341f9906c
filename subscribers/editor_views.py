"""The editors' subscriber pages: list, counts, growth, add, block, import, consent log, erase."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from newsticker.config import get_settings
from newsticker.core.access import admin_required, protect_editor_blueprint
from newsticker.core.db import db, utcnow
from subscribers import importing, services
from subscribers.csvio import MAX_IMPORT_BYTES, ImportFileError, write_export
from subscribers.forms import (
    ActionForm,
    AddSubscriberForm,
    BlockForm,
    EraseForm,
    ImportForm,
    SearchForm,
    publication_choices,
)
from subscribers.models import (
    CHANNEL_LABELS,
    CONSENT_ACTION_LABELS,
    STATUS_LABELS,
    Subscriber,
    SubscriberImport,
    SubscriptionStatus,
)

logger = logging.getLogger(__name__)

bp = Blueprint("subscribers_editor", __name__, url_prefix="/redaktion/abonnenten")
protect_editor_blueprint(bp)

PER_PAGE = 50
GROWTH_WEEKS = 26
PREVIEW_LINES = 200


def _actor() -> str:
    return str(getattr(current_user, "email", "") or "")


def _subscriber(subscriber_id: int) -> Subscriber:
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        abort(404)
    return subscriber


def _publication_names() -> dict[str, str]:
    return {p.slug: p.name for p in get_settings().publications}


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
            statuses=[s.value for s in SubscriptionStatus],
            status_labels=STATUS_LABELS,
            publication_names=_publication_names(),
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
                    actor=_actor(),
                    salts=services.current_salts(),
                    now=utcnow(),
                    ask_confirmation=bool(form.ask_confirmation.data),
                    keyring=services.current_keyring(),
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


def _show(subscriber: Subscriber, status: int = 200, **forms: Any) -> ResponseReturnValue:
    bounces = services.subscriber_data(db.session, subscriber)["bounces"]
    return (
        render_template(
            "subscribers/editor/show.html",
            subscriber=subscriber,
            publication_names=_publication_names(),
            status_labels=STATUS_LABELS,
            bounces=bounces,
            action_form=forms.get("action_form") or ActionForm(),
            block_form=forms.get("block_form") or BlockForm(),
        ),
        status,
    )


@bp.route("/<int:subscriber_id>")
def show(subscriber_id: int) -> ResponseReturnValue:
    """Show one subscriber: subscriptions, bounces, actions."""
    return _show(_subscriber(subscriber_id))


@bp.route("/<int:subscriber_id>/sperren", methods=["POST"])
def block(subscriber_id: int) -> ResponseReturnValue:
    """Block a subscriber: no more mail, no new sign-ups of the address."""
    subscriber = _subscriber(subscriber_id)
    form = BlockForm()
    if not form.validate_on_submit():
        return _show(subscriber, 422, block_form=form)
    services.block_subscriber(
        db.session, subscriber, actor=_actor(), note=form.note.data or "", now=utcnow()
    )
    flash(_("%(email)s is blocked and receives no more mail.", email=subscriber.email), "success")
    return redirect(url_for("subscribers_editor.show", subscriber_id=subscriber.id), 303)


@bp.route("/<int:subscriber_id>/entsperren", methods=["POST"])
def unblock(subscriber_id: int) -> ResponseReturnValue:
    """Lift a block."""
    subscriber = _subscriber(subscriber_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.unblock_subscriber(db.session, subscriber, actor=_actor(), now=utcnow())
    flash(_("%(email)s is no longer blocked.", email=subscriber.email), "success")
    return redirect(url_for("subscribers_editor.show", subscriber_id=subscriber.id), 303)


@bp.route("/<int:subscriber_id>/abmelden/<publication>", methods=["POST"])
def unsubscribe(subscriber_id: int, publication: str) -> ResponseReturnValue:
    """Unsubscribe a person who asked the office to (by phone or letter)."""
    subscriber = _subscriber(subscriber_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.unsubscribe(
        db.session, subscriber.id, publication, channel="editor", now=utcnow(), actor=_actor()
    )
    flash(_("The subscription has been ended."), "success")
    return redirect(url_for("subscribers_editor.show", subscriber_id=subscriber.id), 303)


@bp.route("/<int:subscriber_id>/einwilligung")
@admin_required
def consent(subscriber_id: int) -> ResponseReturnValue:
    """Show the printable proof of consent for one address."""
    subscriber = _subscriber(subscriber_id)
    events = services.consent_log(db.session, subscriber)
    versions = sorted({e.consent_text_version for e in events if e.consent_text_version})
    return render_template(
        "subscribers/editor/consent.html",
        subscriber=subscriber,
        events=events,
        sent_times=services.mail_sent_times(db.session, (e.message_id for e in events)),
        publication_names=_publication_names(),
        status_labels=STATUS_LABELS,
        action_labels=CONSENT_ACTION_LABELS,
        channel_labels=CHANNEL_LABELS,
        consent_texts=[(v, services.CONSENT_TEXTS.get(v, "")) for v in versions],
        printed_at=utcnow(),
        printed_by=_actor(),
    )


@bp.route("/<int:subscriber_id>/loeschen", methods=["GET", "POST"])
@admin_required
def erase(subscriber_id: int) -> ResponseReturnValue:
    """Erase a person on request (GDPR Art. 17), after a confirming tick."""
    subscriber = _subscriber(subscriber_id)
    form = EraseForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            services.erase_subscriber(db.session, subscriber, salts=services.current_salts())
            logger.info("subscriber %s erased by %s", subscriber_id, _actor())
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
    body = importing.export_csv(db.session, slug)
    response = Response(body, mimetype="text/csv")
    stamp = utcnow().strftime("%Y-%m-%d")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="abonnenten-{slug}-{stamp}.csv"'
    )
    return response


# ---------------------------------------------------------------- import


def _import(import_id: int) -> SubscriberImport:
    record = db.session.get(SubscriberImport, import_id)
    if record is None:
        abort(404)
    return record


@bp.route("/import", methods=["GET", "POST"])
def import_upload() -> ResponseReturnValue:
    """Upload a list; the file is checked and kept until the editor confirms the import."""
    settings = get_settings()
    form = ImportForm()
    form.publication.choices = publication_choices(settings)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            data = form.file.data.read(MAX_IMPORT_BYTES + 1)
            try:
                plan = importing.plan_import(
                    db.session,
                    data,
                    publication=form.publication.data,
                    salts=services.current_salts(),
                )
            except ImportFileError as exc:
                form.file.errors = [*form.file.errors, str(exc)]
                status = 422
            else:
                record = importing.save_preview(
                    db.session,
                    plan,
                    data,
                    publication=form.publication.data,
                    consent_note=form.consent_note.data or "",
                    actor=_actor(),
                    filename=form.file.data.filename or "liste.csv",
                    now=utcnow(),
                )
                return redirect(
                    url_for("subscribers_editor.import_preview", import_id=record.id), 303
                )
        else:
            status = 422
    return render_template(
        "subscribers/editor/import.html", form=form, max_mb=MAX_IMPORT_BYTES // (1024 * 1024)
    ), status


@bp.route("/import/<int:import_id>", methods=["GET", "POST"])
def import_preview(import_id: int) -> ResponseReturnValue:
    """Preview an uploaded list's report (GET) and import it (POST)."""
    record = _import(import_id)
    if request.method == "POST" and record.status == "preview":
        if not ActionForm().validate_on_submit():
            abort(400)
        assert record.data is not None
        try:
            # Checked again: the list may have changed since the preview.
            plan = importing.plan_import(
                db.session,
                record.data,
                publication=record.publication,
                salts=services.current_salts(),
            )
        except ImportFileError as exc:
            flash(str(exc), "error")
            return redirect(url_for("subscribers_editor.import_upload"), 303)
        result = importing.run_import(
            db.session,
            plan,
            publication=record.publication,
            consent_note=record.consent_note,
            actor=_actor(),
            channel="web",
            filename=record.filename,
            now=utcnow(),
            record=record,
        )
        flash(
            _(
                "Imported %(imported)d, already subscribed %(unchanged)d, "
                "not imported %(rejected)d.",
                imported=result.imported,
                unchanged=result.unchanged,
                rejected=result.rejected,
            ),
            "success",
        )
        return redirect(url_for("subscribers_editor.import_preview", import_id=record.id), 303)
    return render_template(
        "subscribers/editor/import_preview.html",
        record=record,
        lines=record.report[:PREVIEW_LINES],
        publication_names=_publication_names(),
        form=ActionForm(),
    )


@bp.route("/import/<int:import_id>/verwerfen", methods=["POST"])
def import_discard(import_id: int) -> ResponseReturnValue:
    """Drop an uploaded list without importing it."""
    record = _import(import_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if record.status == "preview":
        db.session.delete(record)
        flash(_("The upload has been discarded; nothing was imported."), "info")
    return redirect(url_for("subscribers_editor.import_upload"), 303)


@bp.route("/import/<int:import_id>/bericht.csv")
def import_report(import_id: int) -> ResponseReturnValue:
    """Download an import's report of rows not imported."""
    record = _import(import_id)
    header = (_("Row"), _("Value"), _("Problem"), _("Reason"))
    body = write_export(record.report, header)
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="import-{record.id}-bericht.csv"'
    )
    return response
