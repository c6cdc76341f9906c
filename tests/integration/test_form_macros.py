"""The form macros mark only what is true: required, invalid, described."""

from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Optional

TEMPLATE = '{% from "macros/forms.html" import field %}{{ field(form.needed) }}{{ field(form.extra, hint="Hinweis") }}'


class Form(FlaskForm):
    needed = StringField("Needed", validators=[DataRequired("Fehlt")])
    extra = StringField("Extra", validators=[Optional()])


def test_optional_field_has_no_required_or_invalid_attribute(app):
    with app.test_request_context(method="POST", data={}):
        form = Form(meta={"csrf": False})
        form.validate()
        html = render_template_string(TEMPLATE, form=form)
    assert "None" not in html
    needed, extra = html.split('class="field ', 2)[1:]
    assert "required" in needed.split("<input")[1]
    assert 'aria-invalid="true"' in needed
    assert 'aria-describedby="needed-error"' in needed
    assert "required" not in extra.split("<input")[1]
    assert "aria-invalid" not in extra
    assert 'aria-describedby="extra-hint"' in extra
