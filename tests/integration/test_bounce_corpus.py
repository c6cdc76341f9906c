"""The labelled corpus of real returned mail: who comes off the list after one run.

For each message of ../shared/corpora/bounces (see its README) the addresses it reports on
are made subscribers, the message goes through the whole pipeline (classification,
policy, database), and their subscriptions are read back. An address with a hard bounce
or a spam complaint must be off the list; one that only had a soft bounce, a delay
warning, a delivery report or an auto-reply must still be on it. Each message is judged
on its own (in a savepoint), as one run of a real mailbox would see it: the corpus uses
the same placeholder addresses in unrelated messages. Messages whose source does not say
hard or soft (hard: null) are not scored; addresses no one could subscribe with (a
".invalid" placeholder) are counted as skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email import message_from_bytes
from email.utils import getaddresses
from pathlib import Path

from sqlalchemy import select

from newsticker.core.db import utcnow
from subscribers import services
from subscribers.addresses import InvalidAddress, normalise_address
from subscribers.models import Subscription, SubscriptionStatus
from subscribers.site import site_salts
from tests.conftest import unavailable
from tests.factories import keyring, make_subscriber

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "bounces"
REQUIRED_SHARE = 0.97


@dataclass
class Tally:
    scored: int = 0
    right: int = 0
    wrong: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.right / self.scored if self.scored else 0.0


def expectation(label: dict) -> bool | None:
    """Return True if the addresses must be off the list, False if on, None if unscored."""
    category = label["category"]
    if category == "arf":
        return True
    if category == "bounce":
        return label.get("hard")
    return False  # warning, vacation, delivered


def addresses_of(label: dict, raw: bytes) -> list[str]:
    if label["category"] == "vacation":
        # An auto-reply reports on nobody: it is its sender who must stay.
        message = message_from_bytes(raw)
        return [a for _n, a in getaddresses(message.get_all("From") or [])]
    return list(label["addresses"])


def test_corpus_shares(app, db):
    if not (CORPUS / "labels.json").is_file():
        unavailable(
            f"the labelled corpus is not at {CORPUS}", required_by="NEWSTICKER_REQUIRE_CORPUS"
        )
    labels = json.loads((CORPUS / "labels.json").read_text(encoding="utf-8"))
    off, on = Tally(), Tally()
    skipped: list[str] = []
    ring, salts = keyring(app), site_salts(app)
    returns = services.ReturnSettings(publications=("ticker",))
    for name, label in sorted(labels.items()):
        must_be_off = expectation(label)
        if must_be_off is None:
            continue
        raw = (CORPUS / "messages" / name).read_bytes()
        savepoint = db.begin_nested()
        subscribers = {}
        for address in addresses_of(label, raw):
            try:
                normalise_address(address)
            except InvalidAddress:
                skipped.append(f"{name}: {address}")
                continue
            subscribers[address] = make_subscriber(db, address)
        run = services.start_run(db, source="corpus", trigger="test", now=utcnow())
        services.handle_message(
            db, run, raw, name=name, keyring=ring, salts=salts, settings=returns, now=utcnow()
        )
        db.expire_all()
        for address, subscriber in subscribers.items():
            status = db.scalars(
                select(Subscription.status).where(Subscription.subscriber_id == subscriber.id)
            ).one()
            is_off = status != SubscriptionStatus.CONFIRMED
            tally = off if must_be_off else on
            tally.scored += 1
            if is_off == must_be_off:
                tally.right += 1
            else:
                tally.wrong.append(f"{name}: {address} ({label['category']}, {status})")
        savepoint.rollback()
    print(
        f"\nhard bounces and complaints off the list: {off.right}/{off.scored} = {off.share:.1%}"
        f"\nsoft bounces, delays, reports, auto-replies still on it: "
        f"{on.right}/{on.scored} = {on.share:.1%}"
        f"\nnot scored (no valid address): {len(skipped)}"
    )
    for line in off.wrong + on.wrong:
        print("  wrong:", line)
    assert off.scored > 80 and on.scored > 180
    assert off.share >= REQUIRED_SHARE, off.wrong
    assert on.share >= REQUIRED_SHARE, on.wrong
