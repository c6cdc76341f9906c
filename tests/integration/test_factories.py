"""The factories make what they say (the tests lean on them)."""

from subscribers import services
from tests.factories import counts, make_subscriber


def test_factory_makes_a_confirmed_subscriber(db):
    subscriber = make_subscriber(db, "Fac@Example.org", publications=("ticker", "newsletter"))
    assert subscriber.email_key == "fac@example.org"
    assert sorted(services.confirmed_publications(subscriber)) == ["newsletter", "ticker"]
    assert counts(db)["events"] == 2
