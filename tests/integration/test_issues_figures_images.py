"""Key figures changed in place; one image for the editorial and for each article."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from newsticker.config import get_settings
from newsticker.core.db import utcnow
from newsticker.core.site import site_links
from newsticker.issues.models import Issue, IssueEntry, KeyFigure
from newsticker.issues.rendering import render_issue
from newsticker.items.images import upload_dir
from tests.factories import image_bytes, make_issue, make_item
from tests.factories import post_multipart as post_to

pytestmark = pytest.mark.usefixtures("no_csrf")


def reload(db, issue: Issue) -> Issue:
    db.expire_all()
    return db.get(Issue, issue.id)


@pytest.fixture
def letter(db):
    issue = make_issue(
        db,
        publication="newsletter",
        items=[make_item(db)],
        figures=[("Teilnehmende", "1234.5", "Personen"), ("Kurse", "12", "")],
    )
    db.commit()
    return issue


# ---------------------------------------------------------------- key figures


def figure_form(figure: KeyFigure, **values: str) -> dict[str, str]:
    prefix = f"figure-{figure.id}-"
    # The form's fields, its version too, carry the figure's prefix (ids unique on the page).
    data = {"label": figure.label, "value": figure.value, "unit": figure.unit}
    data.update(values)
    return {prefix + key: value for key, value in data.items()}


def test_the_composer_offers_each_figure_filled_in_the_editors_language(client, editor, letter):
    html = client.get(f"/redaktion/ausgaben/{letter.id}").get_data(as_text=True)
    first = letter.figures[0]
    assert f'action="/redaktion/ausgaben/{letter.id}/zahlen/{first.id}/aendern"' in html
    assert re.search(rf'id="figure-{first.id}-value"[^>]*value="1234,5"', html) or re.search(
        rf'value="1234,5"[^>]*id="figure-{first.id}-value"', html
    )


def test_a_figure_is_changed_in_place(client, editor, db, letter):
    first, second = letter.figures
    version = letter.version
    response = client.post(
        f"/redaktion/ausgaben/{letter.id}/zahlen/{first.id}/aendern",
        data=figure_form(first, version=str(letter.version), value="2.000,25", unit="Menschen"),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#figure-{first.id}")
    issue = reload(db, letter)
    changed = db.get(KeyFigure, first.id)
    assert (changed.value, changed.unit, changed.position) == ("2000.25", "Menschen", 0)
    assert db.get(KeyFigure, second.id).value == "12"
    assert issue.version == version + 1


@pytest.mark.parametrize(
    ("values", "words"),
    [({"value": "viele"}, "als Zahl"), ({"label": ""}, "Bezeichnung")],
)
def test_a_bad_figure_change_is_refused_and_nothing_changes(
    client, editor, db, letter, values, words
):
    first = letter.figures[0]
    response = client.post(
        f"/redaktion/ausgaben/{letter.id}/zahlen/{first.id}/aendern",
        data=figure_form(first, version=str(letter.version), **values),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert words in html
    assert '<details class="more figure-edit" open>' in html  # the form stays open
    db.expire_all()
    figure = db.get(KeyFigure, first.id)
    assert (figure.label, figure.value) == ("Teilnehmende", "1234.5")


def test_a_figure_change_on_an_older_version_is_refused(client, editor, db, letter):
    first = letter.figures[0]
    response = client.post(
        f"/redaktion/ausgaben/{letter.id}/zahlen/{first.id}/aendern",
        data=figure_form(first, version=str(letter.version - 1), value="7"),
    )
    assert response.status_code == 409
    db.expire_all()
    assert db.get(KeyFigure, first.id).value == "1234.5"


def test_a_figure_of_another_issue_is_refused(client, editor, db, letter):
    other = make_issue(db, publication="newsletter", number=2, figures=[("X", "1", "")])
    db.commit()
    foreign = other.figures[0]
    response = client.post(
        f"/redaktion/ausgaben/{letter.id}/zahlen/{foreign.id}/aendern",
        data=figure_form(foreign, version=str(letter.version), value="7"),
    )
    assert response.status_code == 409
    db.expire_all()
    assert db.get(KeyFigure, foreign.id).value == "1"


# ---------------------------------------------------------------- images


def save_form(issue: Issue, **values) -> dict:
    data = {"version": str(issue.version), "subject": "", "preheader": "", "editorial": "Hallo"}
    data.update(values)
    return data


def test_the_editorial_carries_an_image_with_its_description(client, editor, db, letter):
    response = post_to(
        client,
        f"/redaktion/ausgaben/{letter.id}",
        save_form(
            letter,
            editorial_image=(io.BytesIO(image_bytes("PNG", (2400, 1200))), "foto.png"),
            editorial_image_alt="Das Team vor dem Rathaus",
        ),
    )
    assert response.status_code == 303
    issue = reload(db, letter)
    name = issue.editorial_image_file
    assert name and (upload_dir() / name).read_bytes()[:2] == b"\xff\xd8"  # a JPEG now
    from PIL import Image

    with Image.open(upload_dir() / name) as img:
        assert max(img.size) == 1600  # resized
    assert issue.editorial_image_alt == "Das Team vor dem Rathaus"
    prepared = render_issue(issue, "de", links=site_links())
    html = prepared.web_html()
    assert f'src="http://localhost/angebote/bilder/{name}"' in html  # absolute, from the site
    assert 'alt="Das Team vor dem Rathaus"' in html
    served = client.get(f"/angebote/bilder/{name}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    served.close()

    # Removing it keeps the text and forgets the image.
    response = post_to(
        client, f"/redaktion/ausgaben/{issue.id}", save_form(issue, remove_editorial_image="y")
    )
    assert response.status_code == 303
    issue = reload(db, issue)
    assert issue.editorial_image_file is None and issue.editorial_image_alt == ""
    assert not (upload_dir() / name).exists()


def test_an_image_without_description_is_refused_and_nothing_is_stored(client, editor, db, letter):
    before = set(upload_dir().glob("*.jpg")) if upload_dir().exists() else set()
    response = post_to(
        client,
        f"/redaktion/ausgaben/{letter.id}",
        save_form(
            letter,
            editorial="Neu",
            editorial_image=(io.BytesIO(image_bytes()), "foto.jpg"),
            editorial_image_alt="  ",
        ),
    )
    assert response.status_code == 422
    assert "beschreiben Sie das Bild" in response.get_data(as_text=True)
    issue = reload(db, letter)
    assert issue.editorial_image_file is None and issue.editorial == ""
    after = set(upload_dir().glob("*.jpg")) if upload_dir().exists() else set()
    assert after == before


def test_a_file_that_is_no_image_is_refused(client, editor, db, letter):
    response = post_to(
        client,
        f"/redaktion/ausgaben/{letter.id}",
        save_form(
            letter,
            editorial_image=(io.BytesIO(b"%PDF-1.4 not an image"), "x.jpg"),
            editorial_image_alt="Bild",
        ),
    )
    assert response.status_code == 422
    assert "JPEG, PNG oder WebP" in response.get_data(as_text=True)
    assert reload(db, letter).editorial_image_file is None


def test_an_article_carries_an_image(client, editor, db, letter):
    response = post_to(
        client,
        f"/redaktion/ausgaben/{letter.id}/artikel",
        {
            "version": str(letter.version),
            "title": "Neues Beratungsangebot",
            "body": "Text",
            "link": "",
            "language": "de",
            "image": (io.BytesIO(image_bytes()), "bild.jpg"),
            "image_alt": "Beraterin am Schreibtisch",
        },
    )
    assert response.status_code == 303
    entry = db.scalars(select(IssueEntry).where(IssueEntry.section == "articles")).one()
    assert entry.image_file and entry.image_alt == "Beraterin am Schreibtisch"
    issue = reload(db, letter)
    html = render_issue(issue, "de", links=site_links()).web_html()
    assert f'src="http://localhost/angebote/bilder/{entry.image_file}"' in html
    assert 'alt="Beraterin am Schreibtisch"' in html
    # Removing the article deletes its image once that commits.
    name = entry.image_file
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/eintraege/{entry.id}",
        data={"version": issue.version, "action": "remove"},
    )
    assert response.status_code == 303
    assert not (upload_dir() / name).exists()


def test_an_article_image_without_description_is_refused(client, editor, db, letter):
    response = post_to(
        client,
        f"/redaktion/ausgaben/{letter.id}/artikel",
        {
            "version": str(letter.version),
            "title": "Ohne Beschreibung",
            "body": "",
            "link": "",
            "language": "de",
            "image": (io.BytesIO(image_bytes()), "bild.jpg"),
            "image_alt": "",
        },
    )
    assert response.status_code == 422
    assert db.scalars(select(IssueEntry).where(IssueEntry.section == "articles")).first() is None


def test_the_service_keeps_a_stored_image_only_with_a_description(db):
    from newsticker.issues import services
    from newsticker.items.images import process_image

    issue = make_issue(db, publication="newsletter")
    change = services.ImageChange(
        upload_dir(), image=process_image(io.BytesIO(image_bytes())), alt="Ein Bild"
    )
    services.update_issue(
        db,
        issue,
        subject="",
        preheader="",
        editorial="",
        version=None,
        user_id=None,
        now=utcnow(),
        image=change,
    )
    assert issue.editorial_image_file
    # Keeping the image but clearing its description is refused.
    with pytest.raises(services.IssueError) as caught:
        services.update_issue(
            db,
            issue,
            subject="",
            preheader="",
            editorial="",
            version=None,
            user_id=None,
            now=utcnow(),
            image=services.ImageChange(upload_dir(), alt=""),
        )
    assert caught.value.field == "editorial_image_alt"
    assert get_settings() is not None


def article(db, letter, **values) -> IssueEntry:
    entry = IssueEntry(section="articles", position=0, title="Neues Angebot", **values)
    letter.entries.append(entry)
    db.commit()
    return entry


def image_form(entry: IssueEntry, version: int, **values) -> dict:
    return {
        f"article-{entry.id}-{key}": value
        for key, value in {"version": str(version), **values}.items()
    }


def test_an_articles_image_is_added_replaced_and_removed_later(client, editor, db, letter):
    entry = article(db, letter)
    html = client.get(f"/redaktion/ausgaben/{letter.id}").get_data(as_text=True)
    assert f'action="/redaktion/ausgaben/{letter.id}/artikel/{entry.id}/bild"' in html
    response = post_to(
        client,
        f"/redaktion/ausgaben/{letter.id}/artikel/{entry.id}/bild",
        image_form(
            entry,
            reload(db, letter).version,
            image=(io.BytesIO(image_bytes()), "a.jpg"),
            image_alt="Erstes Bild",
        ),
    )
    assert response.status_code == 303
    db.expire_all()
    first = db.get(IssueEntry, entry.id).image_file
    assert first and (upload_dir() / first).exists()

    response = post_to(
        client,
        f"/redaktion/ausgaben/{letter.id}/artikel/{entry.id}/bild",
        image_form(
            entry,
            reload(db, letter).version,
            image=(io.BytesIO(image_bytes("PNG")), "b.png"),
            image_alt="Zweites Bild",
        ),
    )
    assert response.status_code == 303
    db.expire_all()
    second = db.get(IssueEntry, entry.id)
    assert second.image_file != first and second.image_alt == "Zweites Bild"
    assert not (upload_dir() / first).exists()  # the replaced file went after the commit

    response = post_to(
        client,
        f"/redaktion/ausgaben/{letter.id}/artikel/{entry.id}/bild",
        image_form(entry, reload(db, letter).version, image_alt="", remove_image="y"),
    )
    assert response.status_code == 303
    db.expire_all()
    gone = db.get(IssueEntry, entry.id)
    assert gone.image_file is None and gone.image_alt == ""


def test_an_articles_image_description_cannot_be_emptied(client, editor, db, letter):
    entry = article(db, letter, image_file="x" * 24 + ".jpg", image_alt="Altes Bild")
    response = post_to(
        client,
        f"/redaktion/ausgaben/{letter.id}/artikel/{entry.id}/bild",
        image_form(entry, letter.version, image_alt=""),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "beschreiben Sie das Bild" in html
    assert '<details class="more article-image" open>' in html
    db.expire_all()
    assert db.get(IssueEntry, entry.id).image_alt == "Altes Bild"


def test_an_item_entry_takes_no_image_here(db, letter):
    from newsticker.issues import services

    item_entry = letter.entries[0]
    with pytest.raises(services.IssueError):
        services.set_article_image(
            db,
            letter,
            item_entry.id,
            services.ImageChange(upload_dir(), alt="x"),
            version=None,
            user_id=None,
            now=utcnow(),
        )
