"""Webhooks: registered by admins, queued with the event's transaction, signed, retried.

Each test starts a real HTTP receiver on loopback that checks every delivery's signature
with the `standardwebhooks` package, as a receiver at the city would.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook, WebhookVerificationError

from newsticker.core.db import utcnow
from newsticker.core.site import site_links
from newsticker.core.unit_of_work import unit_of_work
from newsticker.core.webhooks import (
    WebhookDelivery,
    WebhookEndpoint,
    WebhookStatus,
    add_endpoint,
    backoff,
    deliver_due_webhooks,
    emit_event,
)
from newsticker.items.models import ItemStatus
from newsticker.items.services import approve_item
from tests.factories import make_item, make_user

pytestmark = pytest.mark.usefixtures("no_csrf")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"webhooks.allow_http_loopback": True, "webhooks.retry_base_seconds": 60}


@dataclass
class Receiver:
    """An HTTP receiver that verifies every delivery; answers what `answers` says, then 204."""

    secret: str = ""
    answers: list[int] = field(default_factory=list)
    verified: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    url: str = ""

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        self.ids.append(headers.get("webhook-id", ""))
        try:
            payload = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError as exc:
            self.refused.append(str(exc))
            return 401
        self.verified.append(payload)
        return self.answers.pop(0) if self.answers else 204


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            code = state.handle(body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(code)
            if code in (301, 302, 307):
                self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/newsticker"
    try:
        yield state
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def register(db, receiver: Receiver, events=("item.published",)) -> WebhookEndpoint:
    endpoint = add_endpoint(
        db,
        url=receiver.url,
        events=events,
        description="CMS",
        allow_http_loopback=True,
        user_id=None,
        now=utcnow(),
    )
    receiver.secret = endpoint.secret
    return endpoint


def deliver(app, **kwargs: Any):
    from newsticker.core.db import db as database

    settings = app.config["NEWSTICKER_SETTINGS"].webhooks
    values = {
        "max_attempts": settings.max_attempts,
        "retry_base_seconds": settings.retry_base_seconds,
        "timeout": 5.0,
        **kwargs,
    }
    return deliver_due_webhooks(database.session_factory, **values)


def deliveries_in_flight(db) -> list[WebhookDelivery]:
    return list(db.scalars(select(WebhookDelivery)))


def deliveries(db) -> list[WebhookDelivery]:
    db.expire_all()
    return list(db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_publishing_an_item_sends_a_signed_event(app, db, receiver):
    register(db, receiver)
    item = make_item(db, title="Sprachcafé", status=ItemStatus.SUBMITTED)
    approve_item(db, item, user_id=None, now=utcnow(), links=site_links(app))
    (queued,) = deliveries(db)
    assert queued.status == WebhookStatus.PENDING and receiver.verified == []  # not before

    run = deliver(app)

    assert run.delivered == 1
    (payload,) = receiver.verified
    assert payload["type"] == "item.published"
    assert payload["data"]["id"] == item.id and payload["data"]["title"] == "Sprachcafé"
    assert payload["data"]["url"] == f"http://localhost/angebote/{item.id}"
    assert receiver.refused == []
    assert receiver.ids == [queued.message_id]
    (done,) = deliveries(db)
    assert done.status == WebhookStatus.DELIVERED and done.response_status == 204
    assert deliver(app).delivered == 0  # delivered once, never again


def test_a_rolled_back_change_sends_nothing(app, db, receiver):
    register(db, receiver)
    item = make_item(db, status=ItemStatus.SUBMITTED)
    db.commit()  # the savepoint of the test: the endpoint and item exist

    class Refused(Exception):
        pass

    def approve_then_fail() -> None:
        with unit_of_work(db, None):
            approve_item(db, item, user_id=None, now=utcnow(), links=site_links(app))
            assert len(deliveries_in_flight(db)) == 1  # queued in the transaction
            raise Refused

    with pytest.raises(Refused):
        approve_then_fail()
    assert deliveries(db) == []
    assert deliver(app).delivered == 0 and receiver.ids == []


def test_a_failing_receiver_is_retried_with_backoff_and_the_same_id(app, db, receiver):
    register(db, receiver, events=("issue.scheduled",))
    receiver.answers = [503, 500]
    emit_event(db, "issue.scheduled", {"id": 7}, now=utcnow())
    before = utcnow()

    assert deliver(app).retried == 1
    (first,) = deliveries(db)
    assert first.attempts == 1 and first.status == WebhookStatus.PENDING
    assert "503" in first.last_error
    wait = first.next_attempt_at - before
    assert timedelta(seconds=59) < wait < timedelta(seconds=70)  # retry_base_seconds

    assert deliver(app).delivered == 0  # not due yet
    first.next_attempt_at = utcnow()
    db.flush()
    assert deliver(app).retried == 1
    (second,) = deliveries(db)
    assert second.next_attempt_at - utcnow() > timedelta(seconds=110)  # doubled
    second.next_attempt_at = utcnow()
    db.flush()
    assert deliver(app).delivered == 1
    assert len(set(receiver.ids)) == 1 and len(receiver.ids) == 3  # one id across attempts
    assert len(receiver.verified) == 3 and receiver.refused == []


def test_backoff_doubles_and_is_capped():
    assert backoff(1, 30) == timedelta(seconds=30)
    assert backoff(2, 30) == timedelta(seconds=60)
    assert backoff(5, 30) == timedelta(seconds=480)
    assert backoff(30, 30) == timedelta(hours=12)


def test_attempts_run_out_and_the_delivery_fails(app, db, receiver):
    register(db, receiver, events=("issue.sent",))
    receiver.answers = [500] * 3
    emit_event(db, "issue.sent", {"id": 1}, now=utcnow())
    for _ in range(3):
        deliver(app, max_attempts=3, retry_base_seconds=0)
    (failed,) = deliveries(db)
    assert failed.status == WebhookStatus.FAILED and failed.attempts == 3


def test_a_receiver_with_another_secret_refuses_and_we_retry(app, db, receiver):
    register(db, receiver)
    receiver.secret = "whsec_" + "A" * 44  # not ours
    item = make_item(db, status=ItemStatus.SUBMITTED)
    approve_item(db, item, user_id=None, now=utcnow(), links=site_links(app))
    assert deliver(app).retried == 1
    assert receiver.refused == ["No matching signature found"]
    (delivery,) = deliveries(db)
    assert delivery.response_status == 401 and delivery.status == WebhookStatus.PENDING


def test_redirects_are_not_followed(app, db, receiver):
    register(db, receiver, events=("issue.sent",))
    receiver.answers = [302]
    emit_event(db, "issue.sent", {"id": 1}, now=utcnow())
    assert deliver(app).retried == 1
    (delivery,) = deliveries(db)
    assert delivery.response_status == 302 and delivery.status == WebhookStatus.PENDING


def test_an_unreachable_receiver_is_retried(app, db, receiver):
    endpoint = register(db, receiver, events=("issue.sent",))
    endpoint.url = "http://127.0.0.1:1/nobody"
    emit_event(db, "issue.sent", {"id": 1}, now=utcnow())
    assert deliver(app).retried == 1
    (delivery,) = deliveries(db)
    assert delivery.response_status is None and "Connection refused" in delivery.last_error


def test_only_active_endpoints_that_want_the_event_get_it(app, db, receiver):
    wants = register(db, receiver, events=("subscriber.confirmed",))
    other = register(db, receiver, events=("item.published",))
    paused = register(db, receiver, events=("subscriber.confirmed",))
    paused.active = False
    emit_event(db, "subscriber.confirmed", {"subscriber_id": 1}, now=utcnow())
    assert [d.endpoint_id for d in deliveries(db)] == [wants.id]
    assert other.id != wants.id


def test_subscriber_events_come_from_the_consent_log(app, db, receiver):
    from subscribers.services import add_subscriber, unsubscribe

    register(db, receiver, events=("subscriber.confirmed", "subscriber.unsubscribed"))
    subscriber = add_subscriber(
        db,
        email="leser@example.org",
        name="",
        language="de",
        publications=["ticker"],
        note="signed up on paper at the library",
        actor="editor@example.org",
        salts=[],
        now=utcnow(),
    )
    unsubscribe(db, subscriber.id, "ticker", channel="one-click", now=utcnow())
    deliver(app)
    types = [(p["type"], p["data"]["publication"]) for p in receiver.verified]
    assert types == [("subscriber.confirmed", "ticker"), ("subscriber.unsubscribed", "ticker")]
    assert all("leser@example.org" not in json.dumps(p) for p in receiver.verified)


# ---------------------------------------------------------------- the admin pages


def login_admin(client, db) -> None:
    make_user(db, "admin@example.org", role="admin", password="a-long-enough-password")
    response = client.post(
        "/redaktion/login",
        data={"email": "admin@example.org", "password": "a-long-enough-password"},
    )
    assert response.status_code == 302


def test_admin_registers_an_endpoint_and_sends_a_test_event(app, client, db, receiver):
    login_admin(client, db)
    response = client.post(
        "/redaktion/webhooks/",
        data={
            "url": receiver.url,
            "description": "CMS",
            "events": ["item.published", "issue.sent"],
        },
    )
    assert response.status_code == 303
    db.expire_all()
    (endpoint,) = db.scalars(select(WebhookEndpoint)).all()
    assert endpoint.events == ["item.published", "issue.sent"]
    receiver.secret = endpoint.secret
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert endpoint.secret in page and "Testereignis senden" in page

    response = client.post(f"/redaktion/webhooks/{endpoint.id}/test", follow_redirects=True)
    assert response.status_code == 200
    (payload,) = receiver.verified  # delivered right after the commit, signature good
    assert payload["type"] == "webhook.test"
    assert "zugestellt" in response.get_data(as_text=True)  # the log says so


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.org/hook", "nur über HTTPS"),
        ("ftp://127.0.0.1/hook", "nur über HTTPS"),
        ("https://user:pw@example.org/hook", "Benutzernamen"),
        ("not a url", "vollständige Adresse"),
    ],
)
def test_admin_gets_a_clear_message_for_a_bad_address(client, db, url, message):
    login_admin(client, db)
    response = client.post("/redaktion/webhooks/", data={"url": url, "events": ["issue.sent"]})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.expire_all()
    assert db.scalars(select(WebhookEndpoint)).all() == []


def test_admin_must_choose_an_event(client, db, receiver):
    login_admin(client, db)
    response = client.post("/redaktion/webhooks/", data={"url": receiver.url})
    assert response.status_code == 422
    assert "mindestens ein Ereignis" in response.get_data(as_text=True)


def test_http_to_loopback_is_refused_without_the_switch(app, client, db, receiver):
    settings = app.config["NEWSTICKER_SETTINGS"]
    hooks = settings.webhooks.model_copy(update={"allow_http_loopback": False})
    app.config["NEWSTICKER_SETTINGS"] = settings.model_copy(update={"webhooks": hooks})
    login_admin(client, db)
    response = client.post(
        "/redaktion/webhooks/", data={"url": receiver.url, "events": ["issue.sent"]}
    )
    assert response.status_code == 422


def test_editors_who_are_not_admins_cannot_see_webhooks(client, db, editor):
    assert client.get("/redaktion/webhooks/").status_code == 403
    assert client.post("/redaktion/webhooks/", data={"url": "https://x.de"}).status_code == 403
