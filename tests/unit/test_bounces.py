"""Tests for bounce classification, on realistic returned mails."""

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from subscribers.bounces import BounceResult, parse_bounce

SAMPLES = Path(__file__).parent / "bounce_samples"
VERP = {"verp_prefix": "bounces", "verp_domain": "newsticker.example.org"}


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def test_postfix_unknown_user_is_hard() -> None:
    assert parse_bounce(sample("postfix_hard_5_1_1.eml")) == BounceResult(
        recipient="inge.thomsen@example.net",
        verp_token=None,
        kind="hard",
        status="5.1.1",
        reason=(
            "550 5.1.1 <inge.thomsen@example.net>: Recipient address rejected: "
            "User unknown in virtual mailbox table"
        ),
    )


def test_exchange_online_ndr_is_hard_despite_auto_replied_header() -> None:
    result = parse_bounce(sample("exchange_online_ndr_5_1_10.eml"))
    assert result is not None
    assert (result.recipient, result.kind, result.status) == (
        "k.petersen@stadtwerke.example.com",
        "hard",
        "5.1.10",
    )
    assert "RecipientNotFound" in result.reason


def test_legacy_exchange_ndr_falls_back_to_flufl_bounce() -> None:
    result = parse_bounce(sample("exchange_legacy_ndr.eml"))
    assert result is not None
    assert (result.recipient, result.kind, result.status) == (
        "hans.jensen@amt.example.com",
        "hard",
        "",
    )


def test_mailbox_full_is_soft() -> None:
    result = parse_bounce(sample("postfix_mailbox_full_4_2_2.eml"))
    assert result is not None
    assert (result.recipient, result.kind, result.status) == (
        "soeren.luethje@example.org",
        "soft",
        "4.2.2",
    )
    assert "Postfach voll" in result.reason


def test_delay_notice_is_ignored() -> None:
    assert parse_bounce(sample("postfix_delayed_4_4_1.eml")) is None


def test_policy_rejection_is_soft() -> None:
    result = parse_bounce(sample("policy_5_7_1.eml"))
    assert result is not None
    assert (result.recipient, result.kind, result.status) == (
        "ahmad.alhassan@example.com",
        "soft",
        "5.7.1",
    )
    assert result.is_policy
    assert "spamhaus" in result.reason


@pytest.mark.parametrize("name", ["out_of_office_outlook.eml", "vacation_sieve.eml"])
def test_auto_replies_are_ignored_even_at_a_verp_address(name: str) -> None:
    assert parse_bounce(sample(name), **VERP) is None


def test_verp_bounce_carries_token_and_recipient() -> None:
    result = parse_bounce(sample("verp_qmail_5_1_1.eml"), **VERP)
    assert result is not None
    assert result.verp_token == "d8f3a1c09b7e4e21"
    assert (result.recipient, result.kind, result.status) == (
        "gunther.krueger@example.net",
        "hard",
        "5.1.1",
    )
    assert "User unknown" in result.reason


def test_verp_token_is_not_read_without_a_prefix() -> None:
    result = parse_bounce(sample("verp_qmail_5_1_1.eml"))
    assert result is not None
    assert result.verp_token is None


def test_verp_domain_must_match() -> None:
    result = parse_bounce(
        sample("verp_qmail_5_1_1.eml"), verp_prefix="bounces", verp_domain="other.example"
    )
    assert result is not None
    assert result.verp_token is None


@pytest.mark.parametrize("prefix", ["bounces", "bounces+", "BOUNCES"])
def test_verp_prefix_spellings(prefix: str) -> None:
    result = parse_bounce(sample("verp_qmail_5_1_1.eml"), verp_prefix=prefix)
    assert result is not None
    assert result.verp_token == "d8f3a1c09b7e4e21"


@pytest.mark.parametrize("header", ["X-Original-To", "Delivered-To", "To"])
def test_verp_token_with_a_dsn(header: str) -> None:
    message = email.message_from_bytes(
        sample("postfix_hard_5_1_1.eml"), policy=email.policy.default
    )
    for name in ("Delivered-To", "To"):
        del message[name]
    message[header] = "Newsticker <bounces+Tok3n-x_y@newsticker.example.org>"
    result = parse_bounce(message, **VERP)
    assert result is not None
    assert (result.verp_token, result.recipient, result.kind) == (
        "Tok3n-x_y",
        "inge.thomsen@example.net",
        "hard",
    )


def test_unrecognised_mail_to_verp_address_is_soft() -> None:
    message = EmailMessage()
    message["From"] = "someone@example.net"
    message["To"] = "bounces+abc123@newsticker.example.org"
    message["Subject"] = "Re: Newsticker"
    message.set_content("Bitte nehmen Sie mich aus dem Verteiler.")
    assert parse_bounce(message, **VERP) == BounceResult(
        recipient=None,
        verp_token="abc123",
        kind="soft",
        status="",
        reason="Unrecognised message to the bounce address",
    )


def test_ordinary_mail_is_no_bounce() -> None:
    message = EmailMessage()
    message["From"] = "someone@example.net"
    message["To"] = "bounces@newsticker.example.org"
    message["Subject"] = "Hallo"
    message.set_content("Nur eine Frage.")
    assert parse_bounce(message, **VERP) is None
    assert parse_bounce(message.as_bytes()) is None


def auto_reply(**headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "someone@example.net"
    message["To"] = "bounces+tok@newsticker.example.org"
    message["Subject"] = headers.pop("Subject", "Re: Newsticker KW 12")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Ich bin nicht im Büro.")
    return message


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Auto_Submitted": "Auto-Replied; owner-email=someone@example.net"},
        {"X_Autoreply": "yes"},
        {"X_Autorespond": "Out of office"},
        {"Precedence": "auto_reply"},
        {"Subject": "Out of Office: Newsticker KW 12"},
        {"Subject": "Automatic reply: Newsticker KW 12"},
        {"Subject": "Automatische Antwort: Newsticker KW 12"},
        {"Subject": "Abwesenheitsnotiz: Newsticker KW 12"},
        {"Subject": "=?utf-8?q?Abwesenheitsnotiz=3A_Newsticker?="},
    ],
)
def test_auto_reply_signals(headers: dict[str, str]) -> None:
    message = auto_reply(**headers)
    assert parse_bounce(message, **VERP) is None
    assert parse_bounce(message.as_bytes(), **VERP) is None


def test_auto_generated_is_not_an_auto_reply() -> None:
    # Bounces themselves are "auto-generated"; only replies are skipped.
    message = auto_reply(Auto_Submitted="auto-generated")
    result = parse_bounce(message, **VERP)
    assert result is not None
    assert result.kind == "soft"


def test_compat32_messages_are_accepted() -> None:
    message = email.message_from_bytes(sample("postfix_hard_5_1_1.eml"))
    result = parse_bounce(message)
    assert result is not None
    assert result.kind == "hard"
    legacy = email.message_from_bytes(sample("out_of_office_outlook.eml"))
    assert parse_bounce(legacy, **VERP) is None


def dsn(*blocks: str) -> bytes:
    per_recipient = "\n\n".join(blocks)
    return f"""\
From: MAILER-DAEMON@relay.newsticker.example.org
To: bounces@newsticker.example.org
Subject: Delivery Status Notification
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Report.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.newsticker.example.org

{per_recipient}

--B--
""".encode()


def test_failed_recipient_wins_over_delayed_one() -> None:
    data = dsn(
        "Final-Recipient: rfc822; slow@example.org\nAction: delayed\nStatus: 4.4.7",
        "Final-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1",
    )
    result = parse_bounce(data)
    assert result is not None
    assert (result.recipient, result.kind) == ("gone@example.org", "hard")
    assert result.reason == "Bad destination mailbox address"


@pytest.mark.parametrize("action", ["delivered", "relayed", "expanded", "delayed"])
def test_non_failures_are_no_bounce(action: str) -> None:
    data = dsn(f"Final-Recipient: rfc822; a@example.org\nAction: {action}\nStatus: 2.0.0")
    assert parse_bounce(data) is None


@pytest.mark.parametrize(
    ("status", "diagnostic", "kind", "expected_status"),
    [
        ("5.1.1", "", "hard", "5.1.1"),
        ("5.2.1", "", "hard", "5.2.1"),
        ("5.4.4", "", "hard", "5.4.4"),
        ("5.2.2", "", "soft", "5.2.2"),
        ("5.7.26", "", "soft", "5.7.26"),
        ("4.2.2", "", "soft", "4.2.2"),
        ("5.0.0 (permanent failure)", "", "hard", "5.0.0"),
        ("", "smtp; 550-5.1.1 The email account does not exist", "hard", "5.1.1"),
        ("", "smtp; 452 4.2.2 Over quota", "soft", "4.2.2"),
        ("", "", "hard", ""),
        ("garbage", "smtp; 550 no such user", "hard", ""),
    ],
)
def test_status_classification(
    status: str, diagnostic: str, kind: str, expected_status: str
) -> None:
    lines = ["Final-Recipient: rfc822; a@example.org", "Action: failed"]
    if status:
        lines.append(f"Status: {status}")
    if diagnostic:
        lines.append(f"Diagnostic-Code: {diagnostic}")
    result = parse_bounce(dsn("\n".join(lines)))
    assert result is not None
    assert (result.kind, result.status) == (kind, expected_status)


def test_original_recipient_is_preferred() -> None:
    data = dsn(
        "Original-Recipient: rfc822; anna@example.org\n"
        "Final-Recipient: rfc822; anna.schmidt@mail.example.org\n"
        "Action: failed\nStatus: 5.1.1"
    )
    result = parse_bounce(data)
    assert result is not None
    assert result.recipient == "anna@example.org"


def test_opensmtpd_error_action_counts_as_failed() -> None:
    data = dsn("Final-Recipient: rfc822; <a@example.org>\nAction: error\nStatus: 5.1.1")
    result = parse_bounce(data)
    assert result is not None
    assert result.recipient == "a@example.org"


def test_utf8_recipient_in_global_delivery_status() -> None:
    data = f"""\
From: MAILER-DAEMON@relay.newsticker.example.org
To: bounces@newsticker.example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=global-delivery-status; boundary="B"

--B
Content-Type: text/plain

Report.

--B
Content-Type: message/global-delivery-status

Reporting-MTA: dns; relay.newsticker.example.org

Final-Recipient: utf-8; j\\x{{FC}}rgen@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 {"Benutzer unbekannt"}

--B--
""".encode()
    result = parse_bounce(data)
    assert result is not None
    assert (result.recipient, result.kind, result.status) == (
        "jürgen@example.org",
        "hard",
        "5.1.1",
    )


def test_report_without_recipient_blocks_falls_through() -> None:
    data = dsn("").replace(b"Report.", b"Nothing to see.")
    assert parse_bounce(data) is None
    assert parse_bounce(data.replace(b"To: bounces@", b"To: bounces+t1@"), **VERP) == (
        BounceResult(None, "t1", "soft", "", "Unrecognised message to the bounce address")
    )


def test_garbage_bytes_do_not_crash() -> None:
    assert parse_bounce(b"\x00\xff\xfe garbage \r\n\r\n\x80") is None
    assert parse_bounce(b"") is None
