"""Links with tokens: not guessable, not forgeable, bound to one purpose, single use where so."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from newsticker.core.tokens import KeyRing, token_digest
from newsticker.items.models import Item
from subscribers import services as subs
from subscribers.models import ConsentEvent, Subscriber
from tests.security.conftest import AUDIT
from tests.security.world import PENDING_SIGNUP


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limits.token_pages_per_ip": "10000 per minute"}


pytestmark = pytest.mark.usefixtures("no_csrf")


def _flip(token: str, index: int) -> str:
    char = token[index]
    return token[:index] + ("A" if char != "A" else "B") + token[index + 1 :]


def _variants(token: str) -> list[str]:
    """Return near misses: truncated, extended, one character changed, case changed."""
    near = [
        token[:-1],
        token + "A",
        _flip(token, 0),
        _flip(token, len(token) // 2),
        _flip(token, -1),
        token.swapcase(),
        token.replace(".", ""),
        token + "%00",
        "../" + token,
    ]
    return [v for v in dict.fromkeys(near) if v != token]


URLS = {
    "private": "/einreichung/{}",
    "confirm": "/bestaetigen/{}",
    "preferences": "/einstellungen/{}",
    "unsubscribe": "/abmelden/{}",
}


def test_random_tokens_are_long_and_only_their_digest_is_stored(app, world, db):
    for name in ("private", "confirm"):
        token = world.tokens[name]
        assert len(base64.urlsafe_b64decode(token + "==")) >= 32, name
    dump = "\n".join(
        repr(row)
        for table in ("items", "subscription_confirmations")
        for row in db.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608
    )
    assert world.tokens["private"] not in dump
    assert world.tokens["confirm"] not in dump
    assert token_digest(world.tokens["private"]) in dump


@pytest.mark.parametrize("name", URLS)
def test_near_misses_of_a_genuine_token_are_refused(app, world, client, name):
    genuine = URLS[name].format(world.tokens[name])
    assert client.get(genuine).status_code == 200
    for variant in _variants(world.tokens[name]):
        response = client.get(URLS[name].format(variant))
        # A NUL is refused before any lookup (400); everything else is simply unknown.
        assert response.status_code in ((400, 404) if "%00" in variant else (404,)), variant
        AUDIT["forged or mistyped tokens refused"] += 1


@pytest.mark.parametrize(("token_of", "used_at"), [(a, b) for a in URLS for b in URLS if a != b])
def test_a_token_works_only_for_its_own_purpose(app, world, client, token_of, used_at):
    response = client.get(URLS[used_at].format(world.tokens[token_of]))
    assert response.status_code == 404
    AUDIT["tokens tried for another purpose"] += 1


def test_signed_links_cannot_be_forged_for_another_subscriber(app, world, client, db):
    token = world.tokens["preferences"]
    _payload, mac = token.split(".")
    other = db.scalars(
        select(Subscriber.id).where(Subscriber.id != world.ids["subscriber"])
    ).first()
    forged_payload = base64.urlsafe_b64encode(json.dumps([None, str(other)]).encode()).rstrip(b"=")
    assert client.get(f"/einstellungen/{forged_payload.decode()}.{mac}").status_code == 404
    # Signed with a key the site does not have.
    stranger = KeyRing(["not-the-site-secret"])
    assert (
        client.get(f"/einstellungen/{subs.preferences_token(stranger, other)}").status_code == 404
    )
    assert (
        client.get(f"/abmelden/{subs.unsubscribe_token(stranger, other, 'ticker')}").status_code
        == 404
    )
    # The unsubscribe link names its publication; another one cannot be swapped in.
    unsubscribe = world.tokens["unsubscribe"]
    _payload, mac = unsubscribe.split(".")
    swapped = base64.urlsafe_b64encode(
        json.dumps([None, str(world.ids["subscriber"]), "newsletter"]).encode()
    ).rstrip(b"=")
    assert client.get(f"/abmelden/{swapped.decode()}.{mac}").status_code == 404


@pytest.mark.parametrize(
    "settings_overrides",
    [
        {
            "site.old_secret_keys": ["test-secret-key-not-for-production"],
            "site.secret_key": "the-new-key",
        }
    ],
)
def test_links_in_old_mails_survive_key_rotation_but_not_removal(
    app, world, client, settings_overrides
):
    old = KeyRing(["test-secret-key-not-for-production"])
    token = subs.preferences_token(old, world.ids["subscriber"])
    assert client.get(f"/einstellungen/{token}").status_code == 200
    app.config["NEWSTICKER_SETTINGS"] = app.config["NEWSTICKER_SETTINGS"].model_copy(
        update={
            "site": app.config["NEWSTICKER_SETTINGS"].site.model_copy(
                update={"old_secret_keys": []}
            )
        }
    )
    # The app builds its key ring once (newsticker.core.site); a new config means a restart.
    app.extensions.pop("newsticker_keyring")
    assert client.get(f"/einstellungen/{token}").status_code == 404


def test_a_confirmation_link_works_once(app, world, client, db):
    url = f"/bestaetigen/{world.tokens['confirm']}"
    page = client.get(url)
    assert page.status_code == 200
    db.expire_all()
    assert _events(db) == 0, "opening the link (a mail scanner does) must change nothing"
    assert client.post(url).status_code == 303
    assert _events(db) == 1
    # Used again (a replay, or a second click): nothing more happens.
    again = client.post(url, follow_redirects=True)
    assert again.status_code == 200
    assert "bestätigt" in again.get_data(as_text=True)
    db.expire_all()
    assert _events(db) == 1


def _events(db: Session) -> int:
    db.expire_all()
    return int(
        db.scalar(
            select(func.count())
            .select_from(ConsentEvent)
            .join(Subscriber, Subscriber.id == ConsentEvent.subscriber_id)
            .where(Subscriber.email == PENDING_SIGNUP, ConsentEvent.action == "confirmed")
        )
        or 0
    )


@pytest.mark.parametrize("settings_overrides", [{"subscribers.confirmation_link_hours": 1}])
def test_an_old_confirmation_link_has_expired(app, world, client, db, settings_overrides):
    from datetime import timedelta

    from subscribers.models import Confirmation

    confirmation = db.scalars(select(Confirmation)).one()
    confirmation.expires_at = confirmation.created_at - timedelta(seconds=1)
    db.commit()
    url = f"/bestaetigen/{world.tokens['confirm']}"
    assert client.get(url).status_code == 410
    assert client.post(url).status_code == 410
    assert _events(db) == 0


def test_a_private_link_cannot_change_a_published_or_withdrawn_submission(app, world, client, db):
    token = world.tokens["private"]
    assert client.post(f"/einreichung/{token}/zurueckziehen").status_code == 303
    db.expire_all()
    item = db.get(Item, world.ids["pending_item"])
    assert item.status == "withdrawn"
    edit = client.post(f"/einreichung/{token}/bearbeiten", data={"title": "Übernommen"})
    assert edit.status_code == 303
    db.expire_all()
    assert db.get(Item, world.ids["pending_item"]).title != "Übernommen"
    # The link of another submission is not this one's.
    assert client.get(f"/einreichung/{token[::-1]}").status_code == 404


def test_personal_links_die_with_the_erasure(app, world, client, db):
    prefs = f"/einstellungen/{world.tokens['preferences']}"
    assert client.post(f"{prefs}/loeschen", data={"sure": "y"}).status_code == 200
    assert client.get(prefs).status_code == 404
    response = client.post(
        f"/abmelden/{world.tokens['unsubscribe']}", data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200  # nothing to unsubscribe any more; no error either
    db.expire_all()
    assert db.get(Subscriber, world.ids["subscriber"]) is None
