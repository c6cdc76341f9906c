"""The readable reference of the API, rendered on the server from the OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("api_reference", __name__)

METHODS = ("get", "post", "put", "patch", "delete")


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            rows.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "anchor": f"{method}-{path}".replace("/", "-")
                    .replace("{", "")
                    .replace("}", ""),
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "tag": (operation.get("tags") or [""])[0],
                    "secured": bool(operation.get("security")),
                    "parameters": operation.get("parameters", []),
                    "body": json.dumps(
                        operation.get("requestBody", {})
                        .get("content", {})
                        .get("application/json", {})
                        .get("schema", {}),
                        indent=2,
                    )
                    if "requestBody" in operation
                    else "",
                    "responses": sorted(
                        (
                            code,
                            response.get("description", "")
                            if "description" in response
                            else response.get("$ref", "").rsplit("/", 1)[-1],
                        )
                        for code, response in operation.get("responses", {}).items()
                    ),
                }
            )
    return rows


@bp.route("/api/v1/referenz")
def reference() -> ResponseReturnValue:
    """Show every endpoint of the API with its parameters, body and answers."""
    api = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    spec = api.spec.to_dict()
    schemas = {
        name: json.dumps(schema, indent=2)
        for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items())
    }
    return render_template(
        "api/reference.html",
        info=spec["info"],
        openapi=spec["openapi"],
        operations=_operations(spec),
        schemas=schemas,
    )
