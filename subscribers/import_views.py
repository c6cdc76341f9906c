"""The editors' import pages: upload a list, check its report, import or discard it.

Routes on subscribers.editor_pages.bp. An upload is checked at once and kept (with its
report) until an editor confirms; it is checked again on import, since the list may have
changed in between.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from newsticker.core.access import request_actor
from newsticker.core.db import db, utcnow
from newsticker.core.i18n import LANGUAGES
from newsticker.core.site import app_settings
from subscribers import importing
from subscribers.csvio import MAX_IMPORT_BYTES, ImportFileError, write_export
from subscribers.editor_pages import actor, bp, publication_names
from subscribers.forms import ActionForm, ImportForm, publication_choices
from subscribers.models import ImportStatus, SubscriberImport
from subscribers.site import site_salts

PREVIEW_LINES = 200


def _import(import_id: int) -> SubscriberImport:
    record = importing.get_import(db.session, import_id)
    if record is None:
        abort(404)
    return record


@bp.route("/import", methods=["GET", "POST"])
def import_upload() -> ResponseReturnValue:
    """Upload a list; the file is checked and kept until the editor confirms the import."""
    form = ImportForm()
    form.publication.choices = publication_choices(app_settings())
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            data = form.file.data.read(MAX_IMPORT_BYTES + 1)
            try:
                plan = importing.plan_import(
                    db.session, data, publication=form.publication.data, salts=site_salts()
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
                    actor=actor(),
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
    if request.method == "POST" and record.status == ImportStatus.PREVIEW:
        if not ActionForm().validate_on_submit():
            abort(400)
        assert record.data is not None
        try:
            # Checked again: the list may have changed since the preview.
            plan = importing.plan_import(
                db.session, record.data, publication=record.publication, salts=site_salts()
            )
        except ImportFileError as exc:
            flash(str(exc), "error")
            return redirect(url_for("subscribers_editor.import_upload"), 303)
        result = importing.run_import(
            db.session,
            plan,
            publication=record.publication,
            consent_note=record.consent_note,
            actor=actor(),
            channel="web",
            filename=record.filename,
            now=utcnow(),
            record=record,
            who=request_actor(),
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
    accepted: list[Any] = []
    if record.status == ImportStatus.PREVIEW and record.data is not None:
        with suppress(ImportFileError):
            # The same check the import runs, so the list shows what a click imports now.
            accepted = importing.plan_import(
                db.session, record.data, publication=record.publication, salts=site_salts()
            ).accepted[:PREVIEW_LINES]
    return render_template(
        "subscribers/editor/import_preview.html",
        record=record,
        accepted=accepted,
        languages=LANGUAGES,
        lines=record.report[:PREVIEW_LINES],
        publication_names=publication_names(),
        form=ActionForm(),
    )


@bp.route("/import/<int:import_id>/verwerfen", methods=["POST"])
def import_discard(import_id: int) -> ResponseReturnValue:
    """Drop an uploaded list without importing it."""
    record = _import(import_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if importing.discard_preview(db.session, record):
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
