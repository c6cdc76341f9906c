"""The REST API under /api/v1: an OpenAPI 3.1 document made from the schemas that validate.

flask-smorest generates the document from the marshmallow schemas the endpoints parse
their input with, so the document cannot drift from what the API accepts. It is served
at /api/v1/openapi.json, and as a readable page at /api/v1/referenz (rendered on the
server from the same document: no script, nothing from elsewhere).

Endpoints call the features' services (never model work of their own) and answer errors
as problem+json (`problems`). Token calls are exempt from CSRF (a bearer header is no
ambient credential) and only the bearer header authenticates: the session cookie is
never read here.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask.typing import ResponseReturnValue
from flask_smorest import Api as _SmorestApi
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException, InternalServerError

from newsticker.api.problems import API_PREFIX, PROBLEM_MIMETYPE, ProblemSchema, problem_for

API_VERSION = "1.0.0"
URL_PREFIX = "/api/v1"


class Api(_SmorestApi):  # type: ignore[misc]
    """flask-smorest's Api with problem+json errors that leave the site's HTML pages alone."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        import http

        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MIMETYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default: dict[str, Any] = {
            "description": "An error (RFC 9457 problem details)",
            "schema": self.ERROR_SCHEMA,
        }
        prepare_response(default, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)

    def _register_error_handlers(self) -> None:
        # The site's own handlers (core.http) answer HTML pages; under /api/ we answer
        # problem+json instead, and leave every other path to them.
        app: Flask = self._app
        html_http = app.error_handler_spec[None][None].get(HTTPException)
        html_any = app.error_handler_spec[None][None].get(Exception)

        def on_http_error(exc: HTTPException) -> ResponseReturnValue:
            if request.path.startswith(API_PREFIX):
                return problem_for(exc)
            assert html_http is not None
            return html_http(exc)  # type: ignore[return-value]

        def on_error(exc: Exception) -> ResponseReturnValue:
            if request.path.startswith(API_PREFIX):
                if isinstance(exc, HTTPException):
                    return problem_for(exc)
                app.logger.exception("unhandled error on %s %s", request.method, request.path)
                from newsticker.core.db import db

                db.session.rollback()
                return problem_for(InternalServerError())
            assert html_any is not None
            return html_any(exc)  # type: ignore[return-value]

        app.register_error_handler(HTTPException, on_http_error)
        app.register_error_handler(Exception, on_error)


def init_api(app: Flask) -> Api:
    """Set up the API on an app whose error handlers (core.http) are in place."""
    from newsticker.api.blueprints import BLUEPRINTS
    from newsticker.api.reference import bp as reference_bp
    from newsticker.core.extensions import csrf

    app.config.update(
        API_TITLE="Newsticker API",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=URL_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": (
                    "Events and offers, submissions, subscriptions, moderation, issues, "
                    "subscribers and delivery of Newsticker. Errors are RFC 9457 problem "
                    "details in the language of Accept-Language (de or en)."
                )
            },
            "servers": [{"url": "/"}],
        },
    )
    api = Api(app)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "An API token"}
    )
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
        csrf.exempt(blp)
    app.register_blueprint(reference_bp)
    return api
