"""A property-based run of schemathesis against the API's own served document.

Schemathesis reads /api/v1/openapi.json from the app and sends generated requests to
every operation, with a token of every scope (the refusals without one have tests of
their own in test_api.py). Each answer must be no server error, have a documented
status and content type, and match its schema. (schemathesis's negative-data check is
left out: it counts a request whose Authorization header it removed as accepted, because
the token is added back here; test_api.py tests the refusals.) Runs on SQLite and, with NEWSTICKER_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.factories import make_issue, make_item, make_subscriber, make_token, make_user

# Enough to cover every operation's parameters in well under two minutes on two cores.
EXAMPLES = 40

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # Generated submissions must not be held up by the per-address rate limit.
    return {
        "rate_limits.submit_per_ip": "10000 per hour",
        "rate_limits.subscribe_per_ip": "10000 per hour",
    }


@pytest.fixture
def api_schema(app: Flask, db: Any) -> Any:
    """Return the schema as the app serves it, with an item to find and a token to use."""
    from newsticker.items.models import ItemStatus

    make_issue(db, items=[make_item(db)])
    make_item(db, status=ItemStatus.SUBMITTED)
    make_subscriber(db)
    # An administrator, so that export and erase are exercised too.
    user = make_user(db, "admin@example.org", role="admin")
    app.config["API_TEST_TOKEN"] = make_token(db, user)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32 renames the test after the operation through `node._nodeid`,
    # which pytest 9 no longer has; give it one (it only changes the report's name).
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_answers_match_the_document(case: Any, app: Flask) -> None:
    headers = {
        "Authorization": f"Bearer {app.config['API_TEST_TOKEN']}",
        "Accept-Language": "de",
        # Called through WSGI, not HTTP: nothing would undo Flask-Compress's encoding (which
        # has tests of its own in test_public_caching.py).
        "Accept-Encoding": "identity",
    }
    case.call_and_validate(headers=headers, checks=CHECKS)
