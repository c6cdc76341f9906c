"""The moderation queue of the editor area: review, edit, approve, reject, merge."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from newsticker.auth.services import user_names
from newsticker.config import get_settings
from newsticker.core.access import admin_required, protect_editor_blueprint, request_actor
from newsticker.core.db import db
from newsticker.core.site import site_links
from newsticker.core.unit_of_work import rollback
from newsticker.items import services
from newsticker.items.forms import (
    BulkForm,
    ConfirmForm,
    ItemEditForm,
    MergeForm,
    QueueFilterForm,
    ReasonForm,
    RejectForm,
    VersionForm,
)
from newsticker.items.history import history_rows
from newsticker.items.images import upload_dir
from newsticker.items.models import Item, ItemKind, ItemStatus, ItemVersion, RejectionReason

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
    return _queue()


def _queue(bulk_form: BulkForm | None = None, status: int = 200) -> ResponseReturnValue:
    form = QueueFilterForm(formdata=request.args if request.args else None)
    if request.args and not form.validate():
        status = 422
    chosen = form.status.data if "status" in request.args else ItemStatus.SUBMITTED
    if form.status.errors:
        chosen = ItemStatus.SUBMITTED
    kind = form.kind.data if not form.kind.errors else ""
    filters = services.EditorFilters(
        status=ItemStatus(chosen) if chosen in set(ItemStatus) else None,
        kind=ItemKind(kind) if kind in set(ItemKind) else None,
        field_of_action=form.field_of_action.data if not form.field_of_action.errors else "",
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
            bulk_form=bulk_form or BulkForm(formdata=None).setup(_reasons()),
            waiting_versions=services.waiting_versions(db.session),
        ),
        status,
    )


def _reasons() -> list[RejectionReason]:
    return services.rejection_reasons(db.session)


@bp.route("/sammelentscheidung", methods=["POST"])
def decide_many() -> ResponseReturnValue:
    """Approve or reject the selected submissions at once (one mail to each submitter)."""
    form = BulkForm().setup(_reasons())
    if not form.validate_on_submit():
        return _queue(form, 422)
    ids = list(dict.fromkeys(form.item.data or []))
    items = [db.session.get(Item, item_id) for item_id in ids]
    missing = [item_id for item_id, item in zip(ids, items, strict=True) if item is None]
    if missing:
        form.item.errors = [_("There is no item with the number %(id)d.", id=missing[0])]
        return _queue(form, 422)
    approve = form.decision.data == "approve"
    try:
        services.decide_many(
            db.session,
            [item for item in items if item is not None],
            approve=approve,
            reason=form.reason_text(),
            actor=request_actor(),
            now=services.current_time(),
            links=site_links(),
        )
    except services.ItemError as exc:
        # Nothing of the batch is kept: the ones decided before the refusal roll back too.
        rollback(db.session)
        form.item.errors = [str(exc.message)]
        return _queue(form, 409)
    if approve:
        message = ngettext(
            "%(num)d submission is published.", "%(num)d submissions are published.", len(ids)
        )
    else:
        message = ngettext(
            "%(num)d submission is rejected; each submitter has been told why.",
            "%(num)d submissions are rejected; each submitter has been told why.",
            len(ids),
        )
    flash(message, "success")
    return redirect(url_for("items_editor.queue"), 303)


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
            reject_form=forms.get("reject_form") or RejectForm().setup(_reasons()),
            merge_form=merge_form,
            one_click_form=ConfirmForm(),
            likely=services.likely_duplicates(db.session, item, tz=get_settings().tz),
            now=services.current_time(),
            version_form=forms.get("version_form") or VersionForm(formdata=None),
            version_forms=_version_forms(item),
        ),
        status,
    )


def _version_forms(item: Item) -> dict[int, VersionForm]:
    """Return a filled form for each stored version (to edit it in place)."""
    found: dict[int, VersionForm] = {}
    for version in item.versions:
        form = VersionForm(formdata=None, prefix=f"v{version.id}")
        form.fill_from(version)
        found[version.id] = form
    return found


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
            db.session,
            item,
            user_id=_user_id(),
            now=services.current_time(),
            links=site_links(),
            actor=request_actor(),
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
    form = RejectForm().setup(_reasons())
    if not form.validate_on_submit():
        return _show(item, 422, reject_form=form)
    try:
        services.reject_item(
            db.session,
            item,
            reason=form.reason_text(),
            user_id=_user_id(),
            now=services.current_time(),
            links=site_links(),
            actor=request_actor(),
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
            actor=request_actor(),
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
                who=request_actor(),
            )
        except services.StaleItem as exc:
            # Nothing of this change is kept; show what is stored now.
            rollback(db.session)
            form = ItemEditForm.of_current_state(item, tz=form.tz, now=form.now, error=exc.message)
            return render_template("items_editor/edit.html", form=form, item=item), 409
        if "approve" in request.form and item.status != ItemStatus.APPROVED:
            try:
                services.approve_item(
                    db.session,
                    item,
                    user_id=_user_id(),
                    now=form.now,
                    links=site_links(),
                    actor=request_actor(),
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


# ---------------------------------------------------------------- texts in other languages


def _version(item: Item, version_id: int) -> ItemVersion:
    version = db.session.get(ItemVersion, version_id)
    if version is None or version.item_id != item.id:
        abort(404)
    return version


@bp.route("/<int:item_id>/fassungen", methods=["POST"])
def save_version(item_id: int) -> ResponseReturnValue:
    """Add or replace the item's text in a language; an editor's text is published at once."""
    item = _item(item_id)
    prefix = request.form.get("prefix", "")
    form = VersionForm(prefix=prefix if prefix.startswith("v") and prefix[1:].isdigit() else "")
    data = form.check(item.content_language) if form.validate_on_submit() else None
    if data is None:
        return _show(item, 422, version_form=form)
    services.propose_version(db.session, item, data, source="editor", user=current_user)
    flash(_("The text in this language is saved and shown."), "success")
    return redirect(url_for("items_editor.show", item_id=item.id, _anchor="versions"), 303)


@bp.route(
    "/<int:item_id>/fassungen/<int:version_id>/<any(freigeben, ablehnen, loeschen):action>",
    methods=["POST"],
)
def decide_version(item_id: int, version_id: int, action: str) -> ResponseReturnValue:
    """Publish, turn down or remove one of the item's texts in another language."""
    item = _item(item_id)
    version = _version(item, version_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if action == "freigeben":
        services.approve_version(db.session, version, user=current_user)
        flash(_("The text in this language is published."), "success")
    elif action == "ablehnen":
        services.reject_version(db.session, version, user=current_user)
        flash(_("The text in this language is turned down; it is not shown."), "success")
    else:
        services.delete_version(db.session, version, user=current_user)
        flash(_("The text in this language is removed."), "success")
    return redirect(url_for("items_editor.show", item_id=item.id, _anchor="versions"), 303)


# ---------------------------------------------------------------- rejection reasons (admins)


def _reason(reason_id: int) -> RejectionReason:
    reason = services.get_reason(db.session, reason_id)
    if reason is None:
        abort(404)
    return reason


def _reasons_page(form: ReasonForm | None = None, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "items_editor/reasons.html",
            reasons=_reasons(),
            form=form or ReasonForm(formdata=None),
            delete_form=ConfirmForm(),
        ),
        status,
    )


@bp.route("/ablehnungsgruende", methods=["GET", "POST"])
@admin_required
def reasons() -> ResponseReturnValue:
    """List the kept rejection reasons and add one."""
    if request.method == "GET":
        return _reasons_page()
    form = ReasonForm()
    if not form.validate_on_submit():
        return _reasons_page(form, 422)
    try:
        services.save_reason(
            db.session,
            None,
            label=form.label.data or "",
            text=form.text.data or "",
            actor=request_actor(),
            now=services.current_time(),
        )
    except services.ItemError as exc:
        form.label.errors = [*form.label.errors, str(exc.message)]
        return _reasons_page(form, 422)
    flash(_("The reason “%(label)s” is added.", label=form.label.data), "success")
    return redirect(url_for("items_editor.reasons"), 303)


@bp.route("/ablehnungsgruende/<int:reason_id>", methods=["GET", "POST"])
@admin_required
def edit_reason(reason_id: int) -> ResponseReturnValue:
    """Change a kept rejection reason."""
    reason = _reason(reason_id)
    form = ReasonForm(obj=reason) if request.method == "GET" else ReasonForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.save_reason(
                    db.session,
                    reason,
                    label=form.label.data or "",
                    text=form.text.data or "",
                    actor=request_actor(),
                    now=services.current_time(),
                )
            except services.ItemError as exc:
                rollback(db.session)
                form.label.errors = [*form.label.errors, str(exc.message)]
                status = 422
            else:
                flash(_("Your changes have been saved."), "success")
                return redirect(url_for("items_editor.reasons"), 303)
        else:
            status = 422
    return render_template("items_editor/reason_edit.html", form=form, reason=reason), status


@bp.route("/ablehnungsgruende/<int:reason_id>/loeschen", methods=["POST"])
@admin_required
def delete_reason(reason_id: int) -> ResponseReturnValue:
    """Delete a kept rejection reason (rejections that used it keep their text)."""
    reason = _reason(reason_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    label = reason.label
    services.delete_reason(db.session, reason, actor=request_actor(), now=services.current_time())
    flash(_("The reason “%(label)s” is deleted.", label=label), "success")
    return redirect(url_for("items_editor.reasons"), 303)
