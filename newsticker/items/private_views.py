"""The submitter's private pages: see, change or withdraw a submission through its link.

The link's token is the only key (no account), so these pages never send it on
(no referrer), are never indexed, and answer an unknown link with 404 and an
expired one with 410.
"""

from __future__ import annotations

import re

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import Gone, HTTPException, NotFound
from werkzeug.wrappers import Response

from newsticker.config import get_settings
from newsticker.core.db import db
from newsticker.core.extensions import limiter
from newsticker.core.unit_of_work import rollback
from newsticker.items import services
from newsticker.items.blueprint import bp
from newsticker.items.forms import ConfirmForm, ItemEditForm, VersionForm
from newsticker.items.images import upload_dir
from newsticker.items.models import Item

_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,100}")


class LinkInvalid(NotFound):
    """A private link that matches no submission."""


class LinkExpired(Gone):
    """A private link past its end."""


@bp.errorhandler(LinkInvalid)
def _link_invalid(_exc: HTTPException) -> ResponseReturnValue:
    return render_template("items/link_invalid.html", code=404), 404


@bp.errorhandler(LinkExpired)
def _link_expired(_exc: HTTPException) -> ResponseReturnValue:
    return render_template("items/link_expired.html", code=410), 410


def _private_item(token: str) -> Item:
    """Return the item of a private link, or answer 404 (unknown) or 410 (expired)."""
    g.private_page = True
    item = services.find_by_token(db.session, token) if _TOKEN_RE.fullmatch(token) else None
    if item is None:
        raise LinkInvalid()
    if services.token_expires_at(item) < services.current_time():
        raise LinkExpired()
    return item


def _private_headers(response: Response) -> Response:
    # The token is in the URL: never send it on to another site.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _token_limit() -> str:
    return get_settings().rate_limits.token_pages_per_ip


@bp.route("/einreichung/<token>")
@limiter.limit(_token_limit)
def private(token: str) -> ResponseReturnValue:
    """Show a submission to its submitter, with edit and withdraw while it is pending."""
    item = _private_item(token)
    return _private_page(item, token)


def _private_page(
    item: Item, token: str, version_form: VersionForm | None = None, status: int = 200
) -> Response:
    body = render_template(
        "items/private.html",
        item=item,
        token=token,
        may_edit=services.submitter_may_edit(item),
        may_add_version=item.status in services.LIVE_STATUSES,
        withdraw_form=ConfirmForm(),
        version_form=version_form or VersionForm(formdata=None),
        expires_at=services.token_expires_at(item),
    )
    return _private_headers(make_response(body, status))


@bp.route("/einreichung/<token>/sprachfassung", methods=["POST"])
@limiter.limit(_token_limit)
def private_version(token: str) -> ResponseReturnValue:
    """Add the submission's text in another language; the editors review it."""
    item = _private_item(token)
    form = VersionForm()
    data = form.check(item.content_language) if form.validate_on_submit() else None
    if data is None:
        return _private_page(item, token, form, 422)
    try:
        services.propose_version(db.session, item, data, source="submitter")
    except services.ItemError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("items.private", token=token), 303)
    flash(
        _("Thank you! The editors check your text in this language before it is shown."),
        "success",
    )
    return redirect(url_for("items.private", token=token), 303)


def _prepare(form: ItemEditForm) -> None:
    form.tz = get_settings().tz
    form.now = services.current_time()


def _reviewed(token: str) -> ResponseReturnValue:
    flash(
        _("This submission has already been reviewed, so it can no longer be changed here."),
        "info",
    )
    return redirect(url_for("items.private", token=token), 303)


@bp.route("/einreichung/<token>/bearbeiten", methods=["GET", "POST"])
@limiter.limit(_token_limit)
def private_edit(token: str) -> ResponseReturnValue:
    """Let the submitter change a submission that is not reviewed yet."""
    item = _private_item(token)
    if not services.submitter_may_edit(item):
        return _reviewed(token)
    form = ItemEditForm()
    _prepare(form)
    form.has_stored_image = bool(item.image_file)
    status = 200
    if request.method == "GET":
        form.fill_from(item, form.tz)
    elif form.validate_on_submit():
        assert form.data_out is not None
        try:
            services.update_item(
                db.session,
                item,
                form.data_out,
                version=form.based_on_version(),
                actor="submitter",
                tz=form.tz,
                now=form.now,
                image=form.processed_image,
                remove_image=bool(form.remove_image.data),
                upload_dir=upload_dir(),
            )
        except services.StaleItem as exc:
            # Nothing of this change is kept; show what is stored now.
            rollback(db.session)
            if not services.submitter_may_edit(item):
                return _reviewed(token)
            form = ItemEditForm.of_current_state(item, tz=form.tz, now=form.now, error=exc.message)
            status = 409
        else:
            flash(_("Your changes have been saved."), "success")
            return redirect(url_for("items.private", token=token), 303)
    else:
        status = 422
    body = render_template("items/private_edit.html", form=form, item=item, token=token)
    return _private_headers(make_response(body, status))


@bp.route("/einreichung/<token>/zurueckziehen", methods=["POST"])
@limiter.limit(_token_limit)
def withdraw(token: str) -> ResponseReturnValue:
    """Withdraw a submission that is not reviewed yet."""
    item = _private_item(token)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.withdraw_item(db.session, item, now=services.current_time())
    except services.ItemError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("items.private", token=token), 303)
    flash(_("Your submission has been withdrawn. It will not be published."), "success")
    return redirect(url_for("items.private", token=token), 303)
