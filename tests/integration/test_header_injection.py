"""No text a person types can add a header to a mail: checked on the bytes the relay gets.

Every place where typed text reaches a mail header is driven through its real path
(form, editor action, sender) to the loopback catcher, and the raw header block it
received is read line by line. The payloads are the kinds that worked against Python's
own mail library: an encoded word that decodes to a line break (CVE-2024-6923), raw
CR/LF, and the line breaks Unicode adds (NEL, U+2028).
"""

from __future__ import annotations

import base64
import mailbox
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from newsticker.core.catcher import MailCatcher
from newsticker.core.db import utcnow
from newsticker.core.site import app_settings, site_links
from newsticker.delivery import services
from newsticker.delivery.sender import IssueSender
from newsticker.items.models import Item
from tests.factories import (
    committed_app,
    event_form,
    in_transaction,
    make_issue,
    make_item,
    make_subscriber,
    post_multipart,
    scheduled_issue,
    subscribe_form,
)

pytestmark = pytest.mark.usefixtures("no_csrf")

INJECTED = "Bcc: someone@evil.example"
PAYLOADS = {
    "encoded word, q": "=?utf-8?q?x=0D=0ABcc:_someone@evil.example?=",
    "encoded word, b": "=?utf-8?b?"
    + base64.b64encode(("x\r\n" + INJECTED).encode()).decode()
    + "?=",
    "encoded word, folded": "=?utf-8?q?x?=\r\n =?utf-8?q?=0D=0ABcc:_someone@evil.example?=",
    "CR LF": "Fest\r\n" + INJECTED,
    "NEL": "Fest\x85" + INJECTED,
    "line separator": "Fest\u2028" + INJECTED,
    "paragraph separator": "Fest\u2029" + INJECTED,
    "empty line": "Fest\r\n\r\n<b>new body</b>",
}
ENCODED_WORDS = {
    k: v for k, v in PAYLOADS.items() if k.startswith("encoded word, ") and "\r" not in v
}


def raw_mails(catcher: MailCatcher) -> list[bytes]:
    """Return the bytes of every message the catcher received, as received."""
    if not catcher.maildir.is_dir():
        return []
    box = mailbox.Maildir(str(catcher.maildir), create=False)
    return [box.get_bytes(key) for key in box.iterkeys()]


def header_lines(raw: bytes) -> list[bytes]:
    """Return the header block's lines (the catcher stores LF line ends)."""
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    return head.split(b"\n")


def assert_only_our_headers(raw: bytes, *, rcpt: str) -> str:
    """Check that no header was added and the envelope went to rcpt; return the subject."""
    lines = header_lines(raw)
    names = [line.split(b":", 1)[0].lower() for line in lines if line[:1] not in (b" ", b"\t")]
    assert b"bcc" not in names and b"cc" not in names, lines
    assert names.count(b"subject") == 1 and names.count(b"to") == 1, lines
    for line in lines:
        assert line.isascii(), f"an unencoded header line: {line!r}"
        assert b"\r" not in line and b"\x85" not in line
        # A continuation line is whitespace first; anything else names a header of ours.
        assert line[:1] in (b" ", b"\t") or b":" in line, line
    assert b"evil.example" not in b"".join(
        line for line in lines if line.lower().startswith((b"bcc", b"cc", b"x-envelope-to"))
    )
    message = message_from_bytes(raw, policy=policy.default)
    assert message["X-Envelope-To"] == rcpt
    assert message["To"].addresses[0].addr_spec == rcpt and len(message["To"].addresses) == 1
    body = message.get_body(("plain",))
    assert body is not None and "<b>new body</b>" not in body.get_content().split("\n", 1)[0]
    return str(message["Subject"])


def _literal(payload: str) -> str:
    """Return what a one-line subject keeps of a payload: its words, line breaks gone."""
    return " ".join(payload.replace("\x85", " ").replace("\u2028", " ").split())


# ---------------------------------------------------------------- anonymous visitors


@pytest.mark.parametrize("kind", PAYLOADS)
def test_a_submission_title_cannot_add_headers_to_the_receipt(client, db, catcher, kind):
    payload = PAYLOADS[kind]
    response = post_multipart(client, "/einreichen", event_form(title=payload))
    received = raw_mails(catcher)
    if response.status_code == 422:
        # Refused at the door: nothing stored, nothing sent.
        assert db.scalars(select(Item)).all() == [] and received == []
        return
    assert response.status_code == 303
    (raw,) = received
    subject = assert_only_our_headers(raw, rcpt="helferin@example.org")
    if kind in ENCODED_WORDS:
        # The encoded word is the visitor's text, kept literally, never decoded.
        assert subject == f"Wir haben Ihre Einreichung erhalten: {payload}"


def test_every_line_break_kind_is_refused_in_a_title(client, db, catcher):
    refused = [
        kind
        for kind, payload in PAYLOADS.items()
        if kind not in ENCODED_WORDS
        and post_multipart(client, "/einreichen", event_form(title=payload)).status_code == 422
    ]
    assert refused == [k for k in PAYLOADS if k not in ENCODED_WORDS]
    assert raw_mails(catcher) == []


@pytest.mark.parametrize("kind", PAYLOADS)
def test_a_name_typed_at_sign_up_never_reaches_the_confirmation_headers(client, db, catcher, kind):
    response = client.post("/abonnieren", data=subscribe_form(name=PAYLOADS[kind]))
    received = raw_mails(catcher)
    if response.status_code == 422:
        assert received == []
        return
    assert response.status_code in (200, 303)
    (raw,) = received
    assert_only_our_headers(raw, rcpt="neu@example.org")
    to = [line for line in header_lines(raw) if line.lower().startswith(b"to:")]
    # Transactional mail goes to the bare address: the typed name is never a header.
    assert to == [b"To: neu@example.org"]


# ---------------------------------------------------------------- editors' decisions


@pytest.mark.parametrize("kind", ENCODED_WORDS)
@pytest.mark.parametrize(
    ("action", "data", "prefix"),
    [
        ("freigeben", {}, "Veröffentlicht: "),
        ("ablehnen", {"reason": "Passt nicht zum Ticker."}, "Nicht veröffentlicht: "),
    ],
)
def test_a_title_cannot_add_headers_to_the_decision_mail(
    client, db, editor, catcher, kind, action, data, prefix
):
    payload = PAYLOADS[kind]
    item = make_item(db, title=payload, status="submitted", submitter_email="verein@example.org")
    response = client.post(f"/redaktion/einreichungen/{item.id}/{action}", data=data)
    assert response.status_code in (302, 303)
    decisions = [r for r in raw_mails(catcher) if b"verein@example.org" in r]
    (raw,) = decisions
    assert assert_only_our_headers(raw, rcpt="verein@example.org") == prefix + payload


@pytest.mark.parametrize("kind", PAYLOADS)
def test_an_issue_subject_cannot_add_headers_to_a_test_send(client, db, editor, catcher, kind):
    issue = make_issue(db, items=[make_item(db)], subject=PAYLOADS[kind])
    response = client.post(
        f"/redaktion/ausgaben/{issue.id}/test",
        data={"addresses": "probe@example.org", "language": "de"},
    )
    assert response.status_code == 303
    (raw,) = raw_mails(catcher)
    subject = assert_only_our_headers(raw, rcpt="probe@example.org")
    assert subject.startswith("[TEST] ")
    if kind in ENCODED_WORDS:
        assert subject == f"[TEST] {PAYLOADS[kind]}"
    else:
        assert subject == f"[TEST] {_literal(PAYLOADS[kind])}"


# ---------------------------------------------------------------- the issue itself


def test_names_and_subjects_cannot_add_headers_to_an_issue(tmp_path, catcher):
    app = committed_app(tmp_path, **{"smtp.port": catcher.port, "delivery.connections": 1})
    settings = app_settings(app)
    rcpts = {}
    for n, (kind, payload) in enumerate(PAYLOADS.items()):
        address = f"leser{n}@example.org"
        rcpts[address] = kind
        in_transaction(app, lambda s, a=address, p=payload: make_subscriber(s, a, name=p))

    def issue_with_hostile_subject(session):
        issue = scheduled_issue(session)
        issue.subject = PAYLOADS["encoded word, q"] + " " + PAYLOADS["line separator"]
        return issue.id

    issue_id = in_transaction(app, issue_with_hostile_subject)
    in_transaction(
        app,
        lambda s: services.start_issue(
            s, issue_id, now=utcnow(), settings=settings, links=site_links(app)
        ),
    )
    run = IssueSender(app, settings, connect_backoff=(0, 0)).drain(issue_id, wait=True)
    assert run.sent == len(PAYLOADS)
    envelope = policy.default.clone(raise_on_defect=False)
    received = [
        r
        for r in raw_mails(catcher)
        if message_from_bytes(r, policy=envelope)["X-Envelope-To"] in rcpts
    ]
    assert len(received) == len(PAYLOADS)
    expected_subject = _literal(PAYLOADS["encoded word, q"] + " " + PAYLOADS["line separator"])
    for raw in received:
        rcpt = message_from_bytes(raw, policy=policy.default)["X-Envelope-To"]
        assert rcpt in rcpts
        assert assert_only_our_headers(raw, rcpt=rcpt) == expected_subject
        to = message_from_bytes(raw, policy=policy.default)["To"].addresses[0]
        if rcpts[rcpt] in ENCODED_WORDS:
            # The name is shown as typed, never decoded into something else (Python's
            # parser puts a space between two encoded words of a name; readers do not).
            typed = PAYLOADS[rcpts[rcpt]]
            assert to.display_name.replace(" ", "") == typed.replace(" ", "")
