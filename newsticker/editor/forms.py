"""The audit trail's filter form (GET, no CSRF): actor, action, a range of days."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from newsticker.core.i18n import lazy_gettext as _l

# What the trail's actions are called on the page; an action without a label shows as is.
ACTION_LABELS: dict[str, Any] = {
    "item.": _l("Every action on submissions"),
    "item.approved": _l("Submission approved"),
    "item.rejected": _l("Submission rejected"),
    "item.merged": _l("Submission merged"),
    "item.edited": _l("Submission edited"),
    "issue.": _l("Every action on issues"),
    "issue.edited": _l("Issue edited"),
    "issue.scheduled": _l("Issue scheduled"),
    "issue.unscheduled": _l("Issue taken back to draft"),
    "issue.cancelled": _l("Issue cancelled"),
    "issue.restored": _l("Issue restored"),
    "delivery.": _l("Every action on sends"),
    "delivery.started": _l("Send started"),
    "delivery.paused": _l("Send paused"),
    "delivery.resumed": _l("Send resumed"),
    "delivery.cancelled": _l("Send cancelled"),
    "subscriber.": _l("Every action on subscribers"),
    "subscriber.imported": _l("Subscribers imported"),
    "subscriber.exported": _l("Subscribers exported"),
    "subscriber.erased": _l("Subscriber erased"),
    "subscriber.reinstated": _l("Subscriber put back after bounces"),
    "reason.": _l("Every change of rejection reasons"),
    "reason.added": _l("Rejection reason added"),
    "reason.changed": _l("Rejection reason changed"),
    "reason.deleted": _l("Rejection reason deleted"),
    "translation.": _l("Every step of translation requests"),
    "translation.requested": _l("Translation requested"),
    "translation.submitted": _l("Translation sent by the translator"),
    "translation.declined": _l("Translation declined by the translator"),
    "translation.published": _l("Translation published"),
    "translator.": _l("Every change of the translators"),
    "audit.exported": _l("Audit trail exported"),
    "auth.": _l("Every login and account action"),
}


class AuditFilterForm(FlaskForm):
    """Filters of the audit trail."""

    class Meta:
        csrf = False

    actor = StringField(
        _l("Who (address or account number)"),
        validators=[
            Optional(),
            Length(max=320, message=_l("Please use at most %(max)d characters.")),
        ],
    )
    action = SelectField(_l("Action"), choices=[], default="")
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def setup(self, actions: Sequence[str]) -> AuditFilterForm:
        """Offer the areas and the actions the trail holds; return the form."""
        offered = dict.fromkeys([*ACTION_LABELS, *actions])
        self.action.choices = [SelectChoice("", _l("all"))] + [
            SelectChoice(action, ACTION_LABELS.get(action, action)) for action in offered
        ]
        return self

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the filters; give nonsense a message of ours."""
        valid = bool(super().validate(extra_validators))
        if self.action.errors:
            self.action.errors = [
                _l("“%(value)s” is not one of the choices.", value=self.action.data)
            ]
        for day in (self.date_from, self.date_to):
            if day.errors:
                typed = " ".join(day.raw_data or [])[:40]
                day.errors = [
                    _l(
                        "“%(value)s” is not a date. Please write dates like 24.12.2027.",
                        value=typed,
                    )
                ]
        if (
            valid
            and self.date_from.data is not None
            and self.date_to.data is not None
            and self.date_from.data > self.date_to.data
        ):
            self.date_to.errors = [_l("The end of the range is before its start.")]
            valid = False
        return valid
