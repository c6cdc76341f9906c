"""The public start page and the site's fixed pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("public", __name__)


@bp.route("/")
def index() -> ResponseReturnValue:
    """Show the start page."""
    return render_template("public/index.html")


@bp.route("/datenschutz")
def privacy() -> ResponseReturnValue:
    """Show the privacy notice."""
    return render_template("public/privacy.html")
