"""axe-core on every page of the site, in German and English, on a phone and a desktop.

The pages come from the URL map (every GET rule that answers with HTML, filled with real
ids and tokens from tests/security/world.py), so a new page cannot escape the audit;
states that only a form or a click reaches (errors, thanks, confirmed, unsubscribed,
erased) are added on top. Each language × width runs in one browser context per role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from newsticker.core.i18n import LANGUAGE_COOKIE
from tests.e2e.conftest import axe_violations
from tests.security.world import ADMIN_EMAIL, PASSWORD, World, build_world, set_outbox_key

pytestmark = pytest.mark.e2e

EDITOR_AREA = "/redaktion/"
WIDTHS = {"phone": 375, "desktop": 1280}
# Responses that are not pages: feeds, calendar files, images, CSV and plain text.
HTML = "text/html"
# Pages that are mail documents shown in a sandboxed frame are audited with the mails.
MAIL_DOCUMENTS = {"editor.outbox_mail_html", "issues_editor.preview_html"}


@dataclass
class Visit:
    """One page state to audit: where it is and how to reach it."""

    name: str
    url: str
    action: Callable[[Any], None] | None = None
    status: int | None = None


def page_urls(app: Any, world: World) -> tuple[list[Visit], list[Visit]]:
    """Return the public and editor-area GET pages of the URL map (not yet checked for HTML)."""
    public, editor = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        if rule.endpoint in MAIL_DOCUMENTS:
            continue
        visit = Visit(rule.endpoint, world.url(app, rule))
        if rule.rule.startswith(EDITOR_AREA) and rule.endpoint != "auth.login":
            editor.append(visit)
        else:
            public.append(visit)
    return public, editor


def _submit_empty(selector: str) -> Callable[[Any], None]:
    def act(page: Any) -> None:
        page.locator(selector).first.click()
        page.wait_for_load_state()

    return act


def extra_public(world: World) -> list[Visit]:
    """Return page states reached by a form or a wrong link."""
    t = world.tokens
    submit = "main form[method=post] button[type=submit]"
    return [
        Visit("404", "/gibt-es-nicht", status=404),
        Visit("bad private link", "/einreichung/" + "x" * 30, status=404),
        Visit("bad confirm link", "/bestaetigen/" + "x" * 30, status=404),
        Visit("bad unsubscribe link", "/abmelden/nope.nope", status=404),
        Visit("events filtered", "/angebote?q=Sprache&bereich=education&sprache=de"),
        Visit("events none found", "/angebote?q=zzzzzz"),
        Visit("events announcements", "/angebote?art=announcement"),
        Visit("submit errors", "/einreichen", _submit_empty(submit)),
        Visit("subscribe errors", "/abonnieren", _submit_empty(submit)),
        Visit("login errors", "/redaktion/login", _submit_empty(submit)),
        Visit("preferences errors", f"/einstellungen/{t['preferences']}/loeschen", _submit_empty(submit)),
        Visit("private edit errors", f"/einreichung/{t['private']}/bearbeiten", _fill_and_submit),
        Visit("subscribed", "/abonnieren", _subscribe),
        Visit("submitted", "/einreichen", _submit_item),
        Visit("confirmed", f"/bestaetigen/{t['confirm']}", _submit_empty(submit)),
        Visit("unsubscribed", f"/abmelden/{t['unsubscribe']}", _submit_empty(submit)),
    ]


def _fill_and_submit(page: Any) -> None:
    page.locator("#title").fill("")
    page.locator("main form[method=post] button[type=submit]").first.click()
    page.wait_for_load_state()


def _subscribe(page: Any) -> None:
    page.locator("#email").fill("axe@example.org")
    page.locator("input[name=publications]").first.check()
    page.locator("main form[method=post] button[type=submit]").first.click()
    page.wait_for_load_state()


def _submit_item(page: Any) -> None:
    from tests.integration.test_items_factories import event_form

    data = event_form(submitter_email="axe-submit@example.org")
    for name in ("title", "summary", "organiser", "start_date", "start_time", "submitter_email"):
        page.locator(f"#{name}").fill(data[name])
    page.locator("#consent").check()
    page.locator("main form[method=post] button[type=submit]").first.click()
    page.wait_for_load_state()


def extra_editor(world: World) -> list[Visit]:
    """Return editor-area states reached by filters and forms."""
    ids = world.ids
    submit = "main form[method=post] button[type=submit]"
    return [
        Visit("queue approved", "/redaktion/einreichungen?status=approved"),
        Visit("queue search", "/redaktion/einreichungen?q=Sprach"),
        Visit("sent issue", f"/redaktion/ausgaben/{ids['sent_issue']}"),
        Visit("sent issue progress", f"/redaktion/versand/{ids['sent_issue']}"),
        Visit("preview english", f"/redaktion/ausgaben/{ids['draft']}/vorschau?sprache=en"),
        Visit("users errors", "/redaktion/benutzer", _submit_empty(submit)),
        Visit("add subscriber errors", "/redaktion/abonnenten/neu", _submit_empty(submit)),
        Visit("import errors", "/redaktion/abonnenten/import", _submit_empty(submit)),
        Visit("edit item errors", f"/redaktion/einreichungen/{ids['pending_item']}/bearbeiten", _fill_and_submit),
        Visit("subscriber search", "/redaktion/abonnenten?q=example"),
    ]


def _html_only(context: Any, base: str, visits: list[Visit]) -> list[Visit]:
    kept = []
    for visit in visits:
        response = context.request.get(base + visit.url, max_redirects=0)
        if response.headers.get("content-type", "").startswith(HTML):
            kept.append(visit)
        response.dispose()
    return kept


def audit(page: Any, base: str, visits: list[Visit], width: int) -> tuple[list[str], int]:
    """Visit each page state; return the problems found and how many pages were audited."""
    problems = []
    for visit in visits:
        response = page.goto(base + visit.url)
        if visit.status is not None and response is not None and response.status != visit.status:
            problems.append(f"{visit.name}: status {response.status}, expected {visit.status}")
        if visit.action is not None:
            visit.action(page)
        for rule, nodes in axe_violations(page):
            problems.append(f"{visit.name} ({page.url}): {rule} {nodes[:3]}")
        # WCAG 1.4.10 (reflow): no sideways scrolling of the page at phone width; wide
        # data tables scroll inside their own box.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 1:
            problems.append(f"{visit.name} ({page.url}): {overflow}px wider than {width}px")
    return problems, len(visits)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
@pytest.mark.parametrize("language", ["de", "en"])
def test_no_wcag_violations_on_any_page(browser, live_server, language, width):
    settings = live_server.app.config["NEWSTICKER_SETTINGS"]
    world = live_server.run(lambda s: build_world(s, settings))
    mails = live_server.mails()
    assert mails, "the world's sign-up should have sent a confirmation mail"
    set_outbox_key(world, mails[0].key)
    public, editor = page_urls(live_server.app, world)
    base = live_server.url
    host = base.split("//")[1].split(":")[0]
    problems: list[str] = []
    audited = 0
    for role, visits, extra in (
        ("public", public, extra_public(world)),
        ("editor", editor, extra_editor(world)),
    ):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE")
        context.set_default_timeout(15_000)
        context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "domain": host, "path": "/"}])
        try:
            page = context.new_page()
            if role == "editor":
                page.goto(f"{base}/redaktion/login")
                page.locator("#email").fill(ADMIN_EMAIL)
                page.locator("#password").fill(PASSWORD)
                page.locator("main form[method=post] button[type=submit]").click()
                page.wait_for_url(f"{base}/redaktion/")
            visits = _html_only(context, base, visits)
            assert len(visits) > (8 if role == "editor" else 15)
            found, count = audit(page, base, [*visits, *extra], width)
            assert page.locator("html").get_attribute("lang") == language
            problems += found
            audited += count
        finally:
            context.close()
    print(f"axe: {audited} page states audited in {language} at {width}px")
    assert problems == []
