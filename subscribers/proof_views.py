"""The printable proof of one double opt-in, and the same proof as one file to download.

Routes on subscribers.editor_pages.bp, for admins. The proof shows the consent text in
the language the person saw it in, the confirmation mail as it was sent (headers and
text, with the SHA-256 of its bytes), the request and the confirmation with their times
and IP addresses. The download is a ZIP holding `confirmation.eml`, the mail byte for
byte as the sender handed it to the relay, and `proof.html`, the same readable summary
as the page, self-contained: the original stays untouched beside the summary (an .eml
with the original attached would re-encode it), and both open anywhere without a mail
program.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from typing import Any

from babel import Locale, UnknownLocaleError
from flask import abort, render_template
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, get_locale
from werkzeug.wrappers import Response

from newsticker.config import get_settings
from newsticker.core.access import admin_required
from newsticker.core.db import db, utcnow
from subscribers import services
from subscribers.editor_pages import actor, bp, publication_names, subscriber_or_404
from subscribers.models import CHANNEL_LABELS, ConsentProof, Subscriber


def _proof_or_404(subscriber: Subscriber, proof_id: int) -> ConsentProof:
    proof = services.get_proof(db.session, subscriber, proof_id)
    if proof is None:
        abort(404)
    return proof


def language_name(code: str) -> str:
    """Return a language's name in the page's language ("Deutsch", "German")."""
    if not code:
        return ""
    try:
        name = Locale.parse(code).get_display_name(str(get_locale() or "de"))
    except (UnknownLocaleError, ValueError):
        return code
    return name or code


def consent_text(version: str, language: str) -> str:
    """Return a consent text as the person saw it: its version, in their page's language."""
    text = services.CONSENT_TEXTS.get(version)
    if text is None:
        return ""
    if not language:
        return str(text)
    with force_locale(language):
        return str(text)


def _context(subscriber: Subscriber, proof: ConsentProof) -> dict[str, Any]:
    return {
        "subscriber": subscriber,
        "proof": proof,
        "mail": services.read_proof_mail(proof),
        "consent_text": consent_text(proof.consent_text_version, proof.consent_language),
        "consent_language_name": language_name(proof.consent_language),
        "publication_names": publication_names(),
        "channel_labels": CHANNEL_LABELS,
        "ended_at": services.proof_ended_at(db.session, proof),
        "retention_years": get_settings().retention.consent_proof_years,
        "printed_at": utcnow(),
        "printed_by": actor(),
    }


@bp.route("/<int:subscriber_id>/einwilligung/<int:proof_id>")
@admin_required
def proof(subscriber_id: int, proof_id: int) -> ResponseReturnValue:
    """Show the printable proof of one double opt-in."""
    subscriber = subscriber_or_404(subscriber_id)
    return render_template(
        "subscribers/editor/proof.html", **_context(subscriber, _proof_or_404(subscriber, proof_id))
    )


@bp.route("/<int:subscriber_id>/einwilligung/<int:proof_id>.zip")
@admin_required
def proof_download(subscriber_id: int, proof_id: int) -> ResponseReturnValue:
    """Download the proof as one file: the confirmation mail as sent and the summary."""
    subscriber = subscriber_or_404(subscriber_id)
    proof = _proof_or_404(subscriber, proof_id)
    summary = render_template("subscribers/editor/proof_file.html", **_context(subscriber, proof))
    stamp = proof.confirmed_at or proof.requested_at
    body = proof_archive(bytes(proof.raw_message), summary, stamp)
    response = Response(body, mimetype="application/zip")
    name = f"einwilligung-{subscriber.id}-{proof.id}.zip"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def proof_archive(raw: bytes, summary_html: str, stamp: datetime) -> bytes:
    """Return the ZIP of a proof: confirmation.eml (as sent) and proof.html (the summary)."""
    when = stamp.utctimetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("confirmation.eml", date_time=when), raw)
        archive.writestr(
            zipfile.ZipInfo("proof.html", date_time=when), summary_html.encode("utf-8")
        )
    return buffer.getvalue()
