"""The public archive: sent issues as they were sent, without personal links; Atom feeds."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest

from newsticker.config import get_settings
from newsticker.core.site import site_links
from newsticker.issues import services
from tests.factories import make_issue, make_item


@pytest.fixture
def sent(db):
    issue = make_issue(db, items=[make_item(db)], subject="Newsticker Nr. 1", preheader="Vorschau")
    now = services.current_time()
    services.schedule_issue(
        db,
        issue,
        send_at=now + timedelta(minutes=5),
        now=now,
        max_html_bytes=get_settings().delivery.max_html_bytes,
        links=site_links(),
        version=issue.version,
        user_id=None,
    )
    services.start_sending(db, issue, now=now, links=site_links())
    services.mark_sent(db, issue, now=now)
    db.flush()
    return issue


def test_archive_lists_sent_issues_and_announces_feeds(client, sent, db):
    make_issue(db, items=[make_item(db)], number=2, subject="Entwurf, noch geheim")
    html = client.get("/archiv").get_data(as_text=True)
    assert "Newsticker Nr. 1" in html
    assert "Entwurf, noch geheim" not in html
    assert 'rel="alternate" type="application/atom+xml"' in html
    assert "/feeds/archiv/ticker.atom" in html
    html = client.get("/archiv/ticker").get_data(as_text=True)
    assert "Newsticker Nr. 1" in html and 'type="application/atom+xml"' in html
    assert client.get("/archiv/gibtsnicht").status_code == 404


def test_issue_page_is_the_snapshot_without_personal_links(client, sent):
    response = client.get("/archiv/ticker/1")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "style-src 'unsafe-inline'" in csp and "sandbox" in csp
    html = response.get_data(as_text=True)
    assert "Interkulturelles Frühstück" in html
    assert "Abmelden" not in html and "Abo-Einstellungen" not in html
    assert "Im Browser lesen" not in html
    assert "Alle Ausgaben von" in html
    # The editorial carries the one salutation; this issue has none, so there is none.
    assert "Liebe Leserinnen und Leser," not in html
    assert "xNT" not in html
    text = client.get("/archiv/ticker/1.txt").get_data(as_text=True)
    assert "Interkulturelles Frühstück" in text and "Abmelden" not in text


def test_unsent_or_unknown_issue_is_not_found(client, sent, db):
    make_issue(db, items=[make_item(db)], number=2)
    assert client.get("/archiv/ticker/2").status_code == 404
    assert client.get("/archiv/ticker/99").status_code == 404
    assert client.get("/archiv/newsletter/1").status_code == 404


def test_atom_feed_of_issues(client, sent):
    response = client.get("/feeds/archiv/ticker.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ElementTree.fromstring(response.data)  # noqa: S314 - our own feed
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert [e.findtext("a:title", namespaces=ns) for e in entries] == ["Newsticker Nr. 1"]
    link = entries[0].find("a:link", ns).get("href")
    assert link == "http://localhost/archiv/ticker/1"
    assert client.get("/feeds/archiv/gibtsnicht.atom").status_code == 404
