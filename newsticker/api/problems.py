"""Errors of the API as RFC 9457 problem details (application/problem+json).

Every error under /api/ answers in this shape, whatever raised it: a refused token, an
unknown item, a method the path does not take, a rate limit, the forms' validation. The
title and detail are translated into the language the caller asks for (Accept-Language);
validation messages are the forms' own, field by field, under `errors`.
"""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from newsticker.core.i18n import LazyText
from newsticker.core.i18n import lazy_gettext as _l

PROBLEM_MIMETYPE = "application/problem+json"
API_PREFIX = "/api/"

TITLES: dict[int, LazyText] = {
    400: _l("Bad request"),
    401: _l("Authentication required"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Request too large"),
    415: _l("Unsupported media type"),
    422: _l("The request contains errors"),
    429: _l("Too many requests"),
    500: _l("Internal error"),
    503: _l("Service unavailable"),
}
DETAILS: dict[int, LazyText] = {
    400: _l("The request could not be read."),
    401: _l("Please send a valid API token as “Authorization: Bearer <token>”."),
    403: _l("This token does not have the permission this call needs."),
    404: _l("There is nothing at this address, or it is not public."),
    405: _l("This address does not take this method."),
    413: _l("The request is larger than this address accepts."),
    415: _l("Please send JSON (Content-Type: application/json)."),
    422: _l("Please correct the fields named under “errors”."),
    429: _l("Too many requests in a short time. Please wait and try again."),
    500: _l("Something went wrong on our side. Nothing was changed."),
    503: _l("The service is not available at the moment. Please try again later."),
}


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem; `errors` maps a field to its messages."""

    type = ma.fields.String(metadata={"description": "A URI naming the kind of problem"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    instance = ma.fields.String()
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Messages per field, as the forms show them"},
    )


def problem(
    status: int,
    detail: object | None = None,
    *,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Return a problem+json response for a status, with an optional detail and field errors."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": str(TITLES.get(status, status)),
        "status": status,
    }
    described = detail if detail is not None else DETAILS.get(status)
    if described is not None:
        body["detail"] = str(described)
    if errors:
        body["errors"] = errors
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MIMETYPE
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: object, prefix: str = "") -> dict[str, list[str]]:
    """Turn webargs' nested {location: {field: [msg]}} into {field: [msg]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(flatten_messages(value, name))
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                flat[name] = [str(v) for v in value]
            elif isinstance(value, list):
                for index, entry in enumerate(value):
                    flat.update(flatten_messages({str(index): entry}, name))
            else:
                flat[name] = [str(value)]
    elif isinstance(messages, list):
        flat[prefix or "_"] = [str(m) for m in messages]
    return flat


def _strip_location(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    locations = ("json.", "query.", "form.", "headers.", "path.")
    out: dict[str, list[str]] = {}
    for key, value in errors.items():
        for location in locations:
            if key.startswith(location):
                key = key[len(location) :]
                break
        out.setdefault(key, []).extend(value)
    return out


def problem_for(exc: HTTPException) -> Response:
    """Return the problem response for an HTTP error raised anywhere under /api/."""
    code = exc.code or 500
    data = getattr(exc, "data", None) or {}
    errors = None
    if "messages" in data:
        errors = _strip_location(flatten_messages(data["messages"]))
    elif "errors" in data:
        errors = data["errors"]
    detail = data.get("message") or getattr(exc, "user_message", None)
    headers = {}
    original = exc.get_response().headers
    for name in ("Allow", "Retry-After", "WWW-Authenticate"):
        if name in original:
            headers[name] = original[name]
    headers.update(data.get("headers", {}) or {})
    return problem(code, detail, errors=errors, headers=headers)
