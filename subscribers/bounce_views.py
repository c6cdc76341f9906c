"""The editors' bounce pages: every run of the bounce mailbox, one run's report, putting back.

Routes on subscribers.editor_pages.bp. A run's report says what it read, who it took off
the list and why (in words editors understand, with the server's own words beside them),
and which messages it quarantined and why. Putting an address back is for admins only;
it writes the consent log and the audit trail (subscribers.services.bounces).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from newsticker.core.access import admin_required
from newsticker.core.audit import Actor
from newsticker.core.db import db, utcnow
from subscribers import services
from subscribers.bounces import REASON_LABELS
from subscribers.editor_pages import bp, subscriber_or_404
from subscribers.editor_show import render_show
from subscribers.forms import ReinstateForm
from subscribers.models import BOUNCE_KIND_LABELS, BounceRun


def run_count_labels() -> dict[str, str]:
    """Return the count names of a run's report in the user's language."""
    labels = {
        "read": _("Messages read"),
        "bounce": _("Bounces"),
        "hard": _("Hard bounces counted"),
        "soft": _("Soft bounces counted"),
        "complaint": _("Spam complaints"),
        "unsubscribe": _("Unsubscribe mails"),
        "delay": _("Delay warnings"),
        "delivered": _("Delivery reports"),
        "auto_reply": _("Auto-replies"),
        "other": _("Other mail, left unread"),
        "unknown": _("About addresses not on the list"),
        "removed": _("Taken off the list"),
        "quarantined": _("Quarantined"),
        "already_counted": _("Counted before (moved only)"),
        "unverified": _("Unsubscribe mails failing DMARC, left unread"),
    }
    return labels


@bp.route("/rueckmeldungen")
def bounce_runs() -> ResponseReturnValue:
    """List the runs of the bounce mailbox, newest first."""
    return render_template(
        "subscribers/editor/bounce_runs.html",
        runs=services.recent_runs(db.session),
        count_labels=run_count_labels(),
    )


@bp.route("/rueckmeldungen/<int:run_id>")
def bounce_run(run_id: int) -> ResponseReturnValue:
    """Show one run: its counts, who it took off the list and why, what it quarantined."""
    run = db.session.get(BounceRun, run_id)
    if run is None:
        abort(404)
    return render_template(
        "subscribers/editor/bounce_run.html",
        run=run,
        removed=services.removed_in_run(db.session, run),
        count_labels=run_count_labels(),
        reason_labels=REASON_LABELS,
        kind_labels=BOUNCE_KIND_LABELS,
    )


@bp.route("/<int:subscriber_id>/wieder-aufnehmen", methods=["POST"])
@admin_required
def reinstate(subscriber_id: int) -> ResponseReturnValue:
    """Put an address that bounces took off wrongly back on its lists."""
    subscriber = subscriber_or_404(subscriber_id)
    form = ReinstateForm()
    if not form.validate_on_submit():
        return render_show(subscriber, 422, reinstate_form=form)
    actor = Actor(
        label=str(getattr(current_user, "email", "") or ""),
        user_id=getattr(current_user, "id", None),
    )
    try:
        publications = services.reinstate_subscriber(
            db.session, subscriber, actor=actor, note=form.reason.data or "", now=utcnow()
        )
    except services.SubscriberError as exc:
        form.reason.errors = [*form.reason.errors, str(exc)]
        return render_show(subscriber, 422, reinstate_form=form)
    flash(
        ngettext(
            "%(email)s is back on %(num)d list; its bounces no longer count.",
            "%(email)s is back on %(num)d lists; its bounces no longer count.",
            len(publications),
            email=subscriber.email,
        ),
        "success",
    )
    return redirect(url_for("subscribers_editor.show", subscriber_id=subscriber.id), 303)
