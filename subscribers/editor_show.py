"""The editors' page of one subscriber: subscriptions, bounce history, actions.

Rendered by several routes (showing, and every action that answers with the page and
its form errors), so it lives apart from them.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue

from newsticker.core.db import db
from subscribers import services
from subscribers.bounces import REASON_LABELS
from subscribers.editor_pages import publication_names
from subscribers.forms import ActionForm, BlockForm, ReinstateForm
from subscribers.models import BOUNCE_KIND_LABELS, STATUS_LABELS, Subscriber, SubscriptionStatus


def render_show(subscriber: Subscriber, status: int = 200, **forms: Any) -> ResponseReturnValue:
    """Render the page of one subscriber, with the forms given (and their errors)."""
    return (
        render_template(
            "subscribers/editor/show.html",
            subscriber=subscriber,
            publication_names=publication_names(),
            status_labels=STATUS_LABELS,
            bounces=services.bounce_history(db.session, subscriber),
            reason_labels=REASON_LABELS,
            kind_labels=BOUNCE_KIND_LABELS,
            can_reinstate=any(
                s.status == SubscriptionStatus.BOUNCED for s in subscriber.subscriptions
            ),
            action_form=forms.get("action_form") or ActionForm(),
            block_form=forms.get("block_form") or BlockForm(),
            reinstate_form=forms.get("reinstate_form") or ReinstateForm(),
        ),
        status,
    )
