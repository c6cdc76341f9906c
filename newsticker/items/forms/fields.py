"""Field classes, filters and validators the item forms share.

Text is cleaned on the way in (`clean_text`): surrounding space and any HTML tags go,
since items are stored as plain text and shown escaped. Validators refuse what could
break a mail header or a page (line breaks in one-line fields, control characters,
links that are not http(s)).
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

import nh3
from flask_wtf import FlaskForm
from wtforms import Field, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from newsticker.core.addresses import InvalidAddress, normalise_address
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.markup import has_control_chars

_TAG_LIKE = re.compile(r"<[A-Za-z!/?]")


def choices(pairs: Any) -> list[SelectChoice]:
    """Return (value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def clean_text(value: Any) -> str:
    """Strip surrounding space and any HTML tags (stored as text, shown escaped)."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    if _TAG_LIKE.search(text):
        text = html.unescape(nh3.clean(text, tags=set())).strip()
        # Unescaping can rebuild a tag-like start from pieces the cleaner left as text
        # ("<<?>?" becomes "<?"): drop such "<" so nothing stored looks like markup.
        while _TAG_LIKE.search(text):
            text = _TAG_LIKE.sub(lambda match: match.group(0)[1:], text)
    return text


def strip_space(value: Any) -> Any:
    """Strip surrounding space from a string (a filter; other values pass unchanged)."""
    return value.strip() if isinstance(value, str) else value


class SingleLine:
    """Refuse line breaks and control characters (the value may reach a mail header)."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data and has_control_chars(str(field.data)):
            raise ValidationError(
                _l("Please write this on one line, without line breaks or control characters.")
            )


class PlainText:
    """Refuse control characters other than line breaks and tabs in a text area."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        value = str(field.data or "").replace("\n", "").replace("\t", "")
        if has_control_chars(value):
            raise ValidationError(_l("The text contains invisible control characters."))


class WebLink:
    """Accept only http and https links to another site."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        value = (field.data or "").strip()
        if not value:
            return
        scheme = value.split(":", 1)[0].strip().lower() if ":" in value else ""
        if scheme not in ("http", "https"):
            raise ValidationError(
                _l("Please enter a web address starting with https:// or http://.")
            )
        parts = urlsplit(value)
        if not parts.netloc or " " in value or "." not in (parts.hostname or ""):
            raise ValidationError(
                _l("This is not a complete web address, e.g. https://www.example.org.")
            )


class MailAddress:
    """Check an e-mail address the way the subscriber list does (no DNS lookups)."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not field.data:
            return
        try:
            field.data = normalise_address(str(field.data))
        except InvalidAddress as exc:
            raise ValidationError(exc.message) from None


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes in a list (rendered as a fieldset by macros/forms.html)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        values = {str(v) for v, *_rest in self.iter_choices()}
        for value in self.data or []:
            if str(value) not in values:
                raise ValidationError(_l("Please choose only from the list."))


def text_field(label: Any, *, max_length: int, required: Any = None, **kwargs: Any) -> StringField:
    """Return a one-line text field, cleaned, of at most max_length characters."""
    validators: list[Any] = [DataRequired(required)] if required else [Optional()]
    validators += [
        Length(max=max_length, message=_l("Please use at most %(max)d characters.")),
        SingleLine(),
    ]
    return StringField(label, validators=validators, filters=[clean_text], **kwargs)
