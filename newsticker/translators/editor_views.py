"""The editors' pages of translators: the list they keep, asking for a translation.

Reached from the moderation area (the queue and each item's page), not from the main
menu: asking for a translation is part of reviewing an item.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from newsticker.auth.models import User
from newsticker.config import get_settings
from newsticker.core.access import protect_editor_blueprint, request_actor
from newsticker.core.db import db, utcnow
from newsticker.core.site import site_links
from newsticker.core.unit_of_work import rollback
from newsticker.issues.models import IssueEntry
from newsticker.items.models import Item, VersionStatus
from newsticker.translators import services
from newsticker.translators.forms import ConfirmForm, RequestForm, ReviewForm, TranslatorForm
from newsticker.translators.models import (
    STATUS_LABELS,
    RequestStatus,
    TranslationRequest,
    Translator,
)

bp = Blueprint("translators_editor", __name__, url_prefix="/redaktion/uebersetzungen")
protect_editor_blueprint(bp)


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {"translation_status_labels": STATUS_LABELS}


def _translator(translator_id: int) -> Translator:
    translator = db.session.get(Translator, translator_id)
    if translator is None:
        abort(404)
    return translator


@bp.route("")
def index() -> ResponseReturnValue:
    """List the translators and the latest requests."""
    return render_template(
        "translators_editor/index.html",
        translators=services.list_translators(db.session),
        requests=services.recent_requests(db.session),
        confirm_form=ConfirmForm(),
        today=utcnow().astimezone(get_settings().tz).date(),
    )


def _data(form: TranslatorForm) -> services.TranslatorData:
    return services.TranslatorData(
        name=form.name.data or "",
        email=form.email.data or "",
        languages=list(form.languages.data or []),
        mail_language=form.mail_language.data or "de",
        active=bool(form.active.data),
        note=form.note.data or "",
    )


def _edit(translator: Translator | None) -> ResponseReturnValue:
    form = TranslatorForm().setup()
    if request.method == "GET":
        if translator is not None:
            form.fill_from(translator)
        return render_template(
            "translators_editor/translator.html", form=form, translator=translator
        )
    if form.validate_on_submit():
        try:
            saved = services.save_translator(
                db.session, translator, _data(form), actor=request_actor(), now=utcnow()
            )
        except services.TranslatorError as exc:
            rollback(db.session)
            form.email.errors = [*form.email.errors, str(exc.message)]
        else:
            flash(_("“%(name)s” is saved.", name=saved.name), "success")
            return redirect(url_for("translators_editor.index"), 303)
    page = render_template("translators_editor/translator.html", form=form, translator=translator)
    return page, 422


@bp.route("/neu", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    """Add a translator."""
    return _edit(None)


@bp.route("/<int:translator_id>", methods=["GET", "POST"])
def edit(translator_id: int) -> ResponseReturnValue:
    """Change a translator (or deactivate them with the checkbox)."""
    return _edit(_translator(translator_id))


@bp.route("/<int:translator_id>/aktiv", methods=["POST"])
def toggle(translator_id: int) -> ResponseReturnValue:
    """Offer a translator for new requests again, or no longer."""
    translator = _translator(translator_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.set_active(
        db.session, translator, not translator.active, actor=request_actor(), now=utcnow()
    )
    if translator.active:
        flash(_("“%(name)s” is active again.", name=translator.name), "success")
    else:
        flash(_("“%(name)s” is no longer offered for requests.", name=translator.name), "success")
    return redirect(url_for("translators_editor.index"), 303)


@bp.route("/eintrag/<int:item_id>/anfragen", methods=["GET", "POST"])
def ask(item_id: int) -> ResponseReturnValue:
    """Ask a translator for a version of an item."""
    item = db.session.get(Item, item_id)
    if item is None:
        abort(404)
    return _ask(item=item, back_url=url_for("items_editor.show", item_id=item.id), title=item.title)


@bp.route("/artikel/<int:entry_id>/anfragen", methods=["GET", "POST"])
def ask_article(entry_id: int) -> ResponseReturnValue:
    """Ask a translator for a version of an article of a draft issue."""
    entry = db.session.get(IssueEntry, entry_id)
    if entry is None or not entry.is_article:
        abort(404)
    return _ask(
        entry=entry,
        back_url=url_for("issues_editor.compose", issue_id=entry.issue_id),
        title=entry.title,
    )


def _ask(
    *, back_url: str, title: str, item: Item | None = None, entry: IssueEntry | None = None
) -> ResponseReturnValue:
    original = item.content_language if item is not None else entry.language if entry else ""
    offers = services.language_offers(db.session, original)
    form = RequestForm().setup(offers)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            language, translator_id = form.chosen()
            try:
                services.ask_for_translation(
                    db.session,
                    item=item,
                    entry=entry,
                    language=language,
                    translator=_translator(translator_id),
                    note=form.note.data or "",
                    due_on=form.due_on.data,
                    actor=request_actor(),
                    now=utcnow(),
                    link_days=get_settings().translators.link_days,
                    links=site_links(),
                )
            except services.TranslatorError as exc:
                rollback(db.session)
                form.whom.errors = [*form.whom.errors, str(exc.message)]
            else:
                flash(_("The translator has been asked by mail."), "success")
                return redirect(back_url, 303)
        status = 422
    return (
        render_template(
            "translators_editor/ask.html",
            form=form,
            title=title,
            source_language=original,
            back_url=back_url,
            offers=offers,
            requests=services.requests_for(db.session, item=item, entry=entry),
            confirm_form=ConfirmForm(),
        ),
        status,
    )


def _request(request_id: int) -> TranslationRequest:
    ask_ = db.session.get(TranslationRequest, request_id)
    if ask_ is None:
        abort(404)
    return ask_


def _review(
    ask_: TranslationRequest, reject_form: ReviewForm | None = None, status: int = 200
) -> ResponseReturnValue:
    version = services.translation_of(db.session, ask_)
    return (
        render_template(
            "translators_editor/review.html",
            ask=ask_,
            original=ask_.original,
            version=version,
            pending=ask_.status == RequestStatus.SUBMITTED
            and version is not None
            and version.status == VersionStatus.SUBMITTED,
            confirm_form=ConfirmForm(),
            reject_form=reject_form or ReviewForm(formdata=None),
        ),
        status,
    )


@bp.route("/anfragen/<int:request_id>")
def review(request_id: int) -> ResponseReturnValue:
    """Show a request: the original and the translation side by side, and the decision."""
    return _review(_request(request_id))


@bp.route("/anfragen/<int:request_id>/freigeben", methods=["POST"])
def approve(request_id: int) -> ResponseReturnValue:
    """Publish the translation: the item shows it in that language from now on."""
    ask_ = _request(request_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.review_translation(
            db.session, ask_, approve=True, user=_current_user(), now=utcnow()
        )
    except services.TranslatorError as exc:
        flash(str(exc.message), "error")
        return _review(ask_, status=409)
    flash(_("The translation is published."), "success")
    return redirect(url_for("translators_editor.review", request_id=ask_.id), 303)


@bp.route("/anfragen/<int:request_id>/ablehnen", methods=["POST"])
def reject(request_id: int) -> ResponseReturnValue:
    """Turn the translation down; it is kept for the trail but never shown."""
    ask_ = _request(request_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _review(ask_, form, 422)
    try:
        services.review_translation(
            db.session,
            ask_,
            approve=False,
            user=_current_user(),
            reason=form.reason.data or "",
            now=utcnow(),
        )
    except services.TranslatorError as exc:
        flash(str(exc.message), "error")
        return _review(ask_, form, 409)
    flash(_("The translation is rejected."), "success")
    return redirect(url_for("translators_editor.review", request_id=ask_.id), 303)


def _current_user() -> User | None:
    user_id = getattr(current_user, "id", None)
    return db.session.get(User, user_id) if user_id is not None else None


@bp.route("/anfragen/<int:request_id>/zurueckziehen", methods=["POST"])
def withdraw(request_id: int) -> ResponseReturnValue:
    """Take back a request the translator has not answered."""
    ask_ = _request(request_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.withdraw_request(db.session, ask_, actor=request_actor(), now=utcnow())
    except services.TranslatorError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("translators_editor.index"), 303)
    flash(_("The request is withdrawn; its link no longer works."), "success")
    return redirect(url_for("translators_editor.index"), 303)


@bp.app_template_global("translation_requests_of")
def _requests_of(item: Item) -> list[TranslationRequest]:
    # The item's page in moderation belongs to the items package; it includes
    # translators_editor/_item_section.html, which asks for the requests through this.
    return services.requests_for(db.session, item=item)


@bp.app_template_global("article_translation_requests_of")
def _article_requests_of(entry: IssueEntry) -> list[TranslationRequest]:
    # The same for an article in the composer (issues_editor/compose.html).
    return services.requests_for(db.session, entry=entry)


@bp.app_template_global("translation_confirm_form")
def _confirm_form() -> ConfirmForm:
    return ConfirmForm()
