"""An admin registers a webhook with the keyboard; the pages are axe clean at 375 and 1280 px."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, login

pytestmark = pytest.mark.e2e


@pytest.fixture
def live_settings_overrides() -> dict[str, Any]:
    return {"webhooks.allow_http_loopback": True}


@pytest.mark.parametrize("width", [375, 1280])
def test_admin_registers_a_webhook(page, live_server, editor, width):
    page.set_viewport_size({"width": width, "height": 900})
    login(page, live_server, *editor)
    page.get_by_role("navigation", name="Redaktion").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    assert axe_violations(page) == []

    # A bad address: the message is next to the field, nothing is stored.
    page.get_by_label("Adresse (URL)").fill("http://example.org/hook")
    page.get_by_label("Ausgabe verschickt").check()
    page.get_by_role("button", name="Empfänger eintragen").click()
    expect(page.get_by_text("nur über HTTPS").first).to_be_visible()
    assert axe_violations(page) == []

    page.get_by_label("Adresse (URL)").fill("http://127.0.0.1:1/hook")
    page.get_by_label("Adresse (URL)").press("Enter")
    expect(page.get_by_role("heading", name="Webhook", level=1)).to_be_visible()
    expect(page.get_by_text("whsec_")).to_be_visible()
    page.get_by_role("button", name="Testereignis senden").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Testereignis").nth(1)).to_be_visible()
    assert axe_violations(page) == []
