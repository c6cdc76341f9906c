"""Volunteer translators: the editors' list, asking, the private link, declining, review."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from newsticker import jobs
from newsticker.core.audit import AuditEvent
from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.tokens import token_digest
from newsticker.issues.models import ArticleVersion, IssueEntry
from newsticker.items.models import ItemStatus, ItemVersion, VersionStatus
from newsticker.items.services.versions import approve_version, delete_version, reject_version
from newsticker.translators.models import RequestStatus, TranslationRequest, Translator
from newsticker.translators.services import LinkClosed, submit_translation
from tests.factories import make_issue, make_item, make_request, make_translator, today

pytestmark = pytest.mark.usefixtures("no_csrf")

LINK = re.compile(r"/uebersetzen/([A-Za-z0-9_-]+)")
ARABIC = {
    "language": "ar",
    "title": "فطور متعدد الثقافات",
    "summary": "نفطر معاً ونتعرف على الجيران.",
    "description": "الجميع **مرحب بهم**.",
}


def versions(db):
    return db.scalar(select(func.count()).select_from(ItemVersion))


def actions(db, prefix="translation."):
    return [
        e.action
        for e in db.scalars(
            select(AuditEvent).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)
        )
    ]


@pytest.fixture
def asked(app, db):
    """An approved German item, a translator into Arabic, and an open request: (request, path)."""
    item = make_item(db)
    translator = make_translator(db)
    request, token = make_request(db, item, translator, due_on=today() + timedelta(days=5))
    return request, f"/uebersetzen/{token}"


# ------------------------------------------------------------------ the editors' list


def test_editor_adds_and_changes_a_translator(client, db, editor):
    response = client.post(
        "/redaktion/uebersetzungen/neu",
        data={
            "name": "Olena Kovalenko",
            "email": "Olena@Example.org",
            "languages": ["uk", "ru"],
            "mail_language": "de",
            "active": "y",
            "note": "Abends erreichbar",
        },
    )
    assert response.status_code == 303
    translator = db.scalars(select(Translator)).one()
    assert (translator.email, translator.languages) == ("olena@example.org", ["uk", "ru"])
    page = client.get("/redaktion/uebersetzungen").get_data(as_text=True)
    assert "Olena Kovalenko" in page
    response = client.post(f"/redaktion/uebersetzungen/{translator.id}/aktiv")
    assert response.status_code == 303
    db.expire_all()
    assert translator.active is False
    assert actions(db, "translator.") == ["translator.added", "translator.deactivated"]


@pytest.mark.parametrize(
    ("change", "field_error"),
    [
        ({"languages": []}, "Sprache"),
        ({"email": "not an address"}, "E-Mail"),
        ({"name": ""}, "Namen"),
        ({"languages": ["xx"]}, "Liste"),
    ],
)
def test_bad_translator_input_stores_nothing(client, db, editor, change, field_error):
    data = {"name": "Ali", "email": "ali@example.org", "languages": ["fa"], "mail_language": "de"}
    data.update(change)
    response = client.post("/redaktion/uebersetzungen/neu", data=data)
    assert response.status_code == 422
    assert field_error in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Translator)) == 0


def test_the_same_address_twice_is_refused(client, db, editor):
    make_translator(db, email="amal@example.org")
    data = {"name": "A", "email": "AMAL@example.org", "languages": ["ar"], "mail_language": "de"}
    response = client.post("/redaktion/uebersetzungen/neu", data=data)
    assert response.status_code == 422
    assert db.scalar(select(func.count()).select_from(Translator)) == 1


# ------------------------------------------------------------------ asking


def test_editor_asks_and_the_translator_gets_a_mail_in_their_language(client, db, editor, caught):
    item = make_item(db)
    translator = make_translator(db)
    make_translator(db, name="Nur Deutsch", email="de@example.org", languages=["tr"])
    page = client.get(f"/redaktion/uebersetzungen/eintrag/{item.id}/anfragen")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # Only translators of a language are offered under it; the original's is not offered.
    assert f'value="ar:{translator.id}"' in html and f'value="fa:{translator.id}"' in html
    assert 'value="de:' not in html
    response = client.post(
        f"/redaktion/uebersetzungen/eintrag/{item.id}/anfragen",
        data={"whom": f"ar:{translator.id}", "note": "Bitte bis Freitag", "due_on": ""},
    )
    assert response.status_code == 303
    request = db.scalars(select(TranslationRequest)).one()
    assert (request.status, request.language, request.created_by_id) == (
        RequestStatus.OPEN,
        "ar",
        editor.id,
    )
    assert request.expires_at - request.created_at == timedelta(days=14)
    mail = caught()[0]
    assert mail.to == "amal@example.org"
    assert "Could you translate" in mail.subject and "Arabic" in mail.subject
    token = LINK.search(mail.body("plain")).group(1)
    # Only the digest is stored.
    assert request.token_digest == token_digest(token) and token not in request.token_digest
    assert actions(db) == ["translation.requested"]
    show = client.get(f"/redaktion/einreichungen/{item.id}").get_data(as_text=True)
    assert "Amal Haddad" in show and "Auf die Übersetzerin" not in show


def test_asking_a_translator_for_a_language_they_do_not_translate_is_refused(client, db, editor):
    item = make_item(db)
    translator = make_translator(db)
    response = client.post(
        f"/redaktion/uebersetzungen/eintrag/{item.id}/anfragen",
        data={"whom": f"tr:{translator.id}"},
    )
    assert response.status_code == 422
    assert db.scalar(select(func.count()).select_from(TranslationRequest)) == 0
    assert db.scalar(select(func.count()).select_from(QueuedMail)) == 0


def test_asking_twice_while_the_first_is_open_is_refused(client, db, editor, asked):
    request, _path = asked
    response = client.post(
        f"/redaktion/uebersetzungen/eintrag/{request.item_id}/anfragen",
        data={"whom": f"ar:{request.translator_id}"},
    )
    assert response.status_code == 422
    assert "already been asked" in response.get_data(
        as_text=True
    ) or "bereits" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(TranslationRequest)) == 1


# ------------------------------------------------------------------ the translator's page


def test_the_page_shows_the_original_and_right_to_left_fields(client, asked):
    _request, path = asked
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert 'name="robots" content="noindex' in html
    # In the translator's language (English), whatever the browser says.
    assert '<html lang="en"' in html and "Translation into Arabic" in html
    assert "Interkulturelles Frühstück" in html and "Stadtteilhaus" in html
    assert re.search(
        r'<input[^>]*id="title"[^>]*dir="rtl"|<input[^>]*dir="rtl"[^>]*id="title"', html
    )
    assert re.search(
        r'<textarea[^>]*dir="rtl"[^>]*id="summary"|<textarea[^>]*id="summary"[^>]*dir="rtl"', html
    )


def test_submitting_stores_a_version_waiting_for_review_and_closes_the_link(client, db, asked):
    request, path = asked
    response = client.post(path, data=ARABIC)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{path}/danke")
    assert "Thank you" in client.get(f"{path}/danke").get_data(as_text=True)
    db.expire_all()
    version = db.scalars(select(ItemVersion)).one()
    assert (version.language, version.title, version.status, version.source) == (
        "ar",
        ARABIC["title"],
        VersionStatus.SUBMITTED,
        "translator",
    )
    assert request.status == RequestStatus.SUBMITTED
    assert request.item_version_id == version.id
    assert actions(db) == ["translation.requested", "translation.submitted"]
    # The link is used up: it says so, with 410, and stores nothing more.
    again = client.get(path)
    assert again.status_code == 410
    assert "already been sent" in again.get_data(as_text=True)
    reused = client.post(path, data={**ARABIC, "title": "عنوان آخر"})
    assert reused.status_code == 410
    db.expire_all()
    assert db.scalars(select(ItemVersion)).one().title == ARABIC["title"]


@pytest.mark.parametrize(
    "data",
    [
        {**ARABIC, "title": "", "summary": ""},  # an empty version
        {**ARABIC, "title": "  "},  # only spaces
        {**ARABIC, "title": "x" * 201},  # too long, as in a submission
        {**ARABIC, "language": "fa"},  # a language the request is not for
        {**ARABIC, "language": "xx"},  # not a language at all
    ],
)
def test_bad_translations_store_nothing(client, db, asked, data):
    request, path = asked
    response = client.post(path, data=data)
    assert response.status_code == 422
    assert 'class="error-summary"' in response.get_data(as_text=True)
    db.expire_all()
    assert versions(db) == 0
    assert request.status == RequestStatus.OPEN
    assert actions(db) == ["translation.requested"]


def test_an_expired_link_is_gone_and_stores_nothing(client, db, asked):
    request, path = asked
    request.expires_at = utcnow() - timedelta(minutes=1)
    db.flush()
    response = client.get(path)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert client.post(path, data=ARABIC).status_code == 410
    assert client.post(f"{path}/ablehnen", data={"reason": "x"}).status_code == 410
    db.expire_all()
    assert versions(db) == 0 and request.status == RequestStatus.OPEN


@pytest.mark.parametrize("token", ["x" * 43, "short", "a" * 300, "bad%20token"])
def test_an_unknown_link_is_not_found(client, db, asked, token):
    response = client.get(f"/uebersetzen/{token}")
    assert response.status_code == 404
    assert client.post(f"/uebersetzen/{token}", data=ARABIC).status_code == 404
    assert versions(db) == 0


def test_declining_tells_the_editor_and_closes_the_link(client, db, editor, caught):
    item = make_item(db)
    translator = make_translator(db)
    client.post(
        f"/redaktion/uebersetzungen/eintrag/{item.id}/anfragen",
        data={"whom": f"fa:{translator.id}"},
    )
    path = LINK.search(caught()[0].body("plain")).group(0)
    response = client.post(f"{path}/ablehnen", data={"reason": "Keine Zeit diesen Monat"})
    assert response.status_code == 303
    assert "letting us know" in client.get(f"{path}/danke").get_data(as_text=True)
    request = db.scalars(select(TranslationRequest)).one()
    db.expire_all()
    assert request.status == RequestStatus.DECLINED
    assert request.decline_reason == "Keine Zeit diesen Monat"
    notice = caught()[0]
    assert notice.to == editor.email
    assert "Amal Haddad" in notice.subject and "Keine Zeit diesen Monat" in notice.body("plain")
    declined = client.get(path)
    assert declined.status_code == 410
    assert "declined" in declined.get_data(as_text=True)
    assert client.post(path, data={**ARABIC, "language": "fa"}).status_code == 410
    assert versions(db) == 0
    assert actions(db) == ["translation.requested", "translation.declined"]


def test_a_withdrawn_request_closes_its_link(client, db, editor, asked):
    request, path = asked
    assert (
        client.post(f"/redaktion/uebersetzungen/anfragen/{request.id}/zurueckziehen").status_code
        == 303
    )
    db.expire_all()
    assert request.status == RequestStatus.WITHDRAWN
    assert client.get(path).status_code == 410
    assert client.post(path, data=ARABIC).status_code == 410
    assert versions(db) == 0


# ------------------------------------------------------------------ review and overview


def test_approving_the_version_publishes_the_request(client, db, editor, asked):
    request, path = asked
    client.post(path, data=ARABIC)
    db.expire_all()
    version = db.scalars(select(ItemVersion)).one()
    approve_version(db, version, user=editor)
    db.flush()
    assert request.status == RequestStatus.PUBLISHED
    assert actions(db)[-1] == "translation.published"


def test_the_editor_reviews_side_by_side_and_publishes(client, db, editor, asked):
    request, path = asked
    client.post(path, data=ARABIC)
    page = client.get(f"/redaktion/uebersetzungen/anfragen/{request.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Interkulturelles Frühstück" in html and ARABIC["title"] in html
    assert 'lang="ar" dir="rtl"' in html
    response = client.post(f"/redaktion/uebersetzungen/anfragen/{request.id}/freigeben")
    assert response.status_code == 303
    db.expire_all()
    assert request.status == RequestStatus.PUBLISHED
    version = db.scalars(select(ItemVersion)).one()
    assert (version.status, version.approved_by_id) == (VersionStatus.APPROVED, editor.id)
    public = client.get(f"/angebote/{request.item_id}?sprache=ar").get_data(as_text=True)
    assert ARABIC["title"] in public
    # Deciding twice is refused and changes nothing.
    again = client.post(f"/redaktion/uebersetzungen/anfragen/{request.id}/ablehnen")
    assert again.status_code == 409
    db.expire_all()
    assert version.status == VersionStatus.APPROVED


def test_the_editor_rejects_a_translation_with_a_reason(client, db, editor, asked):
    request, path = asked
    client.post(path, data=ARABIC)
    response = client.post(
        f"/redaktion/uebersetzungen/anfragen/{request.id}/ablehnen", data={"reason": "Zu frei"}
    )
    assert response.status_code == 303
    db.expire_all()
    assert request.status == RequestStatus.REJECTED
    assert db.scalars(select(ItemVersion)).one().status == VersionStatus.REJECTED


def test_a_request_without_a_translation_cannot_be_approved(client, db, editor, asked):
    request, _path = asked
    response = client.post(f"/redaktion/uebersetzungen/anfragen/{request.id}/freigeben")
    assert response.status_code == 409
    db.expire_all()
    assert request.status == RequestStatus.OPEN


def test_approving_the_item_approves_its_waiting_translation_and_publishes_the_request(
    client, db, editor
):
    item = make_item(db, status=ItemStatus.SUBMITTED)
    translator = make_translator(db)
    request, token = make_request(db, item, translator)
    assert client.post(f"/uebersetzen/{token}", data=ARABIC).status_code == 303
    response = client.post(f"/redaktion/einreichungen/{item.id}/freigeben")
    assert response.status_code == 303
    db.expire_all()
    assert item.status == ItemStatus.APPROVED
    assert request.status == RequestStatus.PUBLISHED


def test_rejecting_the_version_closes_the_request(client, db, editor, asked):
    request, path = asked
    client.post(path, data=ARABIC)
    db.expire_all()
    reject_version(db, db.scalars(select(ItemVersion)).one(), user=editor, reason="Zu frei")
    db.flush()
    assert request.status == RequestStatus.REJECTED
    assert actions(db)[-1] == "translation.rejected"


def test_the_dashboard_lists_open_requests_and_marks_the_overdue(client, db, editor):
    item = make_item(db)
    translator = make_translator(db)
    late, _t = make_request(db, item, translator, due_on=today() + timedelta(days=1))
    make_request(db, item, translator, language="fa")
    late.due_on = today() - timedelta(days=2)
    db.flush()
    html = client.get("/redaktion/").get_data(as_text=True)
    section = html[html.index('id="dash-translations-title"') :]
    section = section[: section.index("</section>")]
    assert section.count("<li") == 2
    assert section.count('class="overdue"') == 1
    assert f"/redaktion/uebersetzungen/anfragen/{late.id}" in section


def test_the_expiry_job_closes_unanswered_requests(app, db, asked):
    request, _path = asked
    request.expires_at = utcnow() - timedelta(seconds=1)
    db.flush()
    assert jobs.expire_translation_requests() == 1
    assert request.status == RequestStatus.EXPIRED
    assert jobs.expire_translation_requests() == 0
    assert actions(db)[-1] == "translation.expired"


# ------------------------------------------------------------------ articles of an issue


@pytest.fixture
def article(db):
    """A draft newsletter with one German article."""
    issue = make_issue(db, publication="newsletter")
    entry = IssueEntry(
        section="articles",
        position=0,
        title="Neue Beratungszeiten",
        body="Ab **Mai** auch samstags.",
    )
    issue.entries.append(entry)
    db.flush()
    return entry


def test_an_article_is_translated_from_the_composer(client, db, editor, caught, article):
    translator = make_translator(db)
    composer = client.get(f"/redaktion/ausgaben/{article.issue_id}").get_data(as_text=True)
    assert f"/redaktion/uebersetzungen/artikel/{article.id}/anfragen" in composer
    response = client.post(
        f"/redaktion/uebersetzungen/artikel/{article.id}/anfragen",
        data={"whom": f"fa:{translator.id}"},
    )
    assert response.status_code == 303
    path = LINK.search(caught()[0].body("plain")).group(0)
    page = client.get(path).get_data(as_text=True)
    assert "Neue Beratungszeiten" in page and 'id="summary"' not in page
    # The article's rules: a title is needed (its body is the description here).
    bad = client.post(path, data={"language": "fa", "title": "", "description": "متن"})
    assert bad.status_code == 422
    assert db.scalar(select(func.count()).select_from(ArticleVersion)) == 0
    good = {
        "language": "fa",
        "title": "ساعات مشاوره جدید",
        "description": "از **ماه مه** شنبه‌ها هم.",
    }
    assert client.post(path, data=good).status_code == 303
    request = db.scalars(select(TranslationRequest)).one()
    db.expire_all()
    version = db.scalars(select(ArticleVersion)).one()
    assert (version.title, version.body, version.status) == (
        good["title"],
        good["description"],
        VersionStatus.SUBMITTED,
    )
    assert request.article_version_id == version.id
    response = client.post(f"/redaktion/uebersetzungen/anfragen/{request.id}/freigeben")
    assert response.status_code == 303
    db.expire_all()
    assert version.status == VersionStatus.APPROVED
    assert request.status == RequestStatus.PUBLISHED


def test_an_item_entry_is_not_an_article_to_translate(client, db, editor):
    issue = make_issue(db, items=[make_item(db)])
    response = client.get(f"/redaktion/uebersetzungen/artikel/{issue.entries[0].id}/anfragen")
    assert response.status_code == 404


def test_of_two_answers_at_once_only_one_gets_through(app, db, asked):
    request, _path = asked
    # Another transaction answered meanwhile: the row's version moved on under us.
    db.execute(
        update(TranslationRequest)
        .where(TranslationRequest.id == request.id)
        .values(version=TranslationRequest.version + 1)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(LinkClosed):
        submit_translation(db, request, now=utcnow(), **ARABIC)
    db.rollback()
    assert versions(db) == 0


def test_a_translation_an_editor_deleted_leaves_the_overview(client, db, editor, asked):
    request, path = asked
    client.post(path, data=ARABIC)
    db.expire_all()
    delete_version(db, db.scalars(select(ItemVersion)).one(), user=editor)
    db.expire_all()
    assert request.item_version_id is None
    html = client.get("/redaktion/").get_data(as_text=True)
    assert "Keine Übersetzung ist offen." in html
    assert jobs.expire_translation_requests() == 1
    assert request.status == RequestStatus.REJECTED
