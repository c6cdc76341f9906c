"""Image files go only once the transaction that stops using them commits."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import pytest

from newsticker.core.db import utcnow
from newsticker.core.unit_of_work import unit_of_work
from newsticker.items import services
from newsticker.items.images import process_image, store_image, upload_dir
from newsticker.items.models import Item
from tests.factories import (
    TZ,
    create_editor,
    event_form,
    image_bytes,
    login,
    make_item,
)
from tests.factories import post_multipart as post_to


class Refused(Exception):
    """Something after the image step failed, so the unit of work rolls back."""


@pytest.fixture(autouse=True)
def _no_csrf(app):
    app.config["WTF_CSRF_ENABLED"] = False


def _fail_after(db, work: Callable[[], object]) -> None:
    with unit_of_work(db, None):
        work()
        raise Refused()


def _rolled_back(db, work: Callable[[], object]) -> None:
    """Do the work in a unit of work that fails afterwards, so it rolls back."""
    with pytest.raises(Refused):
        _fail_after(db, work)


def _stored_image() -> str:
    return store_image(upload_dir(), process_image(io.BytesIO(image_bytes())))


def _item_with_image(db, **values):
    """Store an item with an image and commit it (a rollback in the test keeps it)."""
    item = make_item(db, image_file=_stored_image(), image_alt="Ein rotes Bild", **values)
    db.commit()
    return item


def _data(item: Item) -> services.ItemData:
    return services.ItemData(
        kind="event",
        title=item.title,
        summary=item.summary,
        organiser=item.organiser,
        starts_at=item.starts_at,
        ends_at=item.ends_at,
        image_alt=item.image_alt,
    )


def _replace(db, item: Item, **kwargs) -> None:
    services.update_item(
        db,
        item,
        _data(item),
        version=item.version,
        actor="editor",
        tz=TZ,
        now=utcnow(),
        upload_dir=upload_dir(),
        **kwargs,
    )


def test_a_committed_replace_removes_the_old_file(app, db):
    item = _item_with_image(db, status="submitted")
    old = item.image_file
    with unit_of_work(db, None):
        _replace(db, item, image=process_image(io.BytesIO(image_bytes("PNG"))))
        # Not yet: the transaction may still fail.
        assert (upload_dir() / old).exists()
    assert not (upload_dir() / old).exists()
    assert item.image_file != old and (upload_dir() / item.image_file).exists()


def test_a_rolled_back_replace_keeps_the_old_file(app, db):
    item = _item_with_image(db, status="submitted")
    item_id, old = item.id, item.image_file
    _rolled_back(db, lambda: _replace(db, item, image=process_image(io.BytesIO(image_bytes()))))
    assert (upload_dir() / old).exists()
    assert db.get(Item, item_id).image_file == old


def test_a_removal_waits_for_the_commit(app, db):
    item = _item_with_image(db, status="submitted")
    old = item.image_file
    _rolled_back(db, lambda: _replace(db, item, remove_image=True))
    assert (upload_dir() / old).exists()
    item = db.get(Item, item.id)
    with unit_of_work(db, None):
        _replace(db, item, remove_image=True)
    assert item.image_file is None
    assert not (upload_dir() / old).exists()


def test_a_form_refused_after_the_image_step_keeps_the_old_file(client, db):
    """The editor saves a new image and publishes, but publishing is refused."""
    create_editor(db)
    login(client)
    item = _item_with_image(db, status="withdrawn")
    item_id, old = item.id, item.image_file
    data = event_form(version=str(item.version), image_alt="Ein Bild", approve="1")
    data["image"] = (io.BytesIO(image_bytes("PNG")), "neu.png")
    response = post_to(client, f"/redaktion/einreichungen/{item_id}/bearbeiten", data)
    assert response.status_code == 409
    db.expire_all()
    assert db.get(Item, item_id).image_file == old
    assert (upload_dir() / old).exists()
    served = client.get(f"/angebote/bilder/{old}")
    assert served.status_code == 200
    served.close()


def test_an_editor_replacing_the_image_removes_the_old_file(client, db):
    create_editor(db)
    login(client)
    item = _item_with_image(db, status="submitted")
    item_id, old = item.id, item.image_file
    data = event_form(version=str(item.version), image_alt="Ein Bild")
    data["image"] = (io.BytesIO(image_bytes("PNG")), "neu.png")
    response = post_to(client, f"/redaktion/einreichungen/{item_id}/bearbeiten", data)
    assert response.status_code == 303
    db.expire_all()
    new = db.get(Item, item_id).image_file
    assert new and new != old and (upload_dir() / new).exists()
    assert not (upload_dir() / old).exists()


def test_expiry_deletes_the_files_of_purged_items_after_the_commit(app, db):
    item = _item_with_image(db, status="rejected")
    item.updated_at = utcnow() - timedelta(days=400)
    db.commit()
    name = item.image_file

    def expire() -> services.ExpiryRun:
        return services.expire_items(db, now=utcnow(), retention_days=180, upload_dir=upload_dir())

    _rolled_back(db, expire)
    assert (upload_dir() / name).exists()
    with unit_of_work(db, None):
        assert expire().purged == 1
        assert (upload_dir() / name).exists()
    assert not (upload_dir() / name).exists()
