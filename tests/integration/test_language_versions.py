"""Language versions of items and articles: the rules, and what is stored or refused."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from newsticker.core.site import site_links
from newsticker.issues.models import ArticleVersion, IssueEntry
from newsticker.issues.services import propose_article_version
from newsticker.items import services
from newsticker.items.models import ItemStatus, ItemVersion, VersionStatus
from newsticker.items.services import VersionRejected, item_text, propose_version
from tests.factories import create_editor, make_issue, make_item

ARABIC = {
    "language": "ar",
    "title": "فطور متعدد الثقافات",
    "summary": "نفطر معاً ونتعرف على الجيران.",
    "description": "الجميع **مرحب** بهم.",
}


def _count(db, model=ItemVersion) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_a_submitters_version_waits_and_the_editors_is_approved(db):
    item = make_item(db)
    editor = create_editor(db)
    waiting = propose_version(db, item, dict(ARABIC), source="submitter")
    assert waiting.status == VersionStatus.SUBMITTED
    assert item_text(item, "ar").title == item.title  # not shown before approval
    assert "فطور" not in item.search_text
    ukrainian = {**ARABIC, "language": "uk", "title": "Спільний сніданок"}
    approved = propose_version(db, item, ukrainian, source="editor", user=editor)
    assert approved.status == VersionStatus.APPROVED
    assert approved.approved_by_id == editor.id
    shown = item_text(item, "uk")
    assert (shown.title, shown.language, shown.dir, shown.original) == (
        "Спільний сніданок",
        "uk",
        "ltr",
        False,
    )
    assert services.search_text_of("Спільний") in item.search_text
    actions = [entry.action for entry in item.audit]
    assert actions.count("version_proposed") == 2


def test_approving_a_version_shows_it_right_to_left_and_makes_it_searchable(db):
    item = make_item(db)
    version = propose_version(db, item, dict(ARABIC), source="translator")
    services.approve_version(db, version, user=create_editor(db))
    shown = item_text(item, "ar")
    assert (shown.title, shown.dir, shown.description_text) == (
        ARABIC["title"],
        "rtl",
        "الجميع مرحب بهم.",
    )
    assert services.search_text_of("فطور") in item.search_text
    # A language without a version shows the original, marked as such.
    assert item_text(item, "fa").language == "de"
    assert item_text(item, "fa").original


def test_a_new_text_in_the_same_language_replaces_the_version_and_waits_again(db):
    item = make_item(db)
    editor = create_editor(db)
    propose_version(db, item, dict(ARABIC), source="editor", user=editor)
    propose_version(db, item, {**ARABIC, "title": "عنوان جديد"}, source="translator")
    db.flush()
    assert _count(db) == 1
    (version,) = item.versions
    assert (version.title, version.status) == ("عنوان جديد", VersionStatus.SUBMITTED)
    assert item_text(item, "ar").original


def test_approving_the_item_approves_the_versions_sent_with_it(db, app):
    item = make_item(db, status=ItemStatus.SUBMITTED, approved_at=None)
    propose_version(db, item, dict(ARABIC), source="submitter")
    services.approve_item(
        db,
        item,
        user_id=create_editor(db).id,
        now=services.current_time(),
        links=site_links(app),
    )
    assert item.versions[0].status == VersionStatus.APPROVED
    assert item_text(item, "ar").title == ARABIC["title"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"language": "xx"}, "language"),
        ({"language": ""}, "language"),
        ({"language": "de"}, "language"),  # the item's own language
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"summary": ""}, "summary"),
        ({"title": "x" * 201}, "title"),
        ({"summary": "x" * 601}, "summary"),
        ({"description": "x" * 10_001}, "description"),
        ({"title": "zwei\nZeilen"}, "title"),
        ({"summary": "ein\x00Zeichen"}, "summary"),
    ],
)
def test_bad_versions_are_refused_and_nothing_is_stored(db, change, field):
    item = make_item(db)
    before = (item.search_text, len(item.audit))
    with pytest.raises(VersionRejected) as refused:
        propose_version(db, item, {**ARABIC, **change}, source="submitter")
    assert field in refused.value.errors
    assert all(str(message) for message in refused.value.errors[field])
    db.flush()
    assert _count(db) == 0
    assert (item.search_text, len(item.audit)) == before


def test_the_message_says_why_in_the_current_language(app, db):
    item = make_item(db)
    errors = services.version_errors(item, {**ARABIC, "language": "de"})
    with force_locale("en"):
        assert "original text is already in this language" in str(errors["language"][0])


def test_an_article_version_is_stored_and_refused_like_an_items(db):
    issue = make_issue(db)
    entry = IssueEntry(section="articles", title="Neues aus dem Büro", body="Text", language="de")
    issue.entries.append(entry)
    db.flush()
    version = propose_article_version(
        db, entry, {"language": "ar", "title": "أخبار", "body": "نص"}, source="editor"
    )
    assert version.status == VersionStatus.APPROVED
    assert entry.version_in("ar") is version
    with pytest.raises(VersionRejected) as refused:
        propose_article_version(
            db,
            entry,
            {"language": "de", "title": "", "body": "<script>x</script>"},
            source="editor",
        )
    assert set(refused.value.errors) == {"language", "title", "body"}
    db.flush()
    assert _count(db, ArticleVersion) == 1
