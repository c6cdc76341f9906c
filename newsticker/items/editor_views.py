"""The moderation queue of the editor area: review, edit, approve, reject, merge."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from newsticker.auth.services import user_names
from newsticker.config import get_settings
from newsticker.core.access import protect_editor_blueprint
from newsticker.core.db import db
from newsticker.core.site import site_links
from newsticker.core.unit_of_work import rollback
from newsticker.items import services
from newsticker.items.forms import ConfirmForm, ItemEditForm, MergeForm, QueueFilterForm, RejectForm
from newsticker.items.history import history_rows
from newsticker.items.images import upload_dir
from newsticker.items.models import Item, ItemStatus

bp = Blueprint("items_editor", __name__, url_prefix="/redaktion/einreichungen")
protect_editor_blueprint(bp)

PER_PAGE = 50


def _user_id() -> int | None:
    return getattr(current_user, "id", None)


def _item(item_id: int) -> Item:
    item = db.session.get(Item, item_id)
    if item is None:
        abort(404)
    return item


@bp.route("")
def queue() -> ResponseReturnValue:
    """List submissions, newest first, with counts per status and filters."""
    form = QueueFilterForm(formdata=request.args if request.args else None)
    status = 200
    if request.args and not form.validate():
        status = 422
    chosen = form.status.data if "status" in request.args else ItemStatus.SUBMITTED
    filters = services.EditorFilters(
        status=ItemStatus(chosen) if chosen in set(ItemStatus) else None,
        field_of_action=form.field_of_action.data or "",
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_to=form.date_to.data if not form.date_to.errors else None,
        query=form.q.data or "",
    )
    raw_page = request.args.get("seite", "1")
    page = int(raw_page) if raw_page.isdigit() and int(raw_page) > 0 else 1
    items, total = services.editor_items(
        db.session, filters, tz=get_settings().tz, page=page, per_page=PER_PAGE
    )
    counts = services.status_counts(db.session)
    args = {k: v for k, v in request.args.items() if k != "seite"}
    duplicate_ids = {i.duplicate_of_id for i in items if i.duplicate_of_id}
    return (
        render_template(
            "items_editor/queue.html",
            form=form,
            filters=filters,
            items=items,
            total=total,
            counts=counts,
            page=page,
            has_more=page * PER_PAGE < total,
            page_args=args,
            duplicate_ids=duplicate_ids,
        ),
        status,
    )


def _show(item: Item, status: int = 200, **forms: Any) -> ResponseReturnValue:
    duplicate = db.session.get(Item, item.duplicate_of_id) if item.duplicate_of_id else None
    same = services.marked_duplicates(db.session, item)
    merge_form = forms.get("merge_form") or MergeForm()
    if duplicate is not None and merge_form.target.data is None:
        merge_form.target.data = duplicate.id
    return (
        render_template(
            "items_editor/show.html",
            item=item,
            history=history_rows(
                list(item.audit), user_names(db.session, (e.user_id for e in item.audit))
            ),
            duplicate=duplicate,
            duplicates_of_this=same,
            approve_form=ConfirmForm(),
            reject_form=forms.get("reject_form") or RejectForm(),
            merge_form=merge_form,
            now=services.current_time(),
        ),
        status,
    )


@bp.route("/<int:item_id>")
def show(item_id: int) -> ResponseReturnValue:
    """Show one submission with everything it says, its audit trail and the actions."""
    return _show(_item(item_id))


@bp.route("/<int:item_id>/freigeben", methods=["POST"])
def approve(item_id: int) -> ResponseReturnValue:
    """Publish a submission and tell its submitter."""
    item = _item(item_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.approve_item(
            db.session, item, user_id=_user_id(), now=services.current_time(), links=site_links()
        )
    except services.ItemError as exc:
        flash(str(exc.message), "error")
        return _show(item, 409)
    flash(_("“%(title)s” is published.", title=item.title), "success")
    return redirect(url_for("items_editor.queue"), 303)


@bp.route("/<int:item_id>/ablehnen", methods=["POST"])
def reject(item_id: int) -> ResponseReturnValue:
    """Reject a submission with a reason the submitter reads."""
    item = _item(item_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _show(item, 422, reject_form=form)
    try:
        services.reject_item(
            db.session,
            item,
            reason=form.reason.data or "",
            user_id=_user_id(),
            now=services.current_time(),
            links=site_links(),
        )
    except services.ItemError as exc:
        form.reason.errors.append(exc.message)
        return _show(item, 409, reject_form=form)
    flash(
        _("“%(title)s” is rejected; the submitter has been told why.", title=item.title), "success"
    )
    return redirect(url_for("items_editor.queue"), 303)


@bp.route("/<int:item_id>/zusammenfuehren", methods=["POST"])
def merge(item_id: int) -> ResponseReturnValue:
    """Fold a duplicate into the item it repeats."""
    item = _item(item_id)
    form = MergeForm()
    if not form.validate_on_submit():
        return _show(item, 422, merge_form=form)
    target = db.session.get(Item, form.target.data)
    if target is None:
        form.target.errors.append(_("There is no item with this number."))
        return _show(item, 422, merge_form=form)
    try:
        services.merge_item(
            db.session,
            item,
            target,
            user_id=_user_id(),
            now=services.current_time(),
            tz=get_settings().tz,
            links=site_links(),
        )
    except services.ItemError as exc:
        form.target.errors.append(exc.message)
        return _show(item, 409, merge_form=form)
    flash(_("Merged into #%(id)d.", id=target.id), "success")
    return redirect(url_for("items_editor.show", item_id=target.id), 303)


@bp.route("/<int:item_id>/bearbeiten", methods=["GET", "POST"])
def edit(item_id: int) -> ResponseReturnValue:
    """Edit a submission, optionally approving it in the same step."""
    item = _item(item_id)
    settings = get_settings()
    form = ItemEditForm()
    form.tz, form.now = settings.tz, services.current_time()
    form.has_stored_image = bool(item.image_file)
    status = 200
    if request.method == "GET":
        form.fill_from(item, settings.tz)
    elif not form.validate_on_submit():
        status = 422
    else:
        assert form.data_out is not None
        try:
            services.update_item(
                db.session,
                item,
                form.data_out,
                version=form.based_on_version(),
                actor="editor",
                user_id=_user_id(),
                tz=form.tz,
                now=form.now,
                image=form.processed_image,
                remove_image=bool(form.remove_image.data),
                upload_dir=upload_dir(),
            )
        except services.StaleItem as exc:
            # Nothing of this change is kept; show what is stored now.
            rollback(db.session)
            form = ItemEditForm.of_current_state(item, tz=form.tz, now=form.now, error=exc.message)
            return render_template("items_editor/edit.html", form=form, item=item), 409
        if "approve" in request.form and item.status != ItemStatus.APPROVED:
            try:
                services.approve_item(
                    db.session, item, user_id=_user_id(), now=form.now, links=site_links()
                )
            except services.ItemError as exc:
                # The request rolls back: the edit above is not kept either.
                form.form_errors.append(str(exc.message))
                return render_template("items_editor/edit.html", form=form, item=item), 409
            flash(_("“%(title)s” is saved and published.", title=item.title), "success")
            return redirect(url_for("items_editor.queue"), 303)
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("items_editor.show", item_id=item.id), 303)
    return render_template("items_editor/edit.html", form=form, item=item), status
