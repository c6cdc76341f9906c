"""The composer with language versions: article texts, badges, preview and test send per language."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from newsticker.issues.models import ArticleVersion, Issue, IssueEntry
from newsticker.items.services import propose_version
from tests.factories import create_editor, make_issue, make_item, make_subscriber

pytestmark = pytest.mark.usefixtures("no_csrf")


@pytest.fixture
def issue(db) -> Issue:
    item = make_item(db)
    propose_version(
        db,
        item,
        {"language": "ar", "title": "فطور", "summary": "نفطر معاً.", "description": ""},
        source="editor",
        user=create_editor(db),
    )
    found = make_issue(db, items=[item], publication="newsletter")
    found.entries.append(
        IssueEntry(section="articles", title="Neues aus dem Büro", body="Text", language="de")
    )
    make_subscriber(db, "qari@example.org", language="ar")
    make_subscriber(db, "reader@example.org", publications=("ticker",), language="en")
    db.flush()
    return found


def _article(issue: Issue) -> IssueEntry:
    return next(e for e in issue.entries if e.is_article)


def _url(issue: Issue) -> str:
    return f"/redaktion/ausgaben/{issue.id}/artikel/{_article(issue).id}/fassungen"


def _login(client) -> None:
    from tests.factories import login

    login(client)


def test_the_composer_shows_the_languages_of_each_entry_and_of_the_issue(client, db, issue):
    _login(client)
    html = client.get(f"/redaktion/ausgaben/{issue.id}").get_data(as_text=True)
    assert (
        '<span class="badge badge-language" lang="de">de</span> · <span class="badge badge-language" lang="ar">ar</span>'
        in html
    )
    # The newsletter also goes to the ticker's readers: German, Arabic and English.
    for code in ("de", "ar", "en"):
        assert f'vorschau?sprache={code}" lang="{code}"' in html
    preview = client.get(f"/redaktion/ausgaben/{issue.id}/vorschau?sprache=ar").get_data(
        as_text=True
    )
    assert 'aria-current="page">' in preview and "sprache=en" in preview


def test_an_editor_adds_an_article_text_in_another_language(client, db, issue):
    _login(client)
    entry = _article(issue)
    prefix = f"version-{entry.id}"
    response = client.post(
        _url(issue),
        data={
            f"{prefix}-version": issue.version,
            f"{prefix}-language": "ar",
            f"{prefix}-title": "أخبار المكتب",
            f"{prefix}-body": "نص",
        },
    )
    assert response.status_code == 303
    db.expire_all()
    (version,) = _article(issue).versions
    assert (version.language, version.title, version.status) == ("ar", "أخبار المكتب", "approved")
    frame = client.get(f"/redaktion/ausgaben/{issue.id}/vorschau.html?sprache=ar")
    assert "أخبار المكتب" in frame.get_data(as_text=True)
    # And removes it again.
    issue = db.get(Issue, issue.id)
    response = client.post(_url(issue), data={f"{prefix}-version": issue.version, "remove": "ar"})
    assert response.status_code == 303
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(ArticleVersion)) == 0


@pytest.mark.parametrize(
    ("language", "title", "body"),
    [
        ("de", "Titel", "Text"),
        ("xx", "Titel", "Text"),
        ("ar", "", "نص"),
        ("ar", "عنوان", "<script>x</script>"),
    ],
)
def test_a_bad_article_text_is_refused_and_nothing_is_stored(
    client, db, issue, language, title, body
):
    _login(client)
    entry = _article(issue)
    prefix = f"version-{entry.id}"
    client.set_cookie("newsticker_lang", "en")
    response = client.post(
        _url(issue),
        data={
            f"{prefix}-version": issue.version,
            f"{prefix}-language": language,
            f"{prefix}-title": title,
            f"{prefix}-body": body,
        },
    )
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(ArticleVersion)) == 0


def test_the_test_send_sends_one_mail_per_language_that_goes_out(client, db, issue, caught):
    _login(client)
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/test",
        data={"addresses": "test@example.org", "language": "all"},
    )
    assert response.status_code == 303
    received = caught()
    assert len(received) == 3
    bodies = [m.body("html") for m in received]
    assert sum('<html lang="ar" dir="rtl">' in b for b in bodies) == 1
    assert sum("فطور" in b for b in bodies) == 1
    assert sum('<html lang="en" dir="ltr">' in b for b in bodies) == 1


def test_an_editor_publishes_a_translators_article_text(client, db, issue):
    from newsticker.issues.services import propose_article_version

    _login(client)
    entry = _article(issue)
    waiting = propose_article_version(
        db, entry, {"language": "uk", "title": "Новини", "body": "Текст"}, source="translator"
    )
    assert waiting.status == "submitted"
    issue = db.get(Issue, issue.id)
    frame = client.get(f"/redaktion/ausgaben/{issue.id}/vorschau.html?sprache=uk")
    assert "Новини" not in frame.get_data(as_text=True)
    prefix = f"version-{entry.id}"
    response = client.post(_url(issue), data={f"{prefix}-version": issue.version, "approve": "uk"})
    assert response.status_code == 303
    db.expire_all()
    assert _article(db.get(Issue, issue.id)).versions[0].status == "approved"
    frame = client.get(f"/redaktion/ausgaben/{issue.id}/vorschau.html?sprache=uk")
    assert "Новини" in frame.get_data(as_text=True)
