"""The three public journeys with the keyboard alone: subscribe, submit, unsubscribe.

Every control is reached with Tab in the order of the page, the focus is always visible,
and errors are announced: the error summary (role="alert") takes the focus when scripts
run, and is the first thing in the main content when they do not.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from newsticker.core.site import site_keyring
from subscribers import services as subs
from tests.security.world import build_world

pytestmark = pytest.mark.e2e

ACTIVE = """(form) => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    key: el.id || el.name || (el.textContent || '').trim().slice(0, 40) || el.tagName,
    tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name') || '',
    cls: el.className || '', inForm: !!el.closest(form),
    focusVisible: el.matches(':focus-visible'),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    shadow: style.boxShadow !== 'none',
  };
}"""
# The controls of a form a keyboard user must reach, in page order (one per radio group).
CONTROLS = """(selector) => {
  const form = document.querySelector(selector);
  const out = []; const radios = new Set();
  for (const el of form.querySelectorAll('input, select, textarea, button, summary, a[href]')) {
    if (el.type === 'hidden' || el.disabled || el.tabIndex < 0) continue;
    if (el.closest('[aria-hidden="true"]')) continue;
    const closed = el.closest('details:not([open])');
    if (closed && el !== closed.querySelector('summary')) continue;
    if (!el.getClientRects().length) continue;
    let stop = el;
    if (el.type === 'radio') {
      if (radios.has(el.name)) continue;
      radios.add(el.name);
      // A radio group is one Tab stop: the checked radio, else the first.
      stop = form.querySelector(`input[type=radio][name="${el.name}"]:checked`) || el;
    }
    out.push(stop.id || stop.getAttribute('name') || (stop.textContent || '').trim().slice(0, 40) || stop.tagName);
  }
  return out;
}"""
POSITIVE_TABINDEX = (
    "() => [...document.querySelectorAll('[tabindex]')].filter(e => e.tabIndex > 0).length"
)


def tab_sequence(page: Any, form: str, limit: int = 300) -> list[dict[str, Any]]:
    """Press Tab from the top of the page until the focus leaves it; return what got focus."""
    page.evaluate(
        "() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }"
    )
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        active = page.evaluate(ACTIVE, form)
        if active is None or (seen and active == seen[0]):
            break
        seen.append(active)
    return seen


def check_order_and_focus(page: Any, form: str) -> list[str]:
    """Return problems with the Tab order through a form and with the visible focus."""
    problems = []
    if page.evaluate(POSITIVE_TABINDEX):
        problems.append("an element has a positive tabindex (breaks the page order)")
    expected = page.evaluate(CONTROLS, form)
    sequence = tab_sequence(page, form)
    if not sequence or sequence[0]["cls"] != "skip-link":
        problems.append("the skip link is not the first stop")
    reached = [s["key"] for s in sequence]
    # A date field is several stops (day, month, year) on one element: count it once.
    in_form = [
        s["key"]
        for i, s in enumerate(sequence)
        if s["inForm"] and (i == 0 or sequence[i - 1]["key"] != s["key"])
    ]
    if in_form != expected:
        missing = [k for k in expected if k not in reached]
        problems.append(f"form controls reached {in_form}, expected {expected}; missing {missing}")
    for stop in sequence:
        if not (stop["outline"] or stop["shadow"]):
            problems.append(f"focus not visible on {stop['tag']} {stop['key']}")
    return problems


def tab_to(page: Any, selector: str, limit: int = 200) -> None:
    """Press Tab until the element matching the selector has the focus."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with Tab")


def submit_by_keyboard(page: Any, form: str, *, from_top: bool = False, limit: int = 200) -> None:
    """Tab to the form's submit button (from the top of the page) and press Enter."""
    if from_top:
        page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    tab_to(page, f"{form} button[type=submit]", limit=limit)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def check_error_summary(page: Any, scripts: bool) -> None:
    """Check that the errors are announced and lead to their fields."""
    summary = page.locator("#error-summary")
    assert summary.get_attribute("role") == "alert"
    assert summary.get_attribute("tabindex") == "-1"
    if scripts:
        expect(summary).to_be_focused()
        # The summary shows where the focus is (it is focused by script, not by Tab).
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
        page.keyboard.press("Tab")
    else:
        # Without scripts the summary is the first thing in the main content after the
        # skip link: a screen reader meets it at once.
        first = page.evaluate(
            "() => document.querySelector('main h1').compareDocumentPosition("
            "document.getElementById('error-summary')) & Node.DOCUMENT_POSITION_FOLLOWING"
        )
        assert first, "the error summary follows the heading"
        page.locator("#error-summary a").first.focus()
    target = page.evaluate("document.activeElement.getAttribute('href')")
    assert target and target.startswith("#")
    page.keyboard.press("Enter")
    field = page.locator(target)
    assert field.count() == 1
    # Following the link moves the view (and, in Chromium, the sequential focus point) there.
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


@pytest.fixture(params=[True, False], ids=["with-scripts", "without-scripts"])
def kb_page(request: Any, browser: Any) -> Any:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="de-DE", java_script_enabled=request.param
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.scripts = request.param
    yield page
    context.close()


def test_subscribe_with_the_keyboard(kb_page, live_server):
    page = kb_page
    page.goto(f"{live_server.url}/abonnieren")
    problems = check_order_and_focus(page, "main form.subs-form")
    assert not problems, "\n".join(problems)
    # Send it empty: the errors are announced.
    submit_by_keyboard(page, "main form.subs-form", from_top=True)
    check_error_summary(page, page.scripts)
    # Fill it in with keys only.
    tab_to(page, "#email")
    page.keyboard.type("tastatur@example.org")
    tab_to(page, "input[name=publications]")
    page.keyboard.press("Space")
    submit_by_keyboard(page, "main form.subs-form")
    expect(page.locator("h1")).to_contain_text("Fast geschafft")
    assert [m.to for m in live_server.mails()] == ["tastatur@example.org"]


def test_submit_with_the_keyboard(kb_page, live_server):
    page = kb_page
    page.goto(f"{live_server.url}/einreichen")
    problems = check_order_and_focus(page, "main form.item-form")
    assert not problems, "\n".join(problems)
    submit_by_keyboard(page, "main form.item-form", from_top=True, limit=300)
    check_error_summary(page, page.scripts)
    # The collapsed parts open from the keyboard.
    summaries = page.locator("main form.item-form details > summary")
    if summaries.count():
        summaries.first.focus()
        page.keyboard.press("Enter")
        expect(page.locator("main form.item-form details").first).to_have_js_property("open", True)


def test_unsubscribe_with_the_keyboard(kb_page, live_server):
    page = kb_page
    settings = live_server.app.config["NEWSTICKER_SETTINGS"]
    world = live_server.run_in_request(lambda s: build_world(s, settings))
    with live_server.app.test_request_context():
        token = subs.unsubscribe_token(site_keyring(), world.ids["subscriber"], "ticker")
    page.goto(f"{live_server.url}/abmelden/{token}")
    problems = check_order_and_focus(page, "main form")
    assert not problems, "\n".join(problems)
    submit_by_keyboard(page, "main form", from_top=True)
    # The outcome is a status message for screen readers.
    expect(page.locator("main p[role=status]")).to_contain_text("nicht mehr")
    expect(page.locator("h1")).to_have_text("Sie wurden abgemeldet")
