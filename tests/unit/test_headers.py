"""Headers from text: nothing a person types can add a header or be decoded as one."""

import email
from email import policy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsticker.core.headers import (
    HeaderError,
    address_header,
    clean_text,
    encode_words,
    fold_header,
    parse_mailbox,
)
from newsticker.core.mail import MailError, build_message

ENCODED_CRLF = "=?utf-8?q?x=0D=0ABcc:_someone@evil.example?="
ENCODED_BLANK_LINE = "=?utf-8?b?eA0KDQo8c2NyaXB0Pg==?="  # "x\r\n\r\n<script>"
PAYLOADS = [
    ENCODED_CRLF,
    ENCODED_BLANK_LINE,
    "=?iso-8859-1?q?=0ABcc=3A_x=40evil.example?=",
    "a\x00b\x1bc\x7fd\x9be",
    "Überschrift =?utf-8?q?=0A?= mit Umlaut",
]


def _parse(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def _message(**fields):
    values = {
        "sender": "Stadt Flensburg <newsticker@flensburg.example>",
        "to": "leser@example.org",
        "subject": "Hallo",
        "text": "Text\n",
    }
    values.update(fields)
    return build_message(**values)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_encoded_words_typed_by_someone_stay_literal_text(payload):
    raw = _message(subject=f"Wir haben Ihre Einreichung erhalten: {payload}").as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0] for line in head.split(b"\r\n") if line[:1] not in b" \t"]
    assert b"Bcc" not in names
    assert sorted(names) == sorted(
        [
            b"From",
            b"To",
            b"Subject",
            b"Date",
            b"Message-ID",
            b"Content-Type",
            b"Content-Transfer-Encoding",
            b"MIME-Version",
        ]
    )
    subject = str(_parse(raw)["Subject"])
    assert subject == "Wir haben Ihre Einreichung erhalten: " + clean_text(payload)
    assert "\r" not in subject and "\n" not in subject


@pytest.mark.parametrize("brk", ["\r", "\n", "\r\n", "\x85", "\u2028", "\u2029", "\x0b"])
@pytest.mark.parametrize("field", ["subject", "to", "sender", "reply_to"])
def test_a_line_break_in_any_header_value_is_refused(field, brk):
    with pytest.raises(MailError):
        _message(**{field: f"x{brk}Bcc: victim@example.org"})


@pytest.mark.parametrize(
    "value",
    [
        "a@example.org, b@example.org",
        "a@example.org; b@example.org",
        "victim@example.org\x00",
        "<a@example.org>, <b@example.org>",
        "no address at all",
        "Name <a@example.org> <b@example.org>",
    ],
)
def test_an_address_header_carries_one_address_and_nothing_else(value):
    with pytest.raises(MailError):
        _message(to=value)


def test_display_names_are_quoted_or_encoded_never_parsed():
    assert address_header("Stadt Flensburg", "a@example.org") == "Stadt Flensburg <a@example.org>"
    assert address_header('Eve "x" <e@evil>', "a@example.org") == (
        '"Eve \\"x\\" <e@evil>" <a@example.org>'
    )
    hostile = "=?utf-8?q?x=0D=0ABcc:_someone@evil.example?="
    value = address_header(hostile, "a@example.org")
    assert value.startswith("=?utf-8?b?")
    parsed = _parse(f"To: {value}\r\n\r\n".encode())
    assert parsed["To"].addresses[0].display_name == hostile
    assert parsed["To"].addresses[0].addr_spec == "a@example.org"


def test_to_is_one_bare_address():
    with pytest.raises(MailError):
        _message(to="Leser <leser@example.org>")
    with pytest.raises(MailError):
        build_message(
            sender="n@flensburg.example",
            to="a@example.org",
            subject="x",
            text="x",
            headers={"Bcc": "victim@example.org"},
        )


def test_arabic_subjects_keep_their_spaces_when_folded():
    subject = "أمسية ثقافية في المكتبة المركزية مع موسيقى وقراءات " * 3
    parsed = _parse(_message(subject=subject).as_bytes())
    assert str(parsed["Subject"]) == subject.strip()


def test_plain_ascii_stays_readable_and_lines_stay_short():
    value = fold_header("Subject", "Newsticker 12: " + "Sprachcafe am Mittwoch " * 6)
    assert "=?" not in value
    lines = value.split("\r\n")
    assert len(lines) > 1 and all(len(line) <= 78 for line in lines)
    assert all(line.startswith(" ") for line in lines[1:])


@given(st.text(max_size=300))
def test_any_text_round_trips_as_one_clean_subject(text):
    try:
        raw = _message(subject=text).as_bytes()
    except MailError:
        assert any(ch in text for ch in "\r\n\x0b\x0c\x85\u2028\u2029")
        return
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 78 for line in head.split(b"\r\n") if line.startswith(b" =?"))
    assert str(_parse(raw)["Subject"]) == clean_text(text)


@given(st.text(min_size=1, max_size=200))
def test_encoded_words_are_short_and_decode_to_the_text(text):
    value = encode_words(text)
    assert all(len(word.strip()) <= 75 for word in value.split("\r\n"))
    assert str(_parse(f"Subject: {value}\r\n\r\n".encode())["Subject"]) == text


def test_configured_senders_are_split_and_checked():
    assert parse_mailbox("Stadt Flensburg <n@flensburg.example>") == (
        "Stadt Flensburg",
        "n@flensburg.example",
    )
    assert parse_mailbox("n@flensburg.example") == ("", "n@flensburg.example")
    with pytest.raises(HeaderError):
        parse_mailbox("Stadt <n@flensburg.example>\r\nBcc: x@y.example")
