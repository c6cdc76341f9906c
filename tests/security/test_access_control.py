"""Walk every route of the URL map as a stranger, an editor and an admin.

The classification below is the audit's allowlist: a new route fails these tests until
someone decides whether it is public, for editors or for admins, and the behaviour
then has to match (login, role, CSRF, GET changes nothing, POST-only refuses GET).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.routing import Rule

from newsticker.core.extensions import csrf
from tests.security.conftest import AUDIT, changed_tables, csrf_token, fingerprint
from tests.security.world import World

EDITOR_AREA = "/redaktion/"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

# Public endpoints and what a stranger's GET gets (a POST-only one: its GET is 405).
PUBLIC: dict[str, int] = {
    "static": 200,
    "core.healthz": 200,
    "core.set_language": 405,
    "public.index": 200,
    "public.privacy": 200,
    "public.brand_css": 200,
    "public.logo": 404,  # no logo configured in the tests
    "public.favicon": 200,
    "public.favicon_ico": 301,
    "items.events": 200,
    "items.detail": 200,
    "items.item_ics": 200,
    "items.image": 200,
    "items.atom": 200,
    # The directory for other sites' iframes, and its JSON feed.
    "items.embed": 200,
    "items.embed_feed": 200,
    "items.ical_feed": 200,
    "items.ical_field_feed": 200,
    "items.submit": 200,
    "items.thanks": 302,  # nothing submitted in this session: back to the form
    "items.private": 200,
    "items.private_edit": 200,
    "items.withdraw": 405,
    "items.private_version": 405,
    # The translator's private link: the token is the key (no account).
    "translators.translate": 200,
    "translators.decline": 405,
    # The walk declines the request (POST .../ablehnen) before it reaches the thanks page.
    "translators.thanks": 200,
    "issues.archive": 200,
    "issues.publication": 200,
    "issues.issue": 200,
    "issues.issue_text": 200,
    "issues.feed": 200,
    "subscribers.subscribe": 200,
    "subscribers.thanks": 302,  # nothing subscribed in this session: back to the form
    "subscribers.confirm": 200,
    "subscribers.resend": 405,
    "subscribers.unsubscribe_page": 200,
    "subscribers.unsubscribe": 200,  # same URL as the page; the POST is the RFC 8058 one
    "subscribers.preferences": 200,
    "subscribers.data_copy": 200,  # same URL as the readable data page (data_page)
    "subscribers.data_page": 200,
    "subscribers.data_file": 200,
    "subscribers.my_data": 200,
    "subscribers.my_data_file": 200,
    "subscribers.erase": 200,
    "auth.login": 200,
    "auth.logout": 405,
    # The second step of a login: without a password given first, back to the login form.
    "auth.second_factor": 302,
    "auth.forgot_password": 200,
    "auth.reset_password": 200,
    "auth.oidc_start": 404,  # single sign-on is off in these tests
    "auth.oidc_callback": 404,
    # The REST API: its document and reference, and the public endpoints. Endpoints that
    # need a token answer a stranger (no bearer token; cookies never count) with 401.
    "api-docs.openapi_json": 200,
    "api_reference.reference": 200,
    "api_public.directory": 200,
    "api_public.item": 200,
    "api_public.publications": 200,
    "api_public.archive": 200,
    "api_public.submit": 405,
    "api_public.subscribe": 405,
    "api_moderation.queue": 401,
    "api_moderation.show": 401,
    "api_moderation.approve": 405,
    "api_moderation.reject": 405,
    "api_issues.index": 401,
    "api_issues.draft": 401,
    "api_issues.show": 401,
    "api_issues.edit": 401,
    "api_issues.schedule": 405,
    "api_issues.unschedule": 405,
    "api_issues.test_send": 405,
    "api_issues.add_entry": 405,
    "api_issues.add_article": 405,
    "api_issues.edit_article": 405,
    "api_issues.reorder": 405,
    "api_issues.remove_entry": 405,
    "api_issues.add_figure": 405,
    "api_issues.edit_figure": 405,
    "api_issues.reorder_figures": 405,
    "api_issues.remove_figure": 405,
    "api_delivery.reports": 401,
    "api_delivery.progress": 401,
    "api_delivery.pause": 405,
    "api_delivery.resume": 405,
    "api_delivery.cancel": 405,
    "api_subscribers.index": 401,
    "api_subscribers.add": 401,
    "api_subscribers.export": 401,
    "api_subscribers.erase": 405,
    "api_subscribers.import_list": 405,
    "api_subscribers.block": 405,
    "api_subscribers.unblock": 405,
}
API_AREA = "/api/"
# Editor-area endpoints only admins may use.
ADMIN_ONLY = {
    "webhooks.index",
    "webhooks.endpoint",
    "webhooks.send_test",
    "webhooks.toggle",
    "webhooks.delete",
    "auth.users",
    "auth.toggle_user",
    "auth.change_role",
    "auth.reset_user_totp",
    "editor.audit_trail",
    "editor.audit_export",
    "items_editor.reasons",
    "items_editor.edit_reason",
    "items_editor.delete_reason",
    "subscribers_editor.consent",
    "subscribers_editor.erase",
    "subscribers_editor.export",
    "subscribers_editor.proof",
    "subscribers_editor.proof_download",
    "subscribers_editor.reinstate",
}
# Downloads of personal data and of the trail: the GET records who took them (audit trail).
RECORDED_DOWNLOADS = {"subscribers_editor.export", "editor.audit_export"}
# The only POST without a CSRF token: RFC 8058 one-click unsubscribe from a mail provider.
# The one-click unsubscribe (RFC 8058: mail programs post it) and the language switch
# (it only sets the display language; a token would start a session on every page).
CSRF_EXEMPT = {"subscribers.views.unsubscribe", "newsticker.core.http.set_language"}
# The API's blueprints: a bearer token is no ambient credential, so CSRF does not apply.
CSRF_EXEMPT_BLUEPRINTS = {
    "api_public",
    "api_moderation",
    "api_issues",
    "api_subscribers",
    "api_delivery",
}


def routes(app: Flask) -> list[tuple[Rule, str]]:
    """Return (rule, method) for every rule and method of the URL map."""
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule, method))
    return out


def unclassified(app: Flask) -> list[str]:
    """Return the endpoints outside the editor area that are not on the public allowlist."""
    return sorted(
        {
            f"{rule.endpoint} ({rule.rule})"
            for rule in app.url_map.iter_rules()
            if not rule.rule.startswith(EDITOR_AREA) and rule.endpoint not in PUBLIC
        }
    )


def is_public(rule: Rule) -> bool:
    """Return whether a stranger may use the rule."""
    return rule.endpoint in PUBLIC


def url_of(app: Flask, world: World, rule: Rule) -> str:
    """Return the rule's URL filled with real values (static: the site's stylesheet)."""
    if rule.endpoint == "static":
        return "/static/css/site.css"
    return world.url(app, rule)


def fetch(client: Any, url: str, method: str = "GET", **kwargs: Any) -> Any:
    """Send a request, read the whole answer and close it (files stay open otherwise)."""
    response = client.open(url, method=method, **kwargs)
    response.get_data()
    response.close()
    return response


def goes_to_login(response: Any) -> bool:
    """Return whether the answer sends the visitor to the login form."""
    location = response.headers.get("Location", "")
    return response.status_code == 302 and urlsplit(location).path == "/redaktion/login"


def test_every_route_is_classified(app):
    assert unclassified(app) == [], (
        "new public routes: add them to PUBLIC in tests/security/test_access_control.py "
        "(or move them under /redaktion/) after deciding who may use them"
    )
    stale = set(PUBLIC) | ADMIN_ONLY
    assert stale <= {rule.endpoint for rule in app.url_map.iter_rules()}


def test_a_new_unprotected_route_is_caught(app):
    @app.route("/geheim")
    def secret() -> str:
        return "no login here"

    assert unclassified(app) == ["secret (/geheim)"]


def test_only_the_one_click_unsubscribe_and_the_language_switch_skip_csrf(app):
    assert set(csrf._exempt_views) == CSRF_EXEMPT
    assert {bp.name for bp in csrf._exempt_blueprints} == CSRF_EXEMPT_BLUEPRINTS
    api_rules = {rule.endpoint.split(".")[0] for rule in app.url_map.iter_rules()}
    assert all(
        rule.endpoint.split(".")[0] in CSRF_EXEMPT_BLUEPRINTS | {"api-docs", "api_reference"}
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API_AREA)
    ), api_rules


def test_strangers_get_public_pages_and_the_login_form_for_everything_else(app, world, clients, db):
    client = clients["anonymous"]
    token = csrf_token(client)
    problems = []
    walked = 0
    for rule, method in routes(app):
        url = url_of(app, world, rule)
        walked += 1
        if method == "GET":
            response = fetch(client, url)
            if is_public(rule):
                expected = PUBLIC[rule.endpoint]
                ok = response.status_code == expected
            else:
                ok = goes_to_login(response)
                expected = "302 to the login form"
        else:
            data = {"csrf_token": token}
            response = fetch(client, url, method, data=data)
            if is_public(rule):
                ok = response.status_code < 500
                expected = "an answer, not a crash"
            else:
                ok = goes_to_login(response)
                expected = "302 to the login form"
        if not ok:
            problems.append(
                f"{method} {url} ({rule.endpoint}): {response.status_code}, expected {expected}"
            )
    AUDIT["routes × methods walked as a stranger"] += walked
    assert problems == []


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_the_editor_area_needs_a_login_and_admin_pages_the_admin_role(
    app, world, clients, db, role
):
    client = clients[role]
    problems = []
    walked = 0
    for rule, method in routes(app):
        if method != "GET" or is_public(rule):
            continue
        walked += 1
        url = url_of(app, world, rule)
        before = fingerprint(db)
        response = fetch(client, url)
        changed = changed_tables(before, fingerprint(db))
        allowed = role == "admin" or rule.endpoint not in ADMIN_ONLY
        expected = 200 if allowed else 403
        if rule.endpoint in ("editor.outbox_mail", "editor.outbox_mail_html") and allowed:
            expected = 404  # no mail caught under that key; the walker does not run a catcher
        if response.status_code != expected:
            problems.append(
                f"GET {url} ({rule.endpoint}): {response.status_code}, expected {expected}"
            )
        if changed and not (rule.endpoint in RECORDED_DOWNLOADS and changed == ["audit_events"]):
            problems.append(f"GET {url} ({rule.endpoint}) changed {changed}")
        if response.headers.get("Cache-Control") != "no-store":
            problems.append(f"GET {url} ({rule.endpoint}): editor pages must not be cached")
    AUDIT[f"editor-area GET routes walked as {role}"] += walked
    assert problems == []


def test_post_only_routes_refuse_get(app, world, clients):
    client = clients["admin"]
    problems = []
    checked = 0
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
        if "GET" in methods or not methods & STATE_CHANGING:
            continue
        # Another rule may answer GET on the same URL (the unsubscribe page does).
        url = url_of(app, world, rule)
        if any(
            other.rule == rule.rule and "GET" in (other.methods or set())
            for other in app.url_map.iter_rules()
        ):
            continue
        checked += 1
        response = fetch(client, url)
        allowed = {m.strip() for m in response.headers.get("Allow", "").split(",")}
        if response.status_code != 405:
            problems.append(f"GET {url} ({rule.endpoint}): {response.status_code}, expected 405")
        elif not methods & allowed:
            problems.append(f"GET {url}: 405 without an Allow header")
    AUDIT["POST-only routes refusing GET (405)"] += checked
    assert checked > 25
    assert problems == []


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_every_state_changing_route_refuses_a_request_without_csrf_token(
    app, world, clients, db, role
):
    client = clients[role]
    foreign = csrf_token(app.test_client())
    problems = []
    checked = 0
    before = fingerprint(db)
    for rule, method in routes(app):
        if method not in STATE_CHANGING:
            continue
        view = app.view_functions[rule.endpoint]
        exempt = f"{view.__module__}.{view.__name__}" in CSRF_EXEMPT
        url = url_of(app, world, rule)
        checked += 1
        response = fetch(client, url, method, data={"lang": "en", "confirm": "yes"})
        if rule.endpoint == "core.set_language":
            # Changes nothing stored: only the visitor's own display-language cookie.
            if response.status_code != 303 or response.headers["Location"] != "/":
                problems.append(f"{method} {url}: {response.status_code}, expected 303 to /")
            continue
        if rule.rule.startswith(API_AREA):
            # No CSRF here: a token call without a bearer token is refused (401, whatever
            # cookie comes along), a public one refuses a body that is not its JSON.
            if response.status_code not in (401, 422):
                problems.append(f"{method} {url}: {response.status_code}, expected 401 or 422")
            continue
        if exempt:
            # No CSRF token, but no "List-Unsubscribe=One-Click" either: refused all the same.
            if response.status_code != 400:
                problems.append(f"{method} {url}: {response.status_code}, expected 400")
            continue
        if response.status_code != 400:
            problems.append(
                f"{method} {url} ({rule.endpoint}): {response.status_code}, expected 400"
            )
        # A token of another session is no better than none.
        forged = fetch(client, url, method, data={"csrf_token": foreign, "confirm": "yes"})
        if forged.status_code != 400:
            problems.append(f"{method} {url} with another session's token: {forged.status_code}")
    AUDIT[f"state-changing routes refusing a missing or foreign CSRF token ({role})"] += checked
    assert problems == []
    assert changed_tables(before, fingerprint(db)) == []


def test_editors_cannot_use_admin_actions_even_with_a_valid_token(app, world, clients, db):
    client = clients["editor"]
    token = csrf_token(client, "/redaktion/")
    before = fingerprint(db)
    problems = []
    for rule, method in routes(app):
        if rule.endpoint not in ADMIN_ONLY or method not in STATE_CHANGING:
            continue
        url = url_of(app, world, rule)
        response = fetch(client, url, method, data={"csrf_token": token, "confirm": "y"})
        if response.status_code != 403:
            problems.append(f"{method} {url}: {response.status_code}, expected 403")
    assert problems == []
    assert changed_tables(before, fingerprint(db)) == []


def test_strangers_cannot_change_anything_in_the_editor_area_with_a_valid_token(
    app, world, clients, db
):
    client = clients["anonymous"]
    token = csrf_token(client)
    before = fingerprint(db)
    for rule, method in routes(app):
        if method in STATE_CHANGING and rule.rule.startswith(EDITOR_AREA) and not is_public(rule):
            response = fetch(client, url_of(app, world, rule), method, data={"csrf_token": token})
            assert goes_to_login(response), f"{method} {rule.rule}: {response.status_code}"
    assert changed_tables(before, fingerprint(db)) == []


def test_logged_out_sessions_lose_the_editor_area(app, world, clients):
    client = clients["editor"]
    assert client.get("/redaktion/").status_code == 200
    token = csrf_token(client, "/redaktion/")
    assert client.post("/redaktion/logout", data={"csrf_token": token}).status_code == 302
    assert goes_to_login(client.get("/redaktion/"))
