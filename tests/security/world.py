"""A populated site for the audits: demo content plus one real object behind every URL rule.

`build_world` creates, through the services, everything a route needs (an item with an
image, a pending submission with its private link, a pending and a confirmed subscriber
with their links, drafts, a sent issue, a send in progress, an import awaiting its
preview), so the audits can fill every rule of `app.url_map` with values that exist.
No tests in here.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from newsticker.api.services import create_token
from newsticker.auth.services import create_user, request_password_reset
from newsticker.config import Settings
from newsticker.core.audit import Actor
from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.site import site_keyring, site_links
from newsticker.core.webhooks import add_endpoint
from newsticker.demo import load_demo
from newsticker.issues.models import Issue, IssueStatus
from newsticker.items import services as items
from newsticker.items.images import process_image, upload_dir
from newsticker.items.models import Item, ItemStatus
from newsticker.translators import services as translators
from subscribers import importing
from subscribers import services as subs
from subscribers.models import Subscriber
from subscribers.site import site_salts

PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "admin@example.org"
EDITOR_EMAIL = "redakteurin@example.org"
PENDING_SIGNUP = "neu.abonnentin@example.org"
BOUNCED_ADDRESS = "gibt.es.nicht@example.net"
CONFIRM_RE = re.compile(r"/bestaetigen/([A-Za-z0-9_-]{20,100})")
PRIVATE_RE = re.compile(r"/einreichung/([A-Za-z0-9_-]{20,100})")


@dataclass
class World:
    """Ids and tokens that exist, and the URL values of every endpoint."""

    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def url(self, app: Flask, rule: Rule) -> str:
        """Return a path for the rule, filled with this world's values."""
        values = dict(self.values.get(rule.endpoint, {}))
        missing = set(rule.arguments) - set(values)
        if missing:
            raise KeyError(
                f"{rule.endpoint} ({rule.rule}) needs {sorted(missing)}: add them to "
                "tests/security/world.py so the audits can reach the new route"
            )
        with app.test_request_context():
            adapter = app.url_map.bind("localhost")
            return adapter.build(rule.endpoint, values, method=_a_method(rule))


def _a_method(rule: Rule) -> str:
    methods = rule.methods or {"GET"}
    return "GET" if "GET" in methods else sorted(methods - {"HEAD", "OPTIONS"})[0]


def image_file(size: tuple[int, int] = (320, 200)) -> bytes:
    """Return a small real PNG."""
    out = io.BytesIO()
    Image.new("RGB", size, (20, 90, 160)).save(out, "PNG")
    return out.getvalue()


def _bounce_for(address: str) -> bytes:
    """Return a Postfix report that this address does not exist."""
    return f"""\
From: MAILER-DAEMON@mx.example.net
To: bounces@example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

<{address}>: host mx.example.net said: 550 5.1.1 <{address}>:
    Recipient address rejected: User unknown in virtual mailbox table

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; {address}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{address}>: Recipient address rejected: User unknown

--B--
""".encode()


def _item_data(**overrides: Any) -> items.ItemData:
    values: dict[str, Any] = {
        "kind": "announcement",
        "title": "Nähcafé sucht Helferinnen",
        "summary": "Wir suchen Menschen, die einmal im Monat beim Nähcafé helfen.",
        "organiser": "Nachbarschaftshilfe Nord",
        "description": "Keine Vorkenntnisse nötig.",
        "field_of_action": "volunteering",
        "content_language": "de",
        "contact_email": "naehcafe@example.org",
        "image_alt": "",
    }
    values.update(overrides)
    return items.ItemData(**values)


def build_world(session: Session, settings: Settings) -> World:
    """Create the demo content and one object behind every route; return their values.

    Call inside an app context with a request context (links in mails need one).
    """
    world = World()
    load_demo(session, settings)
    now = utcnow()
    tz = settings.tz

    admin = create_user(session, ADMIN_EMAIL, PASSWORD, role="admin")
    editor = create_user(session, EDITOR_EMAIL, PASSWORD, role="editor")
    world.ids.update(admin=admin.id, editor=editor.id)
    # A password reset link of the editor (the page behind it is public).
    reset_token = request_password_reset(
        session, EDITOR_EMAIL, links=site_links(), ip="127.0.0.1", now=now
    )
    assert reset_token is not None
    world.tokens["password_reset"] = reset_token
    api_token = create_token(
        session,
        user_id=editor.id,
        name="CMS",
        scopes=["read"],
        days=30,
        actor=Actor(label=editor.email, user_id=editor.id),
        now=utcnow(),
    )
    world.ids["api_token"] = api_token.token.id

    # An approved announcement with an image (the image route, alt text on item pages).
    picture = process_image(io.BytesIO(image_file()))
    shown, _token = items.submit_item(
        session,
        _item_data(image_alt="Eine Nähmaschine auf einem Holztisch"),
        submitter_email="bild@example.org",
        submitter_language="de",
        image=picture,
        upload_dir=upload_dir(),
        tz=tz,
        now=now,
        links=site_links(),
    )
    items.approve_item(session, shown, user_id=editor.id, now=now, links=site_links())
    # A pending submission and its private link.
    pending, private_token = items.submit_item(
        session,
        _item_data(title="Kochabend international", kind="announcement"),
        submitter_email="verein@example.org",
        submitter_language="de",
        image=None,
        upload_dir=upload_dir(),
        tz=tz,
        now=now,
        links=site_links(),
    )
    # The same submission sent twice: the first one's page suggests the second to merge.
    items.submit_item(
        session,
        _item_data(title="Kochabend International!", kind="announcement"),
        submitter_email="zweimal@example.org",
        submitter_language="en",
        image=None,
        upload_dir=upload_dir(),
        tz=tz,
        now=now,
        links=site_links(),
    )
    reason = items.save_reason(
        session,
        None,
        label="Außerhalb der Stadt",
        text="Wir veröffentlichen nur Angebote aus unserer Stadt.",
        actor=Actor(ADMIN_EMAIL, user_id=admin.id, ip="192.0.2.10"),
        now=now,
    )
    world.ids["reason"] = reason.id
    event = session.scalars(
        select(Item)
        .where(Item.status == ItemStatus.APPROVED.value, Item.starts_at.isnot(None))
        .order_by(Item.id)
    ).first()
    assert event is not None and shown.image_file
    world.ids.update(item=event.id, image_item=shown.id, pending_item=pending.id)
    # A text of the pending submission in another language (its review actions).
    version = items.propose_version(
        session,
        pending,
        {"language": "ar", "title": "أمسية طبخ", "summary": "نطبخ معاً.", "description": ""},
        source="submitter",
        now=now,
    )
    world.ids["version"] = version.id
    world.tokens["private"] = private_token

    # A pending sign-up (confirmation link) and a confirmed subscriber (personal links).
    subs.request_subscription(
        session,
        subs.SignupRequest(
            email=PENDING_SIGNUP,
            name="Neu",
            language="de",
            publications=("ticker",),
            ip="192.0.2.1",
            form_url="http://localhost/abonnieren",
        ),
        keyring=site_keyring(),
        links=site_links(),
        settings=settings,
        now=now,
    )
    mail = session.scalars(select(QueuedMail).where(QueuedMail.to_addr == PENDING_SIGNUP)).one()
    confirm = CONFIRM_RE.search(mail.text)
    assert confirm is not None
    world.tokens["confirm"] = confirm.group(1)
    confirmed = session.scalars(
        select(Subscriber).order_by(Subscriber.id).where(Subscriber.email != PENDING_SIGNUP)
    ).first()
    assert confirmed is not None
    ring = site_keyring()
    world.ids["subscriber"] = confirmed.id
    world.tokens["preferences"] = subs.preferences_token(ring, confirmed.id)
    world.tokens["unsubscribe"] = subs.unsubscribe_token(ring, confirmed.id, "ticker")
    data_url = subs.data_copy_url(site_links(), ring, confirmed.id)
    world.tokens["data_copy"] = data_url.rsplit("/", 1)[1]

    # An uploaded list waiting for its preview.
    csv = b"email;name\nimport1@example.org;Eins\nkaputt;Zwei\n"
    plan = importing.plan_import(session, csv, publication="ticker", salts=site_salts())
    record = importing.save_preview(
        session,
        plan,
        csv,
        publication="ticker",
        consent_note="Liste vom Sommerfest",
        actor=ADMIN_EMAIL,
        filename="liste.csv",
        now=now,
    )
    world.ids["import"] = record.id

    # A run of the bounce mailbox that took one address off (and quarantined a message),
    # and the consent proof the pending sign-up's confirmation mail left.
    bounced = subs.add_subscriber(
        session,
        email=BOUNCED_ADDRESS,
        name="",
        language="de",
        publications=["ticker"],
        note="Anmeldung am Stand, Sommerfest",
        actor=ADMIN_EMAIL,
        salts=site_salts(),
        now=now,
    )
    run = subs.start_run(session, source="/srv/rueckmeldungen", trigger="scheduler", now=now)
    for name, raw in (("1.host", _bounce_for(BOUNCED_ADDRESS)), ("2.host", b"")):
        subs.handle_message(
            session,
            run,
            raw,
            name=name,
            keyring=site_keyring(),
            salts=site_salts(),
            settings=subs.ReturnSettings(),
            now=now,
        )
    subs.finish_run(session, run, now=now)
    pending = session.scalars(select(Subscriber).where(Subscriber.email == PENDING_SIGNUP)).one()
    (proof,) = subs.consent_proofs(session, pending)
    world.ids.update(bounced=bounced.id, bounce_run=run.id, proof_of=pending.id, proof=proof.id)

    # Issues: the demo's sent ticker and drafts, and a send in progress.
    sent = session.scalars(select(Issue).where(Issue.status == IssueStatus.SENT.value)).first()
    drafts = session.scalars(
        select(Issue).where(Issue.status == IssueStatus.DRAFT.value).order_by(Issue.id)
    ).all()
    newsletter = next(d for d in drafts if d.publication == "newsletter")
    assert sent is not None and newsletter.entries and newsletter.figures
    world.ids.update(sent_issue=sent.id, draft=newsletter.id)
    world.ids.update(entry=newsletter.entries[0].id, figure=newsletter.figures[0].id)
    world.ids["article"] = next(e.id for e in newsletter.entries if e.is_article)
    sending = _sending_issue(session, settings, now)
    world.ids["sending_issue"] = sending

    # A webhook endpoint (its pages and actions are for admins).
    hook = add_endpoint(
        session,
        url="https://cms.example.org/hooks/newsticker",
        events=["item.published"],
        description="CMS",
        allow_http_loopback=False,
        user_id=admin.id,
        now=now,
    )
    world.ids["webhook"] = hook.id

    # A translator and an open request to them for the event (its link is public).
    translator = translators.save_translator(
        session,
        None,
        translators.TranslatorData(
            name="Amal Haddad",
            email="amal@example.org",
            languages=["ar"],
            mail_language="en",
            active=True,
            note="",
        ),
        actor=Actor(ADMIN_EMAIL, user_id=admin.id),
        now=now,
    )
    translation, translation_token = translators.ask_for_translation(
        session,
        item=event,
        language="ar",
        translator=translator,
        note="",
        due_on=None,
        actor=Actor(ADMIN_EMAIL, user_id=admin.id),
        now=now,
        link_days=settings.translators.link_days,
        links=site_links(),
    )
    world.ids.update(translator=translator.id, translation_request=translation.id)
    world.tokens["translation"] = translation_token

    token_of = world.tokens
    ids = world.ids
    world.values = {
        "items.detail": {"item_id": ids["item"]},
        "items.item_ics": {"item_id": ids["item"]},
        "items.image": {"name": shown.image_file},
        "items.ical_field_feed": {"field": "education"},
        "items.private": {"token": token_of["private"]},
        "items.private_edit": {"token": token_of["private"]},
        "items.withdraw": {"token": token_of["private"]},
        "items.private_version": {"token": token_of["private"]},
        "translators.translate": {"token": token_of["translation"]},
        "translators.decline": {"token": token_of["translation"]},
        "translators.thanks": {"token": token_of["translation"]},
        "translators_editor.edit": {"translator_id": ids["translator"]},
        "translators_editor.toggle": {"translator_id": ids["translator"]},
        "translators_editor.ask": {"item_id": ids["item"]},
        "translators_editor.ask_article": {"entry_id": ids["article"]},
        "translators_editor.withdraw": {"request_id": ids["translation_request"]},
        "translators_editor.review": {"request_id": ids["translation_request"]},
        "translators_editor.approve": {"request_id": ids["translation_request"]},
        "translators_editor.reject": {"request_id": ids["translation_request"]},
        "issues.publication": {"slug": sent.publication},
        "issues.issue": {"slug": sent.publication, "number": sent.number},
        "issues.issue_text": {"slug": sent.publication, "number": sent.number},
        "issues.feed": {"slug": sent.publication},
        "subscribers.confirm": {"token": token_of["confirm"]},
        "subscribers.resend": {"token": token_of["confirm"]},
        "subscribers.unsubscribe_page": {"token": token_of["unsubscribe"]},
        "subscribers.unsubscribe": {"token": token_of["unsubscribe"]},
        "subscribers.preferences": {"token": token_of["preferences"]},
        "subscribers.data_copy": {"token": token_of["preferences"]},
        "subscribers.data_page": {"token": token_of["preferences"]},
        "subscribers.data_file": {"token": token_of["preferences"]},
        "subscribers.my_data": {"token": token_of["data_copy"]},
        "subscribers.my_data_file": {"token": token_of["data_copy"]},
        "subscribers.erase": {"token": token_of["preferences"]},
        "items_editor.show": {"item_id": ids["pending_item"]},
        "items_editor.edit": {"item_id": ids["pending_item"]},
        "items_editor.approve": {"item_id": ids["pending_item"]},
        "items_editor.reject": {"item_id": ids["pending_item"]},
        "items_editor.merge": {"item_id": ids["pending_item"]},
        "items_editor.edit_reason": {"reason_id": ids["reason"]},
        "items_editor.save_version": {"item_id": ids["pending_item"]},
        "items_editor.decide_version": {
            "item_id": ids["pending_item"],
            "version_id": ids["version"],
            "action": "freigeben",
        },
        "webhooks.endpoint": {"endpoint_id": ids["webhook"]},
        "webhooks.send_test": {"endpoint_id": ids["webhook"]},
        "webhooks.toggle": {"endpoint_id": ids["webhook"]},
        "webhooks.delete": {"endpoint_id": ids["webhook"]},
        "items_editor.delete_reason": {"reason_id": ids["reason"]},
        "auth.toggle_user": {"user_id": ids["editor"]},
        "auth.change_role": {"user_id": ids["editor"]},
        "auth.reset_user_totp": {"user_id": ids["editor"]},
        "auth.reset_password": {"token": token_of["password_reset"]},
        "subscribers_editor.export": {"publication": "ticker"},
        "delivery.progress": {"issue_id": ids["sending_issue"]},
        "delivery.pause": {"issue_id": ids["sending_issue"]},
        "delivery.resume": {"issue_id": ids["sending_issue"]},
        "delivery.cancel": {"issue_id": ids["sending_issue"]},
        "delivery.send_held": {"issue_id": ids["sending_issue"]},
        "api_tokens.revoke": {"token_id": ids["api_token"]},
        "api_public.item": {"item_id": ids["item"]},
        "api_delivery.progress": {"issue_id": ids["sending_issue"]},
        "api_subscribers.erase": {"subscriber_id": ids["subscriber"]},
        "api_subscribers.block": {"subscriber_id": ids["subscriber"]},
        "api_subscribers.unblock": {"subscriber_id": ids["subscriber"]},
    }
    for endpoint in ("pause", "resume", "cancel"):
        world.values[f"api_delivery.{endpoint}"] = {"issue_id": ids["sending_issue"]}
    for endpoint in ("show", "approve", "reject"):
        world.values[f"api_moderation.{endpoint}"] = {"item_id": ids["pending_item"]}
    for endpoint in (
        "show",
        "edit",
        "schedule",
        "unschedule",
        "test_send",
        "add_entry",
        "add_article",
        "reorder",
        "add_figure",
        "reorder_figures",
    ):
        world.values[f"api_issues.{endpoint}"] = {"issue_id": ids["draft"]}
    for endpoint in ("edit_article", "remove_entry"):
        world.values[f"api_issues.{endpoint}"] = {
            "issue_id": ids["draft"],
            "entry_id": ids["entry"],
        }
    for endpoint in ("edit_figure", "remove_figure"):
        world.values[f"api_issues.{endpoint}"] = {
            "issue_id": ids["draft"],
            "figure_id": ids["figure"],
        }
    for endpoint in (
        "compose",
        "save",
        "cancel",
        "add_article",
        "add_entry",
        "schedule",
        "reorder",
        "test_send",
        "preview",
        "preview_html",
        "restore",
        "add_figure",
        "unschedule",
        "choose_audience",
    ):
        world.values[f"issues_editor.{endpoint}"] = {"issue_id": ids["draft"]}
    world.values["issues_editor.change_entry"] = {
        "issue_id": ids["draft"],
        "entry_id": ids["entry"],
    }
    world.values["issues_editor.article_version"] = {
        "issue_id": ids["draft"],
        "entry_id": ids["entry"],
    }
    world.values["issues_editor.article_image"] = {
        "issue_id": ids["draft"],
        "entry_id": ids["entry"],
    }
    for endpoint in ("change_figure", "edit_figure"):
        world.values[f"issues_editor.{endpoint}"] = {
            "issue_id": ids["draft"],
            "figure_id": ids["figure"],
        }
    for endpoint in ("show", "consent", "erase", "block", "unblock"):
        world.values[f"subscribers_editor.{endpoint}"] = {"subscriber_id": ids["subscriber"]}
    world.values["subscribers_editor.unsubscribe"] = {
        "subscriber_id": ids["subscriber"],
        "publication": "ticker",
    }
    world.values["subscribers_editor.reinstate"] = {"subscriber_id": ids["bounced"]}
    world.values["subscribers_editor.bounce_run"] = {"run_id": ids["bounce_run"]}
    for endpoint in ("proof", "proof_download"):
        world.values[f"subscribers_editor.{endpoint}"] = {
            "subscriber_id": ids["proof_of"],
            "proof_id": ids["proof"],
        }
    for endpoint in ("import_preview", "import_report", "import_discard"):
        world.values[f"subscribers_editor.{endpoint}"] = {"import_id": ids["import"]}
    # Caught mails have keys only once the catcher has them; set_outbox_key fills them in.
    for endpoint in ("editor.outbox_mail", "editor.outbox_mail_html"):
        world.values[endpoint] = {"key": "no-such-mail"}
    session.flush()
    return world


def set_outbox_key(world: World, key: str) -> None:
    """Point the outbox routes at a caught mail."""
    for endpoint in ("editor.outbox_mail", "editor.outbox_mail_html"):
        world.values[endpoint] = {"key": key}


def _sending_issue(session: Session, settings: Settings, now: Any) -> int:
    """Schedule a copy of the ticker for now and start sending it; return its id."""
    from newsticker.core.site import site_links
    from newsticker.delivery import services as delivery
    from newsticker.issues.models import IssueEntry

    source = session.scalars(
        select(Issue).where(Issue.publication == "ticker", Issue.status == "draft")
    ).first()
    assert source is not None
    number = (
        max(i.number for i in session.scalars(select(Issue).where(Issue.publication == "ticker")))
        + 1
    )
    issue = Issue(
        publication="ticker",
        number=number,
        subject="Newsticker im Versand",
        status=IssueStatus.SCHEDULED.value,
        scheduled_at=now - timedelta(seconds=1),
        window_start=source.window_start,
    )
    for entry in source.entries[:3]:
        issue.entries.append(
            IssueEntry(
                section=entry.section,
                position=entry.position,
                item_id=entry.item_id,
                occurrence_start=entry.occurrence_start,
            )
        )
    session.add(issue)
    session.flush()
    delivery.start_issue(session, issue.id, now=now, settings=settings, links=site_links())
    return issue.id
