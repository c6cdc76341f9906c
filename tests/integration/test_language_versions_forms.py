"""Versions through the forms: the public submission, the editors' page, the private link."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from newsticker.core.mailqueue import QueuedMail
from newsticker.items.models import Item, ItemStatus, ItemVersion, VersionStatus
from tests.factories import event_form, post_multipart

pytestmark = pytest.mark.usefixtures("no_csrf")

ARABIC = {
    "versions-0-language": "ar",
    "versions-0-title": "مقهى اللغة في الميناء",
    "versions-0-summary": "تدرّب على الألمانية مع الشاي والكعك.",
    "versions-0-description": "لجميع المستويات.",
}


def _counts(db) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        db.scalar(select(func.count()).select_from(model))
        for model in (Item, ItemVersion, QueuedMail)
    )


def _submit(client, **extra: Any):
    return post_multipart(client, "/einreichen", {**event_form(), **extra})


def test_the_form_offers_empty_groups_that_work_without_javascript(client):
    html = client.get("/einreichen").get_data(as_text=True)
    assert 'id="versions"' in html
    for index in (0, 1):
        assert f'name="versions-{index}-language"' in html
        assert f'name="versions-{index}-title"' in html
    assert 'name="versions-2-title"' not in html


def test_a_submission_with_a_version_stores_it_waiting(client, db):
    response = _submit(client, **ARABIC)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    db.expire_all()
    item = db.scalars(select(Item)).one()
    (version,) = item.versions
    assert (version.language, version.title, version.status, version.source) == (
        "ar",
        ARABIC["versions-0-title"],
        VersionStatus.SUBMITTED,
        "submitter",
    )
    assert version.description_text == "لجميع المستويات."


def test_empty_groups_are_no_versions(client, db):
    response = _submit(client, **{"versions-1-language": "uk"})
    assert response.status_code == 303
    db.expire_all()
    assert _counts(db)[:2] == (1, 0)


def _error(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    assert match, f"no error next to {field}"
    return match.group(1)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"versions-0-language": "xx"}, "versions-0-language", "choose a language from the list"),
        ({"versions-0-language": ""}, "versions-0-language", "choose a language from the list"),
        ({"versions-0-language": "de"}, "versions-0-language", "already in this language"),
        ({"versions-0-title": ""}, "versions-0-title", "enter a title"),
        ({"versions-0-summary": " "}, "versions-0-summary", "one or two sentences"),
        ({"versions-0-title": "x" * 201}, "versions-0-title", "at most 200 characters"),
        (
            {
                "versions-1-language": "ar",
                "versions-1-title": "عنوان",
                "versions-1-summary": "ملخص",
            },
            "versions-1-language",
            "already given a text in this language",
        ),
    ],
)
def test_a_bad_version_refuses_the_whole_submission(client, db, change, field, message):
    client.set_cookie("newsticker_lang", "en")
    response = _submit(client, **{**ARABIC, **change})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in _error(html, field)
    assert f'href="#{field}"' in html  # the summary on top leads to the field
    db.expire_all()
    assert _counts(db) == (0, 0, 0)
    # What was written stays in the form, and the group is open.
    assert 'id="versions" open' in html


def test_approving_the_submission_approves_its_version(client, db, app):
    from newsticker.core.site import site_links
    from newsticker.items import services
    from tests.factories import create_editor

    _submit(client, **ARABIC)
    db.expire_all()
    item = db.scalars(select(Item)).one()
    services.approve_item(
        db, item, user_id=create_editor(db).id, now=services.current_time(), links=site_links()
    )
    assert item.status == ItemStatus.APPROVED
    assert item.versions[0].status == VersionStatus.APPROVED
