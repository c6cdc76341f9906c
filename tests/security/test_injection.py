"""Hostile input through every form, the CSV import and the search boxes, checked in every sink.

Each value of the corpus (tests/security/hostile.py) goes into every free-text field of
the public submission and subscription forms, the editors' forms and a CSV import. A
value is either refused by validation (422, nothing stored), stored cleaned, or stored as
sent and escaped on the way out. The sinks are the stored rows, the web pages (public
and editor), the archive, the Atom and iCal feeds and the mails (headers and parts):
nothing hostile may execute, no template syntax may be evaluated, no header injected.
"""

from __future__ import annotations

import html as html_module
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.site import site_keyring, site_links
from newsticker.issues import services as issue_services
from newsticker.issues.models import Issue, IssueEntry, IssueStatus
from newsticker.items import services as item_services
from newsticker.items.models import Item
from subscribers.models import Subscriber
from tests.factories import event_form
from tests.security.conftest import STOPPED
from tests.security.hostile import (
    CORPUS,
    Finding,
    atom_findings,
    html_findings,
    ical_findings,
    mail_findings,
    marker_code,
    region,
    sanitised,
    template_findings,
    wrap,
)
from tests.security.world import ADMIN_EMAIL, PASSWORD, World

ITEM_TEXT_FIELDS = (
    "title",
    "summary",
    "description",
    "tags",
    "place_name",
    "place_address",
    "accessibility_note",
    "organiser",
    "contact_name",
)
ITEM_RAW_FIELDS = ("contact_email", "contact_phone", "link")
ITEM_COLUMNS = {"tags": "tags"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "rate_limits.submit_per_ip": "10000 per hour",
        "rate_limits.subscribe_per_ip": "10000 per hour",
        "rate_limits.token_pages_per_ip": "10000 per minute",
    }


# CSRF has its own tests; here every request should reach the validation.
pytestmark = pytest.mark.usefixtures("no_csrf")


@dataclass
class Ledger:
    """Where each hostile value was stopped, and anything that got through."""

    stopped: dict[tuple[str, str], set[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    findings: list[Finding] = field(default_factory=list)

    def stop(self, payload: str, where: str, sink: str, how: str) -> None:
        """Record that the payload in the field was stopped in the sink, and how."""
        self.stopped[(sink, how)].add((payload, where))

    def check(self, sink: str, text: str, secret: str) -> None:
        """Check an HTML page for anything executed or evaluated."""
        self.findings += html_findings(sink, text)
        self.findings += template_findings(sink, text, secret)

    def publish(self) -> int:
        """Add the figures to the audit summary; return how many input × sink pairs."""
        total = 0
        for (sink, how), pairs in self.stopped.items():
            STOPPED[(sink, how)] += len(pairs)
            total += len(pairs)
        return total


def refused_how(value: str) -> str:
    """Return where a refused value was stopped."""
    return "refused at the door (400)" if "\x00" in value else "rejected by validation"


def error_fields(html: str) -> set[str]:
    """Return the ids of the fields the error summary links to."""
    summary = html.split('id="error-summary"', 1)[-1].split("</div>", 1)[0]
    return set(re.findall(r'href="#([A-Za-z0-9_-]+)"', summary))


def post_until_accepted(
    client: Any,
    url: str,
    base: dict[str, Any],
    hostile: dict[str, str],
    ip: str,
    filler: str | None = None,
) -> tuple[Any, set[str]]:
    """POST, replacing the values validation refuses until the form is accepted.

    A refused field gets its value from `base`, else the filler, else is left out.

    Return the last response and the fields that were refused.
    """
    refused: set[str] = set()
    while True:
        harmless = {k: base.get(k) or filler for k in refused if base.get(k) or filler}
        data = {**base, **{k: v for k, v in hostile.items() if k not in refused}, **harmless}
        response = client.post(url, data=data, environ_base={"REMOTE_ADDR": ip})
        if response.status_code == 400 and "\x00" in "".join(map(str, data.values())):
            # A NUL is refused before any form sees it (newsticker.core.http).
            assert "NUL" in response.get_data(as_text=True)
            refused |= {k for k, v in hostile.items() if "\x00" in v}
            continue
        if response.status_code != 422:
            return response, refused
        errors = error_fields(response.get_data(as_text=True)) & set(hostile)
        new = errors - refused
        if not new:
            return response, refused
        refused |= new


def secret_of(app: Flask) -> str:
    return str(app.config["SECRET_KEY"])


def log_in_editor(app: Flask) -> Any:
    client = app.test_client()
    response = client.post("/redaktion/login", data={"email": ADMIN_EMAIL, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_hostile_submissions_are_refused_cleaned_or_escaped_everywhere(
    app: Flask, world: World, db: Session, catcher: Any, caught: Any
) -> None:
    secret = secret_of(app)
    ledger = Ledger()
    client = app.test_client()
    accepted: dict[str, dict[str, str]] = {}  # payload → {field: value sent}
    for n, (name, payload) in enumerate(CORPUS.items()):
        hostile = {f: wrap(marker_code(name, f), payload) for f in ITEM_TEXT_FIELDS}
        hostile.update({f: payload for f in ITEM_RAW_FIELDS})
        base = event_form(submitter_email=f"injection{n}@example.org", mail_language="de")
        for f in ITEM_RAW_FIELDS:
            base.pop(f, None)
        response, refused = post_until_accepted(client, "/einreichen", base, hostile, f"10.9.{n}.1")
        assert response.status_code == 303, (name, refused, response.get_data(as_text=True)[:3000])
        for f in refused:
            ledger.stop(name, f"submit.{f}", "form", refused_how(payload))
        accepted[name] = {k: v for k, v in hostile.items() if k not in refused}

    # The stored rows: cleaned on the way in, or kept exactly as sent (and escaped later).
    db.expire_all()
    items = {
        name: db.scalars(
            select(Item).where(Item.submitter_email == f"injection{n}@example.org")
        ).one()
        for n, name in enumerate(CORPUS)
    }
    how_stored: dict[tuple[str, str], str] = {}
    for name, fields in accepted.items():
        item = items[name]
        for f, sent in fields.items():
            stored = getattr(item, ITEM_COLUMNS.get(f, f))
            if f == "tags":
                stored = ", ".join(stored)
            assert "\x00" not in str(stored)
            how = "stored sanitised" if sanitised(sent, stored) else "escaped on output"
            how_stored[(name, f)] = how
            ledger.stop(name, f"submit.{f}", "database", how)

    # The receipt mails, with the private links in them.
    receipts = {m.to: m for m in caught()}
    tokens = {}
    for n, name in enumerate(CORPUS):
        mail = receipts[f"injection{n}@example.org"]
        ledger.findings += mail_findings(f"receipt mail [{name}]", mail.message.as_bytes(), secret)
        token = re.search(r"/einreichung/([A-Za-z0-9_-]+)", mail.body("plain") or "")
        assert token is not None
        tokens[name] = token.group(1)
        _count_regions(
            ledger,
            name,
            accepted[name],
            "submit",
            "receipt mail",
            mail.message.as_string(),
            how_stored,
        )

    # The submitter's private page, the editors' pages, then publish everything.
    editor = log_in_editor(app)
    for name, item in items.items():
        page = client.get(f"/einreichung/{tokens[name]}").get_data(as_text=True)
        ledger.check(f"private page [{name}]", page, secret)
        _count_regions(ledger, name, accepted[name], "submit", "private page", page, how_stored)
        page = editor.get(f"/redaktion/einreichungen/{item.id}").get_data(as_text=True)
        ledger.check(f"editor item page [{name}]", page, secret)
        _count_regions(ledger, name, accepted[name], "submit", "editor item page", page, how_stored)
        page = editor.get(f"/redaktion/einreichungen/{item.id}/bearbeiten").get_data(as_text=True)
        ledger.check(f"editor edit form [{name}]", page, secret)
        response = editor.post(f"/redaktion/einreichungen/{item.id}/freigeben")
        assert response.status_code in (302, 303), response.status_code
    queue = editor.get("/redaktion/einreichungen?status=approved").get_data(as_text=True)
    ledger.check("moderation queue", queue, secret)
    approvals = [m for m in caught() if m.subject != receipts[m.to].subject] if receipts else []
    for mail in approvals:
        ledger.findings += mail_findings(
            f"approval mail to {mail.to}", mail.message.as_bytes(), secret
        )
    db.expire_all()

    pages = {
        "events list": client.get("/angebote?seite=1").get_data(as_text=True)
        + client.get("/angebote?seite=2").get_data(as_text=True),
    }
    for name, item in items.items():
        pages[f"item page [{name}]"] = client.get(f"/angebote/{item.id}").get_data(as_text=True)
    for sink, page in pages.items():
        ledger.check(sink, page, secret)
    for name in items:
        _count_regions(
            ledger,
            name,
            accepted[name],
            "submit",
            "public item page",
            pages[f"item page [{name}]"],
            how_stored,
        )
        _count_regions(
            ledger, name, accepted[name], "submit", "events list", pages["events list"], how_stored
        )

    atom = client.get("/feeds/angebote.atom").get_data()
    ledger.findings += atom_findings("items Atom feed", atom, secret)
    ical = client.get("/feeds/angebote.ics").get_data()
    ledger.findings += ical_findings("iCal feed", ical, secret)
    for name, item in items.items():
        one = client.get(f"/angebote/{item.id}.ics").get_data()
        ledger.findings += ical_findings(f"item iCal [{name}]", one, secret)
        _count_regions(ledger, name, accepted[name], "submit", "iCal", one.decode(), how_stored)
        _count_regions(
            ledger, name, accepted[name], "submit", "Atom feed", atom.decode(), how_stored
        )

    # An issue with every hostile item: the editor's preview, the test mail, the archive.
    issue = _issue_with(db, list(items.values()))
    preview = editor.get(f"/redaktion/ausgaben/{issue.id}/vorschau.html").get_data(as_text=True)
    ledger.check("issue preview (mail HTML)", preview, secret)
    compose = editor.get(f"/redaktion/ausgaben/{issue.id}").get_data(as_text=True)
    ledger.check("composer", compose, secret)
    response = editor.post(
        f"/redaktion/ausgaben/{issue.id}/test",
        data={"addresses": "test-empfang@example.org", "language": "de"},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    (test_mail,) = [m for m in caught() if m.to == "test-empfang@example.org"]
    ledger.findings += mail_findings("issue mail (test send)", test_mail.message.as_bytes(), secret)
    archive_html, archive_text = _send_and_archive(app, db, client, issue)
    ledger.check("archive page", archive_html, secret)
    ledger.findings += template_findings("archive text", archive_text, secret)
    ledger.findings += atom_findings(
        "archive Atom feed", client.get("/feeds/archiv/ticker.atom").get_data(), secret
    )
    for name in items:
        for sink, text in (
            ("issue mail", test_mail.message.as_string()),
            ("archive page", archive_html),
            ("archive text", archive_text),
        ):
            _count_regions(ledger, name, accepted[name], "submit", sink, text, how_stored)

    assert ledger.findings == [], "\n".join(map(str, ledger.findings))
    assert ledger.publish() > 1000


def _count_regions(
    ledger: Ledger,
    payload: str,
    fields: dict[str, str],
    form: str,
    sink: str,
    text: str,
    how_stored: dict[tuple[str, str], str],
) -> None:
    """Record the fields whose marked value came out in the sink."""
    for f in fields:
        code = marker_code(payload, f)
        if region(text, code) is not None or f"ZQ{code}" in text:
            how = how_stored.get((payload, f), "escaped on output")
            ledger.stop(payload, f"{form}.{f}", sink, how)


def _issue_with(db: Session, items: list[Item]) -> Issue:
    number = max(i.number for i in db.scalars(select(Issue).where(Issue.publication == "ticker")))
    issue = Issue(
        publication="ticker",
        number=number + 1,
        subject="Ausgabe mit feindlichen Eingaben",
        status=IssueStatus.DRAFT.value,
        window_start=utcnow(),
    )
    for position, item in enumerate(items):
        section = {"event": "events", "announcement": "announcements", "call": "calls"}[item.kind]
        issue.entries.append(
            IssueEntry(
                section=section, position=position, item=item, occurrence_start=item.starts_at
            )
        )
    db.add(issue)
    db.commit()
    return issue


def _send_and_archive(app: Flask, db: Session, client: Any, issue: Issue) -> tuple[str, str]:
    """Freeze the issue as sent and return its archive page and text."""
    issue.status = IssueStatus.SCHEDULED.value
    issue.scheduled_at = utcnow() - timedelta(minutes=1)
    with app.test_request_context(base_url=app.config["NEWSTICKER_SETTINGS"].site.base_url):
        issue_services.start_sending(db, issue, now=utcnow(), links=site_links(app))
        issue_services.mark_sent(db, issue, now=utcnow())
    db.commit()
    url = f"/archiv/ticker/{issue.number}"
    page = client.get(url)
    assert page.status_code == 200
    return page.get_data(as_text=True), client.get(url + ".txt").get_data(as_text=True)


def test_hostile_sign_ups_are_refused_cleaned_or_escaped_everywhere(
    app: Flask, world: World, db: Session, catcher: Any, caught: Any
) -> None:
    secret = secret_of(app)
    ledger = Ledger()
    client = app.test_client()
    editor = log_in_editor(app)
    for n, (name, payload) in enumerate(CORPUS.items()):
        address = f"signup{n}@example.org"
        marked = wrap(marker_code(name, "name"), payload)
        # The address itself hostile: always refused.
        response = client.post(
            "/abonnieren",
            data={"email": payload, "publications": "ticker", "language": "de"},
            environ_base={"REMOTE_ADDR": f"10.8.{n}.1"},
        )
        assert response.status_code in (400, 422), name
        ledger.check(f"subscribe form errors [{name}]", response.get_data(as_text=True), secret)
        ledger.stop(name, "subscribe.email", "form", refused_how(payload))
        response = client.post(
            "/abonnieren",
            data={"email": address, "name": marked, "publications": "ticker", "language": "de"},
            environ_base={"REMOTE_ADDR": f"10.8.{n}.2"},
        )
        if response.status_code in (400, 422):
            ledger.check(f"subscribe form errors [{name}]", response.get_data(as_text=True), secret)
            ledger.stop(name, "subscribe.name", "form", refused_how(payload))
            continue
        assert response.status_code == 303, name
        (mail,) = [m for m in caught() if m.to == address]
        raw = mail.message.as_string()
        ledger.findings += mail_findings(
            f"confirmation mail [{name}]", mail.message.as_bytes(), secret
        )
        if f"ZQ{marker_code(name, 'name')}" in raw:
            ledger.stop(name, "subscribe.name", "confirmation mail", "escaped on output")
        token = re.search(r"/bestaetigen/([A-Za-z0-9_-]+)", mail.body("plain") or "")
        assert token is not None
        assert client.post(f"/bestaetigen/{token.group(1)}").status_code == 303
        db.expire_all()
        subscriber = db.scalars(select(Subscriber).where(Subscriber.email == address)).one()
        how = "stored sanitised" if sanitised(marked, subscriber.name) else "escaped on output"
        ledger.stop(name, "subscribe.name", "database", how)
        for sink, url, c in (
            ("preferences page", _preferences_url(app, subscriber.id), client),
            ("editor subscriber page", f"/redaktion/abonnenten/{subscriber.id}", editor),
            ("consent log", f"/redaktion/abonnenten/{subscriber.id}/einwilligung", editor),
            ("subscriber list", "/redaktion/abonnenten?q=signup", editor),
        ):
            page = c.get(url).get_data(as_text=True)
            ledger.check(f"{sink} [{name}]", page, secret)
            if f"ZQ{marker_code(name, 'name')}" in page:
                ledger.stop(name, "subscribe.name", sink, how)
    export = editor.get("/redaktion/abonnenten/export.csv?publication=ticker").get_data(
        as_text=True
    )
    assert not re.search(r"^[=+\-@]", export, flags=re.M), "formula cell in the export"
    assert ledger.findings == [], "\n".join(map(str, ledger.findings))
    ledger.publish()


def _preferences_url(app: Flask, subscriber_id: int) -> str:
    from subscribers import services

    with app.test_request_context():
        return "/einstellungen/" + services.preferences_token(site_keyring(), subscriber_id)


EDITOR_FORMS: list[tuple[str, str, dict[str, str], tuple[str, ...]]] = [
    # (name, URL template, benign fields, hostile fields)
    ("issue", "/redaktion/ausgaben/{draft}", {}, ("subject", "preheader", "editorial")),
    (
        "article",
        "/redaktion/ausgaben/{draft}/artikel",
        {"language": "de"},
        ("title", "body"),
    ),
    (
        "figure",
        "/redaktion/ausgaben/{draft}/zahlen",
        {"value": "42"},
        ("label", "unit", "period", "source"),
    ),
    (
        "user",
        "/redaktion/benutzer",
        {"role": "editor", "password": "ein langes passwort 123"},
        ("name",),
    ),
    (
        "add subscriber",
        "/redaktion/abonnenten/neu",
        {"publications": "ticker", "language": "de"},
        ("name", "consent_note"),
    ),
    ("block", "/redaktion/abonnenten/{subscriber}/sperren", {}, ("note",)),
]


def test_hostile_input_in_editor_forms_is_refused_cleaned_or_escaped(
    app: Flask, world: World, db: Session, catcher: Any, caught: Any
) -> None:
    secret = secret_of(app)
    ledger = Ledger()
    editor = log_in_editor(app)
    draft = world.ids["draft"]
    ids = {"draft": draft, "subscriber": world.ids["subscriber"]}
    pages = {
        "composer": f"/redaktion/ausgaben/{draft}",
        "issue preview": f"/redaktion/ausgaben/{draft}/vorschau",
        "issue preview (mail HTML)": f"/redaktion/ausgaben/{draft}/vorschau.html",
        "users page": "/redaktion/benutzer",
        "subscriber page": f"/redaktion/abonnenten/{world.ids['subscriber']}",
        "subscriber list": "/redaktion/abonnenten",
    }
    for n, (name, payload) in enumerate(CORPUS.items()):
        accepted: dict[str, dict[str, str]] = {}
        for form, url, benign, fields in EDITOR_FORMS:
            target = url.format(**ids)
            hostile = {f: wrap(marker_code(name, form + f), payload) for f in fields}
            base = dict(benign)
            if form == "user":
                base["email"] = f"konto{n}@example.org"
            if form == "add subscriber":
                base["email"] = f"hinzu{n}@example.org"
            if form in ("issue", "article", "figure"):
                version = db.get(Issue, draft)
                db.refresh(version)
                base["version"] = str(version.version)
            response, refused = post_until_accepted(
                editor, target, base, hostile, "127.0.0.1", filler="Eine harmlose Angabe"
            )
            ledger.check(f"{form} form answer [{name}]", response.get_data(as_text=True), secret)
            for f in refused:
                ledger.stop(name, f"{form}.{f}", "form", refused_how(payload))
            assert response.status_code in (302, 303), (
                form,
                name,
                response.status_code,
                response.get_data(as_text=True)[:3000],
            )
            for f in set(fields) - refused:
                ledger.stop(name, f"{form}.{f}", "database", "escaped on output")
            accepted[form] = {f: hostile[f] for f in set(fields) - refused}
        # Every page the editors' values reach.
        for sink, url in pages.items():
            page = editor.get(url).get_data(as_text=True)
            ledger.check(f"{sink} [{name}]", page, secret)
            for form, values in accepted.items():
                for f in values:
                    if f"ZQ{marker_code(name, form + f)}" in html_module.unescape(page):
                        ledger.stop(name, f"{form}.{f}", sink, "escaped on output")
        issue = db.get(Issue, draft)
        db.refresh(issue)
        issue.figures.clear()
        db.commit()
        # Reject a pending submission with a hostile reason: the submitter gets a mail.
        item = _pending_item(app, db, n)
        reason = wrap(marker_code(name, "reason"), payload)
        response = editor.post(f"/redaktion/einreichungen/{item}/ablehnen", data={"reason": reason})
        if response.status_code in (400, 422):
            ledger.stop(name, "reject.reason", "form", refused_how(payload))
        else:
            assert response.status_code in (302, 303), response.status_code
            ledger.stop(name, "reject.reason", "rejection mail", "escaped on output")
        # A search box reflects what was searched for.
        for url in ("/angebote", "/redaktion/einreichungen", "/redaktion/abonnenten"):
            c = editor if url.startswith("/redaktion") else app.test_client()
            response = c.get(url, query_string={"q": payload})
            assert response.status_code < 500, (url, name)
            ledger.check(f"search {url} [{name}]", response.get_data(as_text=True), secret)
            how = refused_how(payload) if response.status_code == 400 else "escaped on output"
            ledger.stop(name, f"search {url}", "search results page", how)

    # The mails the editors' values go into.
    response = editor.post(
        f"/redaktion/ausgaben/{draft}/test",
        data={"addresses": "test@example.org", "language": "de"},
    )
    assert response.status_code in (303, 422)
    for mail in caught():
        ledger.findings += mail_findings(
            f"mail to {mail.to} ({mail.subject[:40]})", mail.message.as_bytes(), secret
        )
    for mail in db.scalars(select(QueuedMail)):
        assert "\n" not in mail.subject and "\r" not in mail.subject
    assert ledger.findings == [], "\n".join(map(str, ledger.findings))
    ledger.publish()


def _pending_item(app: Flask, db: Session, n: int) -> int:
    from newsticker.items.images import upload_dir

    with app.test_request_context():
        item, _token = item_services.submit_item(
            db,
            item_services.ItemData(
                kind="announcement", title=f"Ablehnen {n}", summary="Text", organiser="Verein"
            ),
            submitter_email=f"abgelehnt{n}@example.org",
            submitter_language="de",
            image=None,
            upload_dir=upload_dir(),
            tz=app.config["NEWSTICKER_SETTINGS"].tz,
            now=utcnow(),
            links=site_links(),
        )
    db.commit()
    return item.id


def _upload(editor: Any, rows: list[str]) -> Any:
    data = ("\r\n".join(["email;name", *rows]) + "\r\n").encode("utf-8")
    return editor.post(
        "/redaktion/abonnenten/import",
        data={
            "file": (io.BytesIO(data), "liste.csv"),
            "publication": "ticker",
            "consent_note": wrap("csvnote", "<script>alert(1)</script> {{ 7*7 }}"),
        },
        content_type="multipart/form-data",
    )


def test_hostile_csv_import_is_refused_cleaned_or_escaped(
    app: Flask, world: World, db: Session
) -> None:
    secret = secret_of(app)
    ledger = Ledger()
    editor = log_in_editor(app)
    # A NUL byte means the file is not text: the whole file is refused, the page escapes.
    for name, payload in CORPUS.items():
        if "\x00" in payload:
            response = _upload(editor, [f"nul@example.org;{payload}"])
            assert response.status_code == 422
            ledger.check("import form errors", response.get_data(as_text=True), secret)
            ledger.stop(name, "csv.name", "import", "rejected by validation")
    rows = []
    for n, (name, payload) in enumerate(CORPUS.items()):
        if "\x00" in payload:
            continue
        cell = wrap(marker_code(name, "csv"), payload).replace('"', '""')
        rows.append(f'csvimport{n}@example.org;"{cell}"')
        rows.append(f'"{payload.replace(chr(34), chr(34) * 2)}";Adresse')
    response = _upload(editor, rows)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    preview_url = response.headers["Location"]
    page = editor.get(preview_url).get_data(as_text=True)
    ledger.check("import preview", page, secret)
    report = editor.get(preview_url + "/bericht.csv").get_data(as_text=True)
    assert not re.search(r"^[=+\-@]", report, flags=re.M), "formula cell in the import report"
    assert editor.post(preview_url).status_code == 303
    db.expire_all()
    for n, name in enumerate(CORPUS):
        if "\x00" in CORPUS[name]:
            continue
        subscriber = db.scalars(
            select(Subscriber).where(Subscriber.email == f"csvimport{n}@example.org")
        ).one_or_none()
        if subscriber is None:
            ledger.stop(name, "csv.name", "import", "rejected by validation")
            continue
        assert "\x00" not in subscriber.name
        sent = wrap(marker_code(name, "csv"), CORPUS[name])
        how = "stored sanitised" if sanitised(sent, subscriber.name) else "escaped on output"
        ledger.stop(name, "csv.name", "database", how)
        page = editor.get(f"/redaktion/abonnenten/{subscriber.id}").get_data(as_text=True)
        ledger.check(f"imported subscriber page [{name}]", page, secret)
        ledger.stop(name, "csv.name", "editor subscriber page", how)
        ledger.stop(name, "csv.email", "import", "rejected by validation")
    page = editor.get("/redaktion/abonnenten?q=csvimport").get_data(as_text=True)
    ledger.check("subscriber list after import", page, secret)
    export = editor.get("/redaktion/abonnenten/export.csv?publication=ticker").get_data(
        as_text=True
    )
    assert not re.search(r"^[=+\-@]", export, flags=re.M), "formula cell in the export"
    assert ledger.findings == [], "\n".join(map(str, ledger.findings))
    ledger.publish()
