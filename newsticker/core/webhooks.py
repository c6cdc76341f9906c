"""Signed webhooks: events queued in the event's own transaction, delivered and retried later.

A feature calls `emit_event(session, "item.published", data, now=...)` in the transaction
that made the change. It adds one `WebhookDelivery` row per active endpoint that wants the
event; a rolled-back change leaves none, a committed one always has them (an outbox: no
event is announced for data that was rolled back, and none is lost when the receiver is
down). It lives in core because the subscribers package emits too and may import
nothing above core.

`deliver_due_webhooks` (a scheduler job, and the "send test event" button) claims due
rows, POSTs each body signed after the Standard Webhooks specification (webhook-id,
webhook-timestamp, webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>", with
the `standardwebhooks` package) and records the answer. A 2xx answer delivers; anything
else is retried with exponential backoff (retry_base_seconds · 2^(attempt-1), at most
MAX_BACKOFF) until max_attempts, then the row is failed. The webhook-id stays the same
across attempts, so receivers can drop a repeat; the timestamp is the attempt's.
Redirects are never followed (a receiver could otherwise point us anywhere).

Endpoints must be https://; plain http:// only to a loopback address and only with
`webhooks.allow_http_loopback` (tests and development).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from standardwebhooks import Webhook

from newsticker.core.db import Base, StatusType, UTCDateTime, utcnow
from newsticker.core.i18n import lazy_gettext as _l

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 120
MAX_BACKOFF = timedelta(hours=12)
MAX_RESPONSE_NOTE = 500
USER_AGENT = "Newsticker-Webhooks/1"
TEST_EVENT = "webhook.test"

# The events an endpoint can ask for, with what an admin reads.
EVENT_TYPES: dict[str, Any] = {
    "item.published": _l("Item published"),
    "issue.scheduled": _l("Issue scheduled"),
    "issue.sent": _l("Issue sent"),
    "subscriber.confirmed": _l("Subscriber confirmed"),
    "subscriber.unsubscribed": _l("Subscriber unsubscribed"),
}

# What the delivery log calls each event, the test event included.
EVENT_LABELS: dict[str, Any] = {**EVENT_TYPES, TEST_EVENT: _l("Test event")}


class WebhookStatus(StrEnum):
    """Where one delivery stands."""

    PENDING = "pending"  # due at next_attempt_at (claimed while claimed_until is ahead)
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # the attempts ran out


class WebhookEndpoint(Base):
    """A receiver an admin registered, the events it wants and the secret it verifies with."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    # "whsec_" + base64 of 32 random bytes; kept as is, since every delivery signs with it.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: outlives accounts


class WebhookDelivery(Base):
    """One event for one endpoint: the body as signed, and how its attempts went."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[WebhookStatus] = mapped_column(
        StatusType(WebhookStatus, 10), default=WebhookStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(MAX_RESPONSE_NOTE), default="")


# ---------------------------------------------------------------- endpoints


class WebhookError(ValueError):
    """A refused endpoint (the message is for the admin)."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def new_secret() -> str:
    """Return a fresh signing secret in the Standard Webhooks form ("whsec_" + base64)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint_url(url: str, *, allow_http_loopback: bool) -> str:
    """Return the URL if deliveries may go there, else raise WebhookError."""
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > 500 or any(ord(ch) < 33 for ch in url) or not parts.hostname:
        raise WebhookError(_l("Please enter a complete address starting with https://."))
    if parts.username or parts.password:
        raise WebhookError(
            _l("The address must not contain a user name or password; the signature proves us.")
        )
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and allow_http_loopback and _is_loopback(parts.hostname):
        return url
    raise WebhookError(
        _l("Webhooks are only sent over HTTPS: the address must start with https://.")
    )


def add_endpoint(
    session: Session,
    *,
    url: str,
    events: Iterable[str],
    description: str,
    allow_http_loopback: bool,
    user_id: int | None,
    now: datetime,
) -> WebhookEndpoint:
    """Register an endpoint for some events; it gets a new secret."""
    url = check_endpoint_url(url, allow_http_loopback=allow_http_loopback)
    chosen = [event for event in EVENT_TYPES if event in set(events)]
    if not chosen:
        raise WebhookError(_l("Please choose at least one event."))
    endpoint = WebhookEndpoint(
        url=url,
        description=description.strip()[:200],
        secret=new_secret(),
        events=chosen,
        active=True,
        created_at=now,
        created_by_id=user_id,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def set_endpoint_active(session: Session, endpoint: WebhookEndpoint, active: bool) -> None:
    """Pause or resume an endpoint; a paused one gets no new events."""
    endpoint.active = active
    session.flush()


def delete_endpoint(session: Session, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint and its delivery log."""
    for delivery in session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    ):
        session.delete(delivery)
    session.delete(endpoint)
    session.flush()


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    """Return every endpoint, oldest first."""
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def recent_deliveries(
    session: Session, endpoint_id: int, *, limit: int = 100
) -> list[WebhookDelivery]:
    """Return an endpoint's deliveries, newest first."""
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


# ---------------------------------------------------------------- emitting


def _body(event_type: str, data: dict[str, Any], now: datetime) -> str:
    # The payload structure the specification recommends: type, timestamp, data.
    payload = {"type": event_type, "timestamp": now.isoformat(), "data": data}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)


def _queue(
    session: Session, endpoint: WebhookEndpoint, event_type: str, body: str, now: datetime
) -> WebhookDelivery:
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_type=event_type,
        message_id=f"msg_{secrets.token_urlsafe(18)}",
        body=body,
        status=WebhookStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(delivery)
    return delivery


def emit_event(
    session: Session, event_type: str, data: dict[str, Any], *, now: datetime
) -> list[WebhookDelivery]:
    """Queue the event for every active endpoint that wants it, in the caller's transaction."""
    assert event_type in EVENT_TYPES, event_type
    endpoints = [
        endpoint
        for endpoint in session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))
        )
        if event_type in endpoint.events
    ]
    if not endpoints:
        return []
    body = _body(event_type, data, now)
    deliveries = [_queue(session, endpoint, event_type, body, now) for endpoint in endpoints]
    session.flush()
    return deliveries


def emit_test_event(
    session: Session, endpoint: WebhookEndpoint, *, now: datetime, actor: str
) -> WebhookDelivery:
    """Queue a test event for one endpoint (active or not)."""
    body = _body(TEST_EVENT, {"message": "Test event from Newsticker", "sent_by": actor}, now)
    delivery = _queue(session, endpoint, TEST_EVENT, body, now)
    session.flush()
    return delivery


# ---------------------------------------------------------------- delivering


@dataclass
class WebhookRun:
    """What one delivery run did."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Claimed:
    id: int
    url: str
    secret: str
    message_id: str
    body: str


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def signed_headers(secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """Return the Standard Webhooks headers of one attempt."""
    signature = Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body.encode("utf-8"))
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Return the wait before the next attempt after this many failed ones."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _post(claimed: _Claimed, *, timeout: float) -> tuple[int | None, str]:
    at = utcnow()
    if not claimed.url.startswith(("https://", "http://")):
        return None, "not an http(s) address"
    # S310: the scheme was checked just above (and when the endpoint was registered).
    request = urllib.request.Request(  # noqa: S310
        claimed.url,
        data=claimed.body.encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **signed_headers(claimed.secret, claimed.message_id, claimed.body, at),
        },
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return int(response.status), ""
    except urllib.error.HTTPError as exc:
        return int(exc.code), f"HTTP {exc.code} {exc.reason}"
    except (OSError, ValueError) as exc:  # refused, timed out, TLS, bad URL
        return None, f"{type(exc).__name__}: {exc}"


def _claim(factory: sessionmaker[Session], delivery_id: int, now: datetime) -> _Claimed | None:
    with factory() as session, session.begin():
        claimed = session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == WebhookStatus.PENDING,
                or_(
                    WebhookDelivery.claimed_until.is_(None),
                    WebhookDelivery.claimed_until < now,
                ),
            )
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        delivery = session.get(WebhookDelivery, delivery_id)
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id) if delivery else None
        if delivery is None or endpoint is None:
            return None
        return _Claimed(
            delivery.id, endpoint.url, endpoint.secret, delivery.message_id, delivery.body
        )


def _record(
    factory: sessionmaker[Session],
    delivery_id: int,
    status_code: int | None,
    error: str,
    *,
    max_attempts: int,
    retry_base_seconds: float,
) -> WebhookStatus | None:
    now = utcnow()
    with factory() as session, session.begin():
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return None
        delivery.claimed_until = None
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.response_status = status_code
        if status_code is not None and 200 <= status_code < 300:
            delivery.status = WebhookStatus.DELIVERED
            delivery.delivered_at = now
            delivery.last_error = ""
        else:
            delivery.last_error = (error or f"HTTP {status_code}")[:MAX_RESPONSE_NOTE]
            if delivery.attempts >= max_attempts:
                delivery.status = WebhookStatus.FAILED
            else:
                delivery.next_attempt_at = now + backoff(delivery.attempts, retry_base_seconds)
        return delivery.status


def deliver_due_webhooks(
    factory: sessionmaker[Session],
    *,
    max_attempts: int,
    retry_base_seconds: float,
    timeout: float,
    ids: list[int] | None = None,
    limit: int = 200,
) -> WebhookRun:
    """Send the due deliveries (or these ids, due or not); record each answer."""
    now = utcnow()
    with factory() as session:
        query = select(WebhookDelivery.id).where(WebhookDelivery.status == WebhookStatus.PENDING)
        if ids is not None:
            query = query.where(WebhookDelivery.id.in_(ids))
        else:
            query = query.where(WebhookDelivery.next_attempt_at <= now)
        due = list(session.scalars(query.order_by(WebhookDelivery.id).limit(limit)))
    run = WebhookRun()
    for delivery_id in due:
        claimed = _claim(factory, delivery_id, now)
        if claimed is None:
            continue
        status_code, error = _post(claimed, timeout=timeout)
        if error:
            logger.info("webhook %s to %s: %s", claimed.message_id, claimed.url, error)
        status = _record(
            factory,
            delivery_id,
            status_code,
            error,
            max_attempts=max_attempts,
            retry_base_seconds=retry_base_seconds,
        )
        if status == WebhookStatus.DELIVERED:
            run.delivered += 1
        elif status == WebhookStatus.FAILED:
            run.failed += 1
        elif status == WebhookStatus.PENDING:
            run.retried += 1
    return run
