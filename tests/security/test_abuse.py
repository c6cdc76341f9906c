"""Abuse: rate limits (shared across workers through Redis), mail bombing, big bodies, uploads."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from newsticker import create_app
from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.site import site_keyring
from newsticker.items.models import Item
from subscribers import services as subs
from subscribers.models import Subscriber
from tests.conftest import make_settings, unavailable
from tests.factories import event_form, image_bytes, post_multipart
from tests.security.conftest import AUDIT

REDIS_DB = 13
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "rate_limits.submit_per_ip": "3 per hour",
        "rate_limits.subscribe_per_ip": "3 per hour",
        "rate_limits.token_pages_per_ip": "5 per minute",
    }


pytestmark = pytest.mark.usefixtures("no_csrf")


def _ip(n: int) -> dict[str, Any]:
    return {"REMOTE_ADDR": f"198.51.100.{n}"}


# ---------------------------------------------------------------- rate limits


def test_submissions_are_limited_per_address_of_the_sender(client, db):
    for n in range(3):
        data = event_form(submitter_email=f"viel{n}@example.org", title=f"Titel {n}")
        assert client.post("/einreichen", data=data, environ_base=_ip(1)).status_code == 303
    response = client.post("/einreichen", data=event_form(), environ_base=_ip(1))
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert "warten Sie bitte eine Stunde" in response.get_data(as_text=True)
    # Another network is not affected; a form with errors never counted.
    assert client.post("/einreichen", data=event_form(), environ_base=_ip(2)).status_code == 303
    AUDIT["rate limits checked"] += 1


def test_sign_ups_are_limited_per_address_of_the_sender(client):
    for n in range(3):
        data = {"email": f"leser{n}@example.org", "publications": "ticker", "language": "de"}
        assert client.post("/abonnieren", data=data, environ_base=_ip(3)).status_code == 303
    data = {"email": "noch.einer@example.org", "publications": "ticker", "language": "de"}
    response = client.post("/abonnieren", data=data, environ_base=_ip(3))
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert client.post("/abonnieren", data=data, environ_base=_ip(4)).status_code == 303
    AUDIT["rate limits checked"] += 1


@pytest.mark.parametrize(
    "endpoint",
    [
        "items.private",
        "subscribers.confirm",
        "subscribers.preferences",
        "subscribers.unsubscribe_page",
    ],
)
def test_token_pages_are_limited_so_tokens_cannot_be_guessed_quickly(app, client, endpoint):
    path = {
        "items.private": "/einreichung/",
        "subscribers.confirm": "/bestaetigen/",
        "subscribers.preferences": "/einstellungen/",
        "subscribers.unsubscribe_page": "/abmelden/",
    }[endpoint]
    statuses = [
        client.get(f"{path}guess{n:030d}", environ_base=_ip(5)).status_code for n in range(6)
    ]
    assert statuses[:5] == [404] * 5
    assert statuses[5] == 429
    assert client.get(f"{path}guess", environ_base=_ip(6)).status_code == 404
    AUDIT["rate limits checked"] += 1


def test_one_click_unsubscribe_is_not_limited_per_address(app, client, db):
    """Mailbox providers send every one-click request from a few addresses (RFC 8058)."""
    from newsticker.demo import load_demo

    load_demo(db, app.config["NEWSTICKER_SETTINGS"])
    db.commit()
    with app.test_request_context():
        ring = site_keyring()
    ids = db.scalars(select(Subscriber.id).order_by(Subscriber.id).limit(8)).all()
    for sid in ids:
        token = subs.unsubscribe_token(ring, sid, "ticker")
        response = client.post(
            f"/abmelden/{token}", data={"List-Unsubscribe": "One-Click"}, environ_base=_ip(7)
        )
        assert response.status_code == 200


# ---------------------------------------------------------------- mail bombing


def test_subscription_bombing_sends_the_victim_at_most_one_mail_a_day(app, client, db, caught):
    variants = [
        "opfer@example.org",
        "Opfer@Example.org",
        " OPFER@example.org ",
        "opfer@EXAMPLE.ORG",
    ]
    for n in range(40):
        data = {
            "email": variants[n % len(variants)],
            "publications": ["ticker", "newsletter"][: 1 + n % 2],
            "language": "de",
            "name": f"Angreifer {n}",
        }
        # Every answer is the same: the page never says whether a mail went out.
        response = client.post("/abonnieren", data=data, environ_base=_ip(100 + n))
        assert response.status_code == 303
        assert response.headers["Location"].endswith("/abonnieren/danke")
    mails = [m for m in caught() if m.to.lower() == "opfer@example.org"]
    assert len(mails) == 1
    db.expire_all()
    # The attacker's names never reached the subscriber: nothing is confirmed yet.
    subscriber = db.scalars(
        select(Subscriber).where(Subscriber.email_key == "opfer@example.org")
    ).one()
    assert subs.confirmed_publications(subscriber) == []
    # A day later the window opens again, for one mail.
    db.execute(
        update(QueuedMail)
        .where(QueuedMail.to_addr == subscriber.email)
        .values(created_at=utcnow() - timedelta(hours=24, minutes=1))
    )
    db.commit()
    for n in range(5):
        data = {"email": "opfer@example.org", "publications": "ticker", "language": "de"}
        assert client.post("/abonnieren", data=data, environ_base=_ip(50 + n)).status_code == 303
    assert len([m for m in caught() if m.to.lower() == "opfer@example.org"]) == 2
    AUDIT["sign-ups in the bombing test (one mail sent)"] += 40


def test_submission_receipts_to_one_address_are_capped(app, client, db):
    from newsticker.items.services import RECEIPTS_PER_ADDRESS

    statuses = []
    for n in range(RECEIPTS_PER_ADDRESS + 3):
        data = event_form(submitter_email="opfer@example.org", title=f"Spam {n}")
        statuses.append(
            client.post("/einreichen", data=data, environ_base=_ip(200 + n)).status_code
        )
    assert statuses[:RECEIPTS_PER_ADDRESS] == [303] * RECEIPTS_PER_ADDRESS
    assert set(statuses[RECEIPTS_PER_ADDRESS:]) == {429}
    db.expire_all()
    receipts = db.scalar(
        select(func.count())
        .select_from(QueuedMail)
        .where(QueuedMail.to_addr == "opfer@example.org")
    )
    assert receipts == RECEIPTS_PER_ADDRESS
    # A refused submission is not stored either.
    stored = db.scalar(
        select(func.count()).select_from(Item).where(Item.submitter_email == "opfer@example.org")
    )
    assert stored == RECEIPTS_PER_ADDRESS


# ---------------------------------------------------------------- request size


def test_a_huge_upload_is_refused_with_413_before_it_is_read(client, db):
    data = event_form(image_alt="Bild")
    data["image"] = (io.BytesIO(b"\xff\xd8" + b"0" * (13 * 1024 * 1024)), "riesig.jpg")
    response = post_multipart(client, "/einreichen", data)
    assert response.status_code == 413
    assert "höchstens 8 MB" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Item)) == 0


PUBLIC_POSTS = ["/abonnieren", "/einreichen", "/redaktion/login", "/sprache"]


@pytest.mark.parametrize("path", PUBLIC_POSTS)
def test_a_body_over_12_mb_is_refused_with_413(client, path):
    response = client.post(path, data={"email": "x" * (13 * 1024 * 1024)})
    assert response.status_code == 413
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", PUBLIC_POSTS)
def test_a_text_field_over_1_mb_in_a_multipart_form_is_refused_with_413(client, path):
    response = post_multipart(client, path, {"email": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


@pytest.mark.parametrize("path", PUBLIC_POSTS[:3])
def test_an_overlong_field_is_a_form_error_and_stores_nothing(client, db, path):
    response = client.post(path, data={"email": "x" * (2 * 1024 * 1024), "title": "y" * 100_000})
    assert response.status_code == 422
    assert db.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_nul_characters_are_refused_at_the_door_and_change_nothing(client, db):
    response = client.post(
        "/abonnieren", data={"email": "a\x00@example.org", "publications": "ticker"}
    )
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    assert client.get("/angebote", query_string={"q": "a\x00b"}).status_code == 400
    assert client.get("/angebote", query_string={"q\x00": "x"}).status_code == 400
    assert db.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_editorial_text_refuses_control_characters():
    from newsticker.issues.services import IssueError, check_markdown

    for bad in ("a\x00b", "rot\x1b[31m", "klingel\x07"):
        with pytest.raises(IssueError) as refused:
            check_markdown(bad, "editorial")
        assert refused.value.field == "editorial"
    assert check_markdown("Zeile\n\tEingerückt", "editorial") == "Zeile\n\tEingerückt"


# ---------------------------------------------------------------- uploads


FAKE_IMAGES = {
    "html.jpg": b"<html><script>alert(1)</script></html>",
    "script.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>',
    "polyglot.gif": b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00;*/=alert(1)//",
    "document.pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
    "truncated.png": image_bytes("PNG")[:60],
    "empty.jpg": b"",
}


@pytest.mark.parametrize("name", FAKE_IMAGES)
def test_uploads_must_be_real_images(client, db, name):
    data = event_form(image_alt="Ein Bild")
    data["image"] = (io.BytesIO(FAKE_IMAGES[name]), name)
    response = post_multipart(client, "/einreichen", data)
    assert response.status_code == 422
    message = "leer" if name == "empty.jpg" else "kein Bild, das wir verwenden können"
    assert message in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Item)) == 0
    AUDIT["fake images refused"] += 1


def test_a_decompression_bomb_is_refused(client, db):
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, "PNG")  # 144 megapixels in a few kilobytes
    data = event_form(image_alt="Bombe")
    data["image"] = (io.BytesIO(out.getvalue()), "bombe.png")
    response = post_multipart(client, "/einreichen", data)
    assert response.status_code == 422
    assert "zu viele Pixel" in response.get_data(as_text=True)


def test_a_real_image_is_stored_re_encoded_and_served_inertly(client, db):
    data = event_form(image_alt="Ein rotes Rechteck")
    data["image"] = (io.BytesIO(image_bytes("PNG", with_exif=False)), "bild.png")
    assert post_multipart(client, "/einreichen", data).status_code == 303
    item = db.scalars(select(Item)).one()
    assert item.image_file and item.image_file.endswith(".jpg")
    response = client.get(f"/angebote/bilder/{item.image_file}")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.get_data().startswith(b"\xff\xd8")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()
    for bad in ("../secret_key", "..%2Fsecret_key", "x.svg", "a" * 30 + ".html"):
        assert client.get(f"/angebote/bilder/{bad}").status_code == 404


# ---------------------------------------------------------------- shared counters


WORKER = """
import json, sys
from newsticker import create_app
from newsticker.config import load_settings
values = json.loads(sys.argv[1])
app = create_app(load_settings(sys.argv[2], overrides=values, environ={}))
app.config["WTF_CSRF_ENABLED"] = False
client = app.test_client()
response = client.post("/redaktion/login", data={}, environ_base={"REMOTE_ADDR": "192.0.2.50"})
print(response.status_code)
"""


def _redis() -> Any:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        unavailable(
            f"Redis is not reachable at {REDIS_URL} (start redis-server to run this): {exc}",
            required_by="NEWSTICKER_REQUIRE_REDIS",
        )
    return client


@pytest.fixture
def redis_db() -> Any:
    client = _redis()
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def _worker_status(values: dict[str, Any], tmp_path: Path) -> int:
    """Run a login attempt in a separate process (a second gunicorn worker); return its status."""
    from tests.conftest import EMPTY_CONFIG

    result = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(values), str(EMPTY_CONFIG)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return int(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("storage", ["redis", "memory"])
def test_rate_limits_are_shared_between_workers_through_redis(
    database_url, tmp_path, request, storage
):
    redis_db = request.getfixturevalue("redis_db") if storage == "redis" else None
    uri = REDIS_URL if storage == "redis" else "memory://"
    values = {
        "site.secret_key": "shared-worker-secret",
        "site.instance_path": str(tmp_path / "instance"),
        "site.base_url": "http://localhost",
        "database.url": database_url,
        "rate_limits.storage_uri": uri,
        "rate_limits.login_per_ip": "3 per 15 minutes",
    }
    worker_a: Flask = create_app(make_settings(database_url, tmp_path / "instance", **values))
    worker_a.config["WTF_CSRF_ENABLED"] = False
    client = worker_a.test_client()
    # Empty logins count as failed attempts and need no database: only the counter is shared.
    for _ in range(3):
        response = client.post(
            "/redaktion/login", data={}, environ_base={"REMOTE_ADDR": "192.0.2.50"}
        )
        assert response.status_code == 422
    # Worker A is now at the limit; worker B, another process, sees the same counter in
    # Redis. With memory:// storage each process counts on its own.
    expected = 429 if storage == "redis" else 422
    assert _worker_status(values, tmp_path) == expected
    if redis_db is not None:
        assert any(b"login" in key or b"LIMIT" in key for key in redis_db.keys("*"))
