"""Forms of the moderation queue: reject with a reason, decide several, merge, filter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from newsticker.core.i18n import lazy_gettext as _l
from newsticker.items.forms.fields import PlainText, SingleLine, choices, clean_text, strip_space
from newsticker.items.models import FIELDS_OF_ACTION, KIND_LABELS, STATUS_LABELS, RejectionReason

NO_REASON = _l("Please give a reason; the submitter will read it.")


class RejectForm(FlaskForm):
    """The reason for a rejection, sent to the submitter: a kept one, one's own, or both.

    With both, the kept reason's text comes first and the own words follow it.
    """

    reason_choice = SelectField(_l("Kept reason"), choices=[], validate_choice=False)
    reason = TextAreaField(
        _l("Reason for the submitter"),
        validators=[
            Length(max=2000, message=_l("Please use at most %(max)d characters.")),
            PlainText(),
        ],
        filters=[clean_text],
        render_kw={"rows": 4},
    )

    def setup(self, reasons: Sequence[RejectionReason]) -> RejectForm:
        """Offer the kept reasons; return the form."""
        self.kept = {str(reason.id): reason for reason in reasons}
        self.reason_choice.choices = choices(
            [
                ("", _l("None: I write my own")),
                *((key, reason.label) for key, reason in self.kept.items()),
            ]
        )
        return self

    def needs_reason(self) -> bool:
        """Return whether this submission must carry a reason (a rejection does)."""
        return True

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the fields, then that a reason is given and a chosen one exists."""
        valid = bool(super().validate(extra_validators))
        if not hasattr(self, "kept"):
            self.setup([])
        chosen = self.reason_choice.data or ""
        if chosen and chosen not in self.kept:
            self.reason_choice.errors = [
                *self.reason_choice.errors,
                _l("This reason does not exist (any more). Please choose one from the list."),
            ]
            return False
        if self.needs_reason() and not chosen and not (self.reason.data or "").strip():
            self.reason.errors = [*self.reason.errors, NO_REASON]
            return False
        return valid

    def reason_text(self) -> str:
        """Return what the submitter reads: the kept reason's text, then one's own words."""
        chosen = self.kept.get(self.reason_choice.data or "") if hasattr(self, "kept") else None
        parts = [chosen.text if chosen is not None else "", self.reason.data or ""]
        return "\n\n".join(part.strip() for part in parts if part.strip())


class BulkForm(RejectForm):
    """Several submissions of the queue, approved or rejected at once."""

    item = SelectMultipleField(_l("Selected submissions"), coerce=int, validate_choice=False)
    decision = SelectField(
        _l("Decision"),
        choices=choices([("approve", _l("Approve")), ("reject", _l("Reject"))]),
        validators=[DataRequired(_l("Please choose whether to approve or reject."))],
    )

    def needs_reason(self) -> bool:
        """Return whether the decision is a rejection (which needs a reason)."""
        return bool(self.decision.data == "reject")

    def validate(self, extra_validators: Any = None) -> bool:
        """Also refuse an empty selection."""
        valid = bool(super().validate(extra_validators))
        if not self.item.errors and not self.item.data:
            self.item.errors = [_l("Please select at least one submission.")]
            return False
        return valid


class ReasonForm(FlaskForm):
    """A rejection reason the admins keep: its name in the list and its text."""

    label = StringField(
        _l("Name in the list"),
        validators=[
            DataRequired(_l("Please give the reason a name.")),
            Length(max=100, message=_l("Please use at most %(max)d characters.")),
            SingleLine(),
        ],
        filters=[strip_space],
    )
    text = TextAreaField(
        _l("Text the submitter reads"),
        validators=[
            DataRequired(_l("Please write the text the submitter reads.")),
            Length(max=2000, message=_l("Please use at most %(max)d characters.")),
            PlainText(),
        ],
        filters=[clean_text],
        render_kw={"rows": 4},
    )


class MergeForm(FlaskForm):
    """The item a duplicate is folded into."""

    target = IntegerField(
        _l("Number of the item to keep"),
        validators=[InputRequired(_l("Please enter the number of the item to keep."))],
    )


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (approve, withdraw)."""


class QueueFilterForm(FlaskForm):
    """Filters of the moderation queue (GET, no CSRF)."""

    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        choices=choices([("", _l("all")), *STATUS_LABELS.items()]),
        default="submitted",
    )
    kind = SelectField(
        _l("Type"),
        choices=choices([("", _l("all")), *KIND_LABELS.items()]),
        default="",
    )
    field_of_action = SelectField(
        _l("Field of action"),
        choices=choices([("", _l("all")), *FIELDS_OF_ACTION.items()]),
        default="",
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    q = StringField(_l("Search"), validators=[Optional(), Length(max=200)], filters=[strip_space])

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the filters; a value no list offers gets a message of ours."""
        valid = bool(super().validate(extra_validators))
        for select in (self.status, self.kind, self.field_of_action):
            if select.errors:
                select.errors = [_l("“%(value)s” is not one of the choices.", value=select.data)]
        for day in (self.date_from, self.date_to):
            if day.errors:
                typed = " ".join(day.raw_data or [])[:40]
                day.errors = [
                    _l(
                        "“%(value)s” is not a date. Please write dates like 24.12.2027.",
                        value=typed,
                    )
                ]
        return valid
