"""Tests for classifying returned mail, on realistic returned mails and built ones."""

import email
import email.policy
import json
from email.message import EmailMessage
from pathlib import Path

import pytest

from subscribers.bounces import (
    BounceKind,
    Finding,
    MessageKind,
    PoisonMessage,
    Reason,
    Verp,
    classify,
)

SAMPLES = Path(__file__).parent / "bounce_samples"
VERP = Verp("bounces", "newsticker.example.org")


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def one(data: bytes | EmailMessage, **kwargs) -> Finding:
    result = classify(data, **kwargs)
    assert result.kind == MessageKind.BOUNCE, result
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


def test_postfix_unknown_user_is_hard() -> None:
    finding = one(sample("postfix_hard_5_1_1.eml"))
    assert (finding.address, finding.kind, finding.reason, finding.status) == (
        "inge.thomsen@example.net",
        BounceKind.HARD,
        Reason.USER_UNKNOWN,
        "5.1.1",
    )
    assert "User unknown in virtual mailbox table" in finding.diagnostic


def test_exchange_online_ndr_is_hard_despite_auto_replied_header() -> None:
    finding = one(sample("exchange_online_ndr_5_1_10.eml"))
    assert (finding.address, finding.kind, finding.status) == (
        "k.petersen@stadtwerke.example.com",
        BounceKind.HARD,
        "5.1.10",
    )
    # Exchange Online says 5.1.10 for a mailbox it does not have; its words say so.
    assert finding.reason == Reason.USER_UNKNOWN
    assert "RecipientNotFound" in finding.diagnostic


def test_legacy_exchange_ndr_is_read_without_a_report() -> None:
    finding = one(sample("exchange_legacy_ndr.eml"))
    assert (finding.address, finding.kind) == ("hans.jensen@amt.example.com", BounceKind.HARD)


def test_mailbox_full_is_soft() -> None:
    finding = one(sample("postfix_mailbox_full_4_2_2.eml"))
    assert (finding.address, finding.kind, finding.reason, finding.status) == (
        "soeren.luethje@example.org",
        BounceKind.SOFT,
        Reason.MAILBOX_FULL,
        "4.2.2",
    )
    assert "Postfach voll" in finding.diagnostic


def test_delay_notice_is_a_delay() -> None:
    assert classify(sample("postfix_delayed_4_4_1.eml")).kind == MessageKind.DELAY


def test_policy_rejection_is_soft() -> None:
    finding = one(sample("policy_5_7_1.eml"))
    assert (finding.address, finding.kind, finding.status) == (
        "ahmad.alhassan@example.com",
        BounceKind.SOFT,
        "5.7.1",
    )
    assert finding.reason == Reason.BLOCKED
    assert "spamhaus" in finding.diagnostic


@pytest.mark.parametrize("name", ["out_of_office_outlook.eml", "vacation_sieve.eml"])
def test_auto_replies_are_auto_replies_even_at_a_verp_address(name: str) -> None:
    result = classify(sample(name), verp=VERP)
    assert (result.kind, result.findings) == (MessageKind.AUTO_REPLY, ())


def test_verp_bounce_carries_token_and_recipient() -> None:
    result = classify(sample("verp_qmail_5_1_1.eml"), verp=VERP)
    assert result.verp_token == "d8f3a1c09b7e4e21"
    finding = result.findings[0]
    assert (finding.address, finding.kind, finding.status) == (
        "gunther.krueger@example.net",
        BounceKind.HARD,
        "5.1.1",
    )
    assert "User unknown" in finding.diagnostic


def test_verp_token_is_not_read_without_a_prefix() -> None:
    assert classify(sample("verp_qmail_5_1_1.eml")).verp_token is None


def test_verp_domain_must_match() -> None:
    result = classify(sample("verp_qmail_5_1_1.eml"), verp=Verp("bounces", "other.example"))
    assert result.verp_token is None


@pytest.mark.parametrize("prefix", ["bounces", "bounces+", "BOUNCES"])
def test_verp_prefix_spellings(prefix: str) -> None:
    result = classify(sample("verp_qmail_5_1_1.eml"), verp=Verp(prefix))
    assert result.verp_token == "d8f3a1c09b7e4e21"


@pytest.mark.parametrize(
    ("return_path", "expected"),
    [
        ("bounces+{token}@news.example.org", Verp("bounces", "news.example.org")),
        ("bounces@news.example.org", None),
        ("", None),
    ],
)
def test_verp_from_the_return_path(return_path: str, expected: Verp | None) -> None:
    assert Verp.from_return_path(return_path) == expected


@pytest.mark.parametrize("header", ["X-Original-To", "Delivered-To", "To"])
def test_verp_token_with_a_dsn(header: str) -> None:
    message = email.message_from_bytes(
        sample("postfix_hard_5_1_1.eml"), policy=email.policy.compat32
    )
    for name in ("Delivered-To", "To"):
        del message[name]
    message[header] = "Newsticker <bounces+Tok3n-x_y@newsticker.example.org>"
    result = classify(message, verp=VERP)
    assert result.verp_token == "Tok3n-x_y"
    assert (result.findings[0].address, result.findings[0].kind) == (
        "inge.thomsen@example.net",
        BounceKind.HARD,
    )


def person(**headers: str) -> EmailMessage:
    body = headers.pop("body", "Ich bin nicht im Büro.")
    message = EmailMessage()
    message["From"] = headers.pop("From", "someone@example.net")
    message["To"] = headers.pop("To", "bounces+tok@newsticker.example.org")
    message["Subject"] = headers.pop("Subject", "Re: Newsticker KW 12")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def test_a_persons_mail_to_the_verp_address_is_other_mail() -> None:
    message = person(body="Bitte rufen Sie mich an, 0461 12345.")
    result = classify(message, verp=VERP)
    assert (result.kind, result.findings, result.verp_token) == (MessageKind.OTHER, (), "tok")


def test_ordinary_mail_is_other_mail() -> None:
    message = person(To="bounces@newsticker.example.org", Subject="Hallo")
    assert classify(message, verp=VERP).kind == MessageKind.OTHER
    assert classify(message.as_bytes()).kind == MessageKind.OTHER


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
        {"Subject": "Réponse automatique : Newsticker"},
        {"Subject": "Автоответ: Newsticker"},
        {"Subject": "Otomatik yanıt: Newsticker"},
        {"Subject": "Please confirm your message to me"},
        {"X_Boxbe_Challenge": "1"},
    ],
)
def test_auto_reply_signals(headers: dict[str, str]) -> None:
    message = person(**headers)
    assert classify(message, verp=VERP).kind == MessageKind.AUTO_REPLY
    assert classify(message.as_bytes(), verp=VERP).kind == MessageKind.AUTO_REPLY


def test_compat32_and_default_policy_messages_are_accepted() -> None:
    for policy in (email.policy.compat32, email.policy.default):
        message = email.message_from_bytes(sample("postfix_hard_5_1_1.eml"), policy=policy)
        assert classify(message).findings[0].kind == BounceKind.HARD


def dsn(*blocks: str, headers: str = "", text: str = "Report.") -> bytes:
    per_recipient = "\n\n".join(blocks)
    return f"""\
From: MAILER-DAEMON@relay.newsticker.example.org
To: bounces@newsticker.example.org
Subject: Delivery Status Notification
{headers}MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

{text}

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.newsticker.example.org

{per_recipient}

--B--
""".encode()


def test_every_failed_recipient_is_reported() -> None:
    data = dsn(
        "Final-Recipient: rfc822; slow@example.org\nAction: delayed\nStatus: 4.4.7",
        "Final-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1",
        "Final-Recipient: rfc822; full@example.org\nAction: failed\nStatus: 5.2.2",
        "Final-Recipient: rfc822; fine@example.org\nAction: delivered\nStatus: 2.0.0",
    )
    result = classify(data)
    assert result.kind == MessageKind.BOUNCE
    assert [(f.address, f.kind, f.reason) for f in result.findings] == [
        ("gone@example.org", BounceKind.HARD, Reason.USER_UNKNOWN),
        ("full@example.org", BounceKind.SOFT, Reason.MAILBOX_FULL),
    ]


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        ("delivered", MessageKind.DELIVERED),
        ("relayed", MessageKind.DELIVERED),
        ("expanded", MessageKind.DELIVERED),
        ("delayed", MessageKind.DELAY),
    ],
)
def test_reports_without_a_failure(action: str, kind: MessageKind) -> None:
    data = dsn(f"Final-Recipient: rfc822; a@example.org\nAction: {action}\nStatus: 2.0.0")
    assert classify(data).kind == kind


def test_a_report_is_never_an_auto_reply() -> None:
    data = dsn(
        "Final-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1",
        headers="Auto-Submitted: auto-replied\nX-Autoreply: yes\n",
    )
    assert classify(data).findings[0].kind == BounceKind.HARD


@pytest.mark.parametrize(
    ("status", "diagnostic", "kind", "reason", "expected_status"),
    [
        ("5.1.1", "", "hard", Reason.USER_UNKNOWN, "5.1.1"),
        ("5.1.2", "", "hard", Reason.HOST_UNKNOWN, "5.1.2"),
        ("5.1.6", "", "hard", Reason.MOVED, "5.1.6"),
        ("5.1.10", "", "hard", Reason.NO_MAIL_DOMAIN, "5.1.10"),
        ("5.4.4", "", "hard", Reason.HOST_UNKNOWN, "5.4.4"),
        ("5.2.2", "", "soft", Reason.MAILBOX_FULL, "5.2.2"),
        ("5.3.4", "", "soft", Reason.TOO_BIG, "5.3.4"),
        ("5.4.7", "", "soft", Reason.EXPIRED, "5.4.7"),
        ("5.7.26", "", "soft", Reason.POLICY, "5.7.26"),
        ("5.1.8", "", "soft", Reason.BLOCKED, "5.1.8"),
        ("4.2.2", "", "soft", Reason.MAILBOX_FULL, "4.2.2"),
        ("4.1.1", "", "soft", Reason.TEMPORARY, "4.1.1"),
        ("5.0.0 (permanent failure)", "", "soft", Reason.UNKNOWN, "5.0.0"),
        (
            "",
            "smtp; 550-5.1.1 The email account that you tried to reach does not exist",
            "hard",
            Reason.USER_UNKNOWN,
            "5.1.1",
        ),
        ("", "smtp; 452 4.2.2 Over quota", "soft", Reason.MAILBOX_FULL, "4.2.2"),
        (
            "5.1.1",
            "smtp; 550 5.1.1 <a@example.org>: mailbox full",
            "soft",
            Reason.MAILBOX_FULL,
            "5.1.1",
        ),
        ("5.0.0", "smtp; 550 Host unknown", "hard", Reason.HOST_UNKNOWN, "5.0.0"),
        (
            "5.0.0",
            "smtp; 554 5.7.1 Client host blocked using zen.spamhaus.org",
            "soft",
            Reason.BLOCKED,
            "5.7.1",
        ),
        ("5.0.0", "smtp; 550 Message rejected as spam", "soft", Reason.SPAM, "5.0.0"),
        ("5.0.0", "smtp; 421 Too many messages, rate limited", "soft", Reason.RATE_LIMIT, "5.0.0"),
        (
            "5.0.0",
            "smtp; 552 Message size exceeds fixed maximum message size",
            "soft",
            Reason.TOO_BIG,
            "5.0.0",
        ),
        (
            "5.0.0",
            "smtp; 550 Requested action not taken: mailbox unavailable",
            "hard",
            Reason.USER_UNKNOWN,
            "5.0.0",
        ),
        # "User unknown" with no command known may be a filter speaking.
        ("5.0.0", "smtp; 550 user unknown", "soft", Reason.SPAM, "5.0.0"),
        (
            "5.0.0",
            "smtp; 550 user unknown (in reply to RCPT TO command)",
            "hard",
            Reason.USER_UNKNOWN,
            "5.0.0",
        ),
        (
            "5.0.0",
            "smtp; 550 user unknown (in reply to end of DATA command)",
            "soft",
            Reason.SPAM,
            "5.0.0",
        ),
        (
            "5.0.0",
            "smtp; 553 5.1.0 sender domain does not exist (after MAIL FROM)",
            "soft",
            Reason.BLOCKED,
            "5.1.0",
        ),
        ("", "", "soft", Reason.UNKNOWN, ""),
        ("garbage", "smtp; 550 no such user here", "soft", Reason.SPAM, "5.0.0"),
    ],
)
def test_status_classification(
    status: str, diagnostic: str, kind: str, reason: Reason, expected_status: str
) -> None:
    lines = ["Final-Recipient: rfc822; a@example.org", "Action: failed"]
    if status:
        lines.append(f"Status: {status}")
    if diagnostic:
        lines.append(f"Diagnostic-Code: {diagnostic}")
    finding = classify(dsn("\n".join(lines))).findings[0]
    assert (finding.kind, finding.reason, finding.status) == (kind, reason, expected_status)


def test_original_recipient_is_preferred() -> None:
    data = dsn(
        "Original-Recipient: rfc822; anna@example.org\n"
        "Final-Recipient: rfc822; anna.schmidt@mail.example.org\n"
        "Action: failed\nStatus: 5.1.1"
    )
    assert classify(data).findings[0].address == "anna@example.org"


def test_opensmtpd_error_action_counts_as_failed() -> None:
    data = dsn("Final-Recipient: rfc822; <a@example.org>\nAction: error\nStatus: 5.1.1")
    assert classify(data).findings[0].address == "a@example.org"


def test_text_that_is_not_an_address_is_never_an_address() -> None:
    data = dsn(
        "Final-Recipient: rfc822; Undisclosed recipients\nAction: failed\nStatus: 5.1.1",
        "Final-Recipient: rfc822; a@b@example.org\nAction: failed\nStatus: 5.1.1",
        "Final-Recipient: rfc822; =?utf-8?q?x?=@example\nAction: failed\nStatus: 5.1.1",
    )
    result = classify(data)
    assert [f.address for f in result.findings] == [None, None, None]


def test_utf8_recipient_in_global_delivery_status() -> None:
    data = b"""\
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

Final-Recipient: utf-8; j\\x{FC}rgen@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 Benutzer unbekannt

--B--
"""
    finding = classify(data).findings[0]
    assert (finding.address, finding.kind, finding.status) == (
        "jürgen@example.org",
        BounceKind.HARD,
        "5.1.1",
    )


def test_report_without_recipient_blocks_and_a_token_is_a_soft_unknown() -> None:
    data = dsn("").replace(b"Report.", b"Nothing to see.")
    assert classify(data).kind == MessageKind.OTHER
    result = classify(data.replace(b"To: bounces@", b"To: bounces+t1@"), verp=VERP)
    assert result.verp_token == "t1"
    assert [(f.address, f.kind, f.reason) for f in result.findings] == [
        (None, BounceKind.SOFT, Reason.UNKNOWN)
    ]


def exim(text: str, **headers: str) -> bytes:
    head = "".join(f"{name.replace('_', '-')}: {value}\n" for name, value in headers.items())
    return f"""\
From: Mail Delivery System <Mailer-Daemon@mx.example.net>
To: bounces@newsticker.example.org
Subject: Mail delivery failed: returning message to sender
{head}
This message was created automatically by mail delivery software.

{text}

------ This is a copy of the message, including all the headers. ------

From: Newsticker <newsticker@newsticker.example.org>
To: someone@example.org
Subject: spam blocked full quota

Text about full halls and blocked roads.
""".encode()


def test_exim_notice_lists_every_failed_address_with_its_own_reason() -> None:
    data = exim(
        "  anna@example.org\n"
        "    SMTP error from remote mail server after RCPT TO:<anna@example.org>:\n"
        "    550 5.1.1 <anna@example.org>: Recipient address rejected: User unknown\n"
        "  bernd@example.org\n"
        "    SMTP error from remote mail server after RCPT TO:<bernd@example.org>:\n"
        "    552 5.2.2 <bernd@example.org>: Mailbox full\n",
        X_Failed_Recipients="anna@example.org, bernd@example.org",
    )
    result = classify(data)
    assert [(f.address, f.kind, f.reason) for f in result.findings] == [
        ("anna@example.org", BounceKind.HARD, Reason.USER_UNKNOWN),
        ("bernd@example.org", BounceKind.SOFT, Reason.MAILBOX_FULL),
    ]


def test_the_returned_copy_is_never_read_for_addresses_or_reasons() -> None:
    data = exim(
        "  anna@example.org\n"
        "    SMTP error from remote mail server after RCPT TO:<anna@example.org>:\n"
        "    550 5.1.1 User unknown\n"
    )
    result = classify(data)
    assert [(f.address, f.reason) for f in result.findings] == [
        ("anna@example.org", Reason.USER_UNKNOWN)
    ]


def test_a_delay_notice_without_a_report() -> None:
    data = exim(
        "  anna@example.org\n    Delay reason: mailbox full (4.2.2)\n"
        "No action is required on your part. Delivery attempts will continue for some time."
    ).replace(b"Mail delivery failed: returning message to sender", b"Warning: message delayed")
    assert classify(data).kind == MessageKind.DELAY


def arf(
    feedback_type: str = "abuse", rcpt: str = "anna@example.org", original_to: str = ""
) -> bytes:
    rcpt_line = f"Original-Rcpt-To: {rcpt}\n" if rcpt else ""
    return f"""\
From: feedbackloop@provider.example
To: fbl@newsticker.example.org
Subject: FW: Newsticker KW 12
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

This is an email abuse report.

--F
Content-Type: message/feedback-report

Feedback-Type: {feedback_type}
User-Agent: FBL/1.0
Version: 1
{rcpt_line}
--F
Content-Type: message/rfc822

Return-Path: <bounces+7-abcdef0123456789@newsticker.example.org>
From: Newsticker <newsticker@newsticker.example.org>
To: {original_to or "redacted@provider.example"}
Subject: Newsticker KW 12

Text.
--F--
""".encode()


def test_feedback_report_is_a_complaint_about_the_original_recipient() -> None:
    result = classify(arf())
    assert result.kind == MessageKind.COMPLAINT
    assert [(f.address, f.kind) for f in result.findings] == [
        ("anna@example.org", BounceKind.COMPLAINT)
    ]


def test_redacted_feedback_report_finds_the_verp_token_of_the_original() -> None:
    result = classify(arf(rcpt=""), verp=VERP)
    assert result.kind == MessageKind.COMPLAINT
    assert result.verp_token == "7-abcdef0123456789"


@pytest.mark.parametrize("feedback_type", ["auth-failure", "not-spam"])
def test_reports_that_are_no_complaint(feedback_type: str) -> None:
    assert classify(arf(feedback_type=feedback_type)).kind == MessageKind.OTHER


def ses(notification: dict, wrapped: bool = True) -> bytes:
    body = json.dumps(notification)
    if wrapped:
        body = json.dumps({"Type": "Notification", "Message": body})
    return (
        "From: no-reply@sns.amazonaws.com\nTo: bounces@newsticker.example.org\n"
        f"Subject: AWS Notification Message\nContent-Type: text/plain\n\n{body}\n"
    ).encode()


def test_amazon_ses_bounce_and_complaint() -> None:
    bounce = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [
                {"emailAddress": "gone@example.org", "status": "5.1.1",
                 "diagnosticCode": "smtp; 550 5.1.1 user unknown"},
                {"emailAddress": {"nested": "object"}},
                {"emailAddress": "not an address"},
                "a string, not an object",
            ],
        },
    }  # fmt: skip
    result = classify(ses(bounce))
    assert [(f.address, f.kind) for f in result.findings] == [("gone@example.org", BounceKind.HARD)]
    complaint = {
        "notificationType": "Complaint",
        "complaint": {"complainedRecipients": [{"emailAddress": "anna@example.org"}]},
    }
    result = classify(ses(complaint, wrapped=False))
    assert (result.kind, result.findings[0].address) == (MessageKind.COMPLAINT, "anna@example.org")


def test_broken_provider_json_is_ignored_safely() -> None:
    data = ses({"notificationType": "Bounce", "bounce": "oops"})
    assert classify(data).kind == MessageKind.OTHER
    deep = b"From: x@example.org\nTo: y@example.org\n\n" + b'{"a":' * 5000 + b"1" + b"}" * 5000
    assert classify(deep).kind == MessageKind.OTHER


def test_unsubscribe_mail_to_the_unsubscribe_address() -> None:
    message = person(
        From="Anna <anna@example.org>",
        To="abmelden@newsticker.example.org",
        Subject="unsubscribe ticker",
        body="",
    )
    result = classify(message, unsubscribe_address="abmelden@newsticker.example.org")
    assert (result.kind, result.list_word, result.authenticated) == (
        MessageKind.UNSUBSCRIBE,
        "ticker",
        True,
    )
    assert result.findings[0].address == "anna@example.org"


def test_unsubscribe_mail_with_a_failed_dmarc_check_is_not_trusted() -> None:
    message = person(
        From="anna@example.org",
        To="abmelden+x@newsticker.example.org",
        Subject="Abmelden",
        Authentication_Results="mx.newsticker.example.org; dmarc=fail header.from=example.org",
    )
    result = classify(message, unsubscribe_address="abmelden@newsticker.example.org")
    assert (result.kind, result.list_word, result.authenticated) == (
        MessageKind.UNSUBSCRIBE,
        "",
        False,
    )


def test_a_reply_to_the_unsubscribe_address_that_is_an_auto_reply_is_still_a_request() -> None:
    # Apple Mail marks its unsubscribe mails auto-replied and X-Apple-Unsubscribe.
    message = person(
        To="opt-out@lists.example.org",
        Subject="unsubscribe",
        X_Apple_Unsubscribe="true",
        Auto_Submitted="auto-replied",
    )
    assert classify(message).kind == MessageKind.UNSUBSCRIBE


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"   \r\n\r\n  ", "empty"),
        (b"\x00\xff\xfe garbage \r\n\r\n\x80", "binary"),
        (bytes(range(256)) * 40, "binary"),
        (b"From: a@example.org\r\nSubject: \xff\xfe\xfd\r\n\r\nbody", "invalid code points"),
        (b"From: a@example.org\r\nSubject: x\x01y\r\n\r\nbody", "control characters"),
        (
            b"From: a@example.org\r\nSubject: \xed\xa0\x80 surrogate\r\n\r\nbody",
            "invalid code points",
        ),
    ],
)
def test_poison_messages(raw: bytes, reason: str) -> None:
    with pytest.raises(PoisonMessage, match=reason):
        classify(raw)


def nested(depth: int) -> bytes:
    head = b"From: a@example.org\r\nTo: b@example.org\r\nMIME-Version: 1.0\r\n"
    parts = [head]
    for level in range(depth):
        parts.append(
            b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        )
    parts.append(b"Content-Type: text/plain\r\n\r\nhi\r\n")
    for level in reversed(range(depth)):
        parts.append(b"--b%d--\r\n" % level)
    return b"".join(parts)


def test_deep_nesting_is_poison_and_shallow_nesting_is_not() -> None:
    assert classify(nested(5)).kind == MessageKind.OTHER
    with pytest.raises(PoisonMessage, match="nested"):
        classify(nested(60))
    with pytest.raises(PoisonMessage, match="MIME"):
        classify(nested(300))


def test_truncated_message_with_nothing_readable_is_poison() -> None:
    data = dsn("Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1")
    cut = data[: data.index(b"Content-Type: message/delivery-status")]
    cut = cut.replace(b"Report.", b"")
    with pytest.raises(PoisonMessage, match="truncated"):
        classify(cut.replace(b"Delivery Status Notification", b"Hello"))


def test_truncated_report_that_can_still_be_read_is_read() -> None:
    data = dsn("Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1")
    cut = data[: data.rindex(b"--B--")]
    assert classify(cut).findings[0].kind == BounceKind.HARD


def test_oversized_message_is_poison() -> None:
    data = b"From: a@example.org\r\n\r\n" + b"x" * (10 * 1024 * 1024 + 1)
    with pytest.raises(PoisonMessage, match="larger"):
        classify(data)


def test_a_wrapped_reply_is_read_whole() -> None:
    # Exim wraps the remote reply: the words after the line break decide.
    data = exim(
        "  kim@example.ch\n"
        "    SMTP error from remote mail server after RCPT TO:<kim@example.ch>:\n"
        "    host mx1.example.eu [192.0.2.32]: 554 5.7.1 <kim@example.ch>:\n"
        "    Recipient address rejected: Access denied\n"
    )
    finding = classify(data).findings[0]
    assert (finding.address, finding.kind, finding.reason) == (
        "kim@example.ch",
        BounceKind.HARD,
        Reason.USER_UNKNOWN,
    )


def test_the_next_reply_of_a_transcript_is_another_statement() -> None:
    data = exim(
        ">>> RCPT To:<kim@example.org>\n"
        "<<< 550 <kim@example.org>, User Unknown\n"
        "421 example.org (smtp)... Deferred: Connection timed out during user open\n"
    )
    assert classify(data).findings[0].kind == BounceKind.HARD


def test_domino_names_a_missing_user_in_its_own_words() -> None:
    data = (
        b"From: Postmaster@example.jp\nTo: bounces@newsticker.example.org\n"
        b"Subject: DELIVERY FAILURE: User Kim (kim@example.jp) not listed in Domino Directory\n"
        b"Content-Type: Text/Plain\n\nYour message\n\nwas not delivered to:\n\n  kim@example.jp\n\n"
        b"because:\n\n  User kim (kim@example.jp) not listed in Domino Directory\n"
    )
    finding = classify(data).findings[0]
    assert (finding.address, finding.kind) == ("kim@example.jp", BounceKind.HARD)


def test_a_notice_in_a_multipart_without_its_boundary_is_still_read() -> None:
    data = (
        b"From: post_master@mms.example.com\nTo: bounces@newsticker.example.org\n"
        b"Subject: Re: Newsticker\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="outer"\n\n--outer\n'
        b'Content-Type: multipart/alternative;\nboundary="inner"\n\n'
        b"Error: Invalid user address\n\n550 - Requested action not taken: no such user here\n\n"
        b"  RCPT TO: 0123@mms.example.com\n\n--outer--\n"
    )
    result = classify(data)
    assert [(f.address, f.kind) for f in result.findings] == [
        ("0123@mms.example.com", BounceKind.HARD)
    ]
